"""The timeline: what is said when, as pure frozen data.

Times are seconds from the start of the session (``start_s``/``end_s``).
A :class:`Cue` is one spoken phrase (``end_s`` is when its speech ends);
a :class:`Phase` is a stretch of exactly timed activity (a hold, a rest...);
a :class:`Chapter` is a navigable section (one per exercise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

# Cue kinds: the "kind" of ``show --json`` and captions (a public contract).
CueKind = Literal[
    "intro",  # session introduction (what, how long, equipment, safety)
    "setup",  # exercise name, dose and how to set up
    "start",  # a hold / timed activity begins (anchored)
    "stop",  # a hold, set or timed activity ends (anchored)
    "countdown",  # the last seconds before a start or stop (anchored)
    "rep",  # one repetition begins (with its tempo word)
    "tempo",  # tempo words inside a repetition ("hold", "down")
    "switch",  # change sides
    "rest",  # rest announcement with a preview of what comes next
    "callout",  # time remaining during a long hold or timed activity
    "end",  # session end with the safety reminder
]
CUE_KINDS: tuple[CueKind, ...] = get_args(CueKind)

# Phase kinds: exact stretches of the session.
PhaseKind = Literal["intro", "setup", "hold", "reps", "timed", "rest", "switch", "end"]
PHASE_KINDS: tuple[PhaseKind, ...] = get_args(PhaseKind)


@dataclass(frozen=True)
class Cue:
    """One spoken phrase, optionally with an earcon at its start."""

    start_s: float
    end_s: float
    kind: CueKind
    text: str
    exercise: str | None = None
    set: int | None = None
    side: str | None = None
    earcon: str | None = None  # "start", "stop", "tick", "switch", "end" or None
    # Set by the scheduler: the cue may be dropped or moved when time is short
    # (callouts, tempo words, most repetition counts, rest previews); live edits obey it.
    droppable: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 6),
            "end_s": round(self.end_s, 6),
            "kind": self.kind,
            "text": self.text,
            "exercise": self.exercise,
            "set": self.set,
            "side": self.side,
        }


@dataclass(frozen=True)
class Phase:
    """A stretch of exactly timed activity.

    ``exercise_index`` is the 0-based position of the exercise in the plan
    (None for the session intro and end).
    """

    kind: PhaseKind
    start_s: float
    end_s: float
    exercise_index: int | None = None
    exercise: str | None = None
    set: int | None = None
    sets: int | None = None
    side: str | None = None
    # A set at the person's own pace: it lasts its estimate on a file or a sheet; live, the
    # coach waits after its opening cue for "done" (see voicecoach.core.replan.pace_point).
    self_paced: bool = False

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Chapter:
    start_s: float
    end_s: float
    title: str

    def to_json(self) -> dict[str, Any]:
        return {"start_s": round(self.start_s, 6), "end_s": round(self.end_s, 6), "title": self.title}


@dataclass(frozen=True)
class Timeline:
    """A whole session: cues sorted by start, phases in order, chapters."""

    title: str
    duration_s: float
    cues: tuple[Cue, ...]
    phases: tuple[Phase, ...] = ()
    chapters: tuple[Chapter, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``show --json`` document (its shape is a public contract)."""
        return {
            "title": self.title,
            "duration_s": round(self.duration_s, 6),
            "cues": [c.to_json() for c in self.cues],
            "chapters": [c.to_json() for c in self.chapters],
        }

    def texts(self) -> list[str]:
        """Distinct spoken texts, in first-use order."""
        return list(dict.fromkeys(c.text for c in self.cues))
