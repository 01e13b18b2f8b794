"""The plan model: what a session is made of, as pure frozen data.

A plan is loaded from YAML by :mod:`voicecoach.core.planfile`; this module only
describes it. Counts may be ranges ("2-3 sets"): :meth:`Dose.at` picks the
value for a level, the low end by default, because the sources advise
starting small. An :class:`ExerciseDose` is one point inside an exercise's
ranges (the training journal keeps one per exercise); :meth:`Plan.with_doses`
pins exercises to such points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

LEVELS = ("low", "mid", "high")

KINDS = ("hold", "reps", "timed")
SIDES = ("none", "each", "alternating")
FIRST_SIDES = ("right", "left")
PACES = ("clock", "self")  # "self": each set waits for the person's "done" (reps and minutes only)


@dataclass(frozen=True)
class Dose:
    """A count or a duration that may be a range, e.g. ``2-3`` or ``30``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        # Always floats, so "2" and "2.0" are the same dose (and int has no is_integer before 3.12).
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))

    @classmethod
    def fixed(cls, value: float) -> Dose:
        return cls(value, value)

    def at(self, level: str = "low") -> float:
        """The value for ``level``: low end, midpoint (rounded up) or high end."""
        if level == "high":
            return self.high
        if level == "mid":
            mid = (self.low + self.high) / 2
            # Whole counts stay whole: 2-3 sets at "mid" is 3, 10-15 reps is 13.
            return float(math.ceil(mid)) if self.low.is_integer() and self.high.is_integer() else mid
        return self.low

    def count(self, level: str = "low") -> int:
        return int(self.at(level))

    def __str__(self) -> str:
        def fmt(v: float) -> str:
            return str(int(v)) if v.is_integer() else f"{v:g}"

        return fmt(self.low) if self.low == self.high else f"{fmt(self.low)}-{fmt(self.high)}"


@dataclass(frozen=True)
class ExerciseDose:
    """How much of one exercise: sets, and the reps, hold or minutes of each (the one its kind uses)."""

    sets: int
    reps: int | None = None
    hold_s: float | None = None
    minutes: float | None = None


@dataclass(frozen=True)
class Tempo:
    """Seconds per phase of one repetition."""

    lift_s: float = 2.0
    hold: Dose = Dose.fixed(0.0)  # pause at the top; may be a range (bridge: 2-5 s)
    lower_s: float = 2.0

    def rep_s(self, level: str = "low") -> float:
        return self.lift_s + self.hold.at(level) + self.lower_s


@dataclass(frozen=True)
class Timing:
    """Rests and transitions, in seconds; plan defaults, overridable per exercise."""

    rest_between_sets_s: float = 15.0
    rest_after_s: float = 20.0  # rest after an exercise, before the next one
    switch_sides_s: float = 8.0
    get_ready_s: float = 5.0
    countdown: int = 3


@dataclass(frozen=True)
class Exercise:
    name: str
    kind: str  # one of KINDS
    setup: str
    sets: Dose = Dose.fixed(1)
    sides: str = "none"
    first_side: str = "right"
    hold_s: Dose | None = None  # kind "hold"
    reps: Dose | None = None  # kind "reps": per side
    tempo: Tempo = Tempo()
    minutes: Dose | None = None  # kind "timed"
    details: str | None = None  # longer instruction for first-time use
    equipment: tuple[str, ...] = ()
    timing: Timing = Timing()
    pace: str = "clock"  # one of PACES
    estimate_s: float | None = None  # pace "self": how long a set is taken to last where nothing can wait

    @property
    def self_paced(self) -> bool:
        return self.pace == "self"

    def paced_estimate_s(self, level: str = "low") -> float:
        """How long one self-paced set (one side) is taken to last: the plan's ``estimate``, else the
        time the dose would take on the clock (its repetitions at their tempo, or its minutes)."""
        if self.estimate_s is not None:
            return self.estimate_s
        if self.kind == "reps" and self.reps is not None:
            per_rep = self.tempo.rep_s(level) * (2 if self.sides == "alternating" else 1)
            return self.reps.count(level) * per_rep
        return (self.minutes.at(level) if self.minutes is not None else 1.0) * 60

    def side_order(self) -> tuple[str, ...]:
        other = "left" if self.first_side == "right" else "right"
        return (self.first_side, other)

    def at_dose(self, dose: ExerciseDose) -> Exercise:
        """This exercise pinned to ``dose`` (its ranges become single values; a field the kind
        does not use is ignored). The tempo's pause keeps its range, chosen by the level."""

        def pin(value: float | None, current: Dose | None) -> Dose | None:
            return Dose.fixed(value) if value is not None and current is not None else current

        return replace(
            self,
            sets=Dose.fixed(dose.sets),
            reps=pin(dose.reps, self.reps) if self.kind == "reps" else self.reps,
            hold_s=pin(dose.hold_s, self.hold_s) if self.kind == "hold" else self.hold_s,
            minutes=pin(dose.minutes, self.minutes) if self.kind == "timed" else self.minutes,
        )


@dataclass(frozen=True)
class Plan:
    title: str
    exercises: tuple[Exercise, ...]
    description: str = ""
    safety: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    source: str = ""  # file path or built-in name, for messages

    def with_doses(self, doses: Mapping[int, ExerciseDose]) -> Plan:
        """The plan with exercise ``i`` pinned to ``doses[i]`` (others unchanged)."""
        if not doses:
            return self
        return replace(
            self, exercises=tuple(ex.at_dose(doses[i]) if i in doses else ex for i, ex in enumerate(self.exercises))
        )

    def all_equipment(self) -> tuple[str, ...]:
        seen = dict.fromkeys(self.equipment)
        for ex in self.exercises:
            seen.update(dict.fromkeys(ex.equipment))
        return tuple(seen)
