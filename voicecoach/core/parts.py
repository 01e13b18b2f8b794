"""A session in parts: scheduling it exactly before every phrase has been synthesized.

A live session starts speaking while the rest of its phrases are still being
synthesized, so its timeline is built from the lengths known so far (the
estimate for the others). That is exact up to a point: a *part* is a stretch
of the session whose timing depends only on its own phrases and those of the
parts before it, because each part begins with a flexible window that starts
when the speech before it has ended:

* each line of the introduction;
* each exercise, from its setup instruction to the end of the rest after it
  (the rest's preview of the next exercise must end before the next setup);
* the end of the session.

So once the phrases of parts 0..k-1 are known, everything before the start of
part k (the *horizon*) is final: cue times there never move again, whatever
the later phrases turn out to be. The tests check this as a property
(tests/test_parts.py). Pure: no I/O, no audio.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from voicecoach.core.plan import Plan
from voicecoach.core.replan import exercise_start
from voicecoach.core.schedule import Options, build_timeline, estimate_speech_s, phrases_by_part
from voicecoach.core.timeline import Chapter, Phase, Timeline

KnownLength = Callable[[str], float | None]
_EPS = 1e-9


@dataclass(frozen=True)
class Part:
    """One part of a session: ``kind`` "intro" (``index``: its line), "exercise" (``index``: in the plan) or
    "end"; ``texts``: every phrase the scheduler may ask for in it."""

    kind: str
    index: int
    texts: tuple[str, ...]


def parts(plan: Plan, options: Options) -> tuple[Part, ...]:
    """The parts of the session ``plan`` + ``options`` schedules, in the order they are heard."""
    return tuple(Part(kind, i, tuple(texts)) for kind, i, texts in phrases_by_part(plan, options))


def part_start(timeline: Timeline, part: Part) -> float:
    """When ``part`` begins in ``timeline`` (a timeline of the same plan and options)."""
    if part.kind == "intro":
        intro = [c for c in timeline.cues if c.kind == "intro"]
        return intro[part.index].start_s
    if part.kind == "exercise":
        start = exercise_start(timeline, part.index)
        if start is None:
            raise ValueError(f"exercise {part.index} is not in this timeline")
        return start
    return next(p.start_s for p in timeline.phases if p.kind == "end")


def partial_timeline(
    plan: Plan, options: Options, known: KnownLength, session_parts: tuple[Part, ...] | None = None
) -> tuple[Timeline, int]:
    """The timeline with every known length (the estimate for the rest), and how many parts are ready.

    ``known(text)`` is the phrase's real length, or None while it is not
    synthesized. The first ``ready`` parts have every phrase known: the
    timeline is final up to :func:`horizon`.
    """
    session_parts = parts(plan, options) if session_parts is None else session_parts
    lengths: dict[str, float | None] = {}

    def real(text: str) -> float | None:
        if text not in lengths:
            lengths[text] = known(text)
        return lengths[text]

    ready = 0
    for part in session_parts:
        if not all(real(t) is not None for t in part.texts):
            break
        ready += 1

    def length(text: str) -> float:
        n = real(text)
        return estimate_speech_s(text) if n is None else n

    return build_timeline(plan, options, length), ready


def horizon(timeline: Timeline, session_parts: tuple[Part, ...], ready: int) -> float:
    """Up to when ``timeline`` is final, with the first ``ready`` parts known: the start of the next part."""
    if ready >= len(session_parts):
        return timeline.duration_s
    return part_start(timeline, session_parts[ready])


def stitch(current: Timeline, new: Timeline, part: Part) -> Timeline:
    """``current`` up to the start of ``part``, then ``new`` from there on.

    ``current`` may have been edited by live controls (a longer hold moves
    everything after it); ``new`` is a fresh schedule of the same session that
    knows more phrases. The part of ``new`` that follows is shifted to start
    where ``part`` starts in ``current``, so what has been heard stays as it
    was and the edits carry over.
    """
    cut, at = part_start(current, part), part_start(new, part)
    shift = cut - at

    def moved(x: float) -> float:
        return x + shift

    cues = [c for c in current.cues if c.start_s < cut - _EPS]
    cues += [replace(c, start_s=moved(c.start_s), end_s=moved(c.end_s)) for c in new.cues if c.start_s >= at - _EPS]
    return replace(
        current,
        duration_s=moved(new.duration_s),
        cues=tuple(cues),
        phases=_spliced(current.phases, new.phases, at, shift),
        chapters=_spliced(current.chapters, new.chapters, at, shift),
    )


Span = TypeVar("Span", Phase, Chapter)


def _spliced(mine: tuple[Span, ...], theirs: tuple[Span, ...], at: float, shift: float) -> tuple[Span, ...]:
    """Spans (phases or chapters) of ``mine`` that begin before the cut, then those of ``theirs`` after it.

    The spans begun before the cut are the same in both, in the same order;
    one that runs across the cut (the introduction while its second line is
    unknown) takes its end from ``theirs``.
    """
    out: list[Span] = []
    for a, b in zip(mine, theirs):
        if b.start_s >= at - _EPS:
            break
        out.append(replace(a, end_s=b.end_s + shift) if b.end_s > at + _EPS else a)
    out += [replace(b, start_s=b.start_s + shift, end_s=b.end_s + shift) for b in theirs if b.start_s >= at - _EPS]
    return tuple(out)
