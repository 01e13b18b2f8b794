"""Pure edits of a timeline for live controls: where am I, and what if the hold were longer?

Everything here takes and returns frozen data, so the live controller stays
thin and these rules are tested without a sound card.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

from voicecoach.core.schedule import GAP_S
from voicecoach.core.timeline import Cue, Phase, Timeline

ADJUSTABLE = ("hold", "rest", "timed")
END_WINDOW_S = 10.0  # cues this close to a phase's end are tied to the end (countdown, "10 more seconds")
_EPS = 1e-9


def phase_at(timeline: Timeline, t: float) -> Phase | None:
    """The phase in progress at ``t`` (None between phases)."""
    for p in timeline.phases:
        if p.start_s - _EPS <= t < p.end_s:
            return p
    return None


def exercise_at(timeline: Timeline, t: float) -> int | None:
    """Index of the exercise whose chapter contains ``t`` (None in the intro or end)."""
    current = None
    for p in timeline.phases:
        if p.start_s > t + _EPS:
            break
        current = p.exercise_index if p.exercise_index is not None else (current if p.kind != "end" else None)
    return current


def exercise_start(timeline: Timeline, index: int) -> float | None:
    """When exercise ``index`` begins (its setup), if it is in this timeline."""
    return next((p.start_s for p in timeline.phases if p.exercise_index == index and p.kind == "setup"), None)


def cue_at(timeline: Timeline, t: float) -> Cue | None:
    """The cue sounding at ``t``, if any."""
    starts = [c.start_s for c in timeline.cues]
    i = bisect.bisect_right(starts, t + _EPS) - 1
    if i >= 0 and timeline.cues[i].end_s > t:
        return timeline.cues[i]
    return None


def resume_point(timeline: Timeline, t: float) -> float:
    """Where to continue after a pause at ``t``: the start of a cue cut off mid-word, else ``t``."""
    cue = cue_at(timeline, t)
    return cue.start_s if cue is not None else t


def last_instruction(timeline: Timeline, t: float) -> Cue | None:
    """The most recent instruction-like cue (setup, switch, rest, intro) at or before ``t``."""
    best = None
    for c in timeline.cues:
        if c.start_s > t + _EPS:
            break
        if c.kind in ("setup", "switch", "rest", "intro"):
            if best is not None and best.kind == "setup" and c.kind == "setup" and c.exercise == best.exercise:
                best = c  # the setup instruction itself, not its title line
                continue
            best = c
    return best


def adjust_phase(timeline: Timeline, t: float, delta_s: float, min_left_s: float = 5.0) -> tuple[Timeline, float]:
    """Add ``delta_s`` seconds to the hold, rest or timed activity in progress at ``t``.

    Cues tied to the phase's end (countdown, stop, the last callouts) and
    everything after it move by the same amount; the part already heard stays.
    A shortened phase keeps at least ``min_left_s`` seconds from ``t``; droppable
    cues of the phase that the shift would talk over are dropped. Returns the new
    timeline and the change actually applied (0 if no phase can be adjusted).
    """
    phase = phase_at(timeline, t)
    if phase is None or phase.kind not in ADJUSTABLE or phase.self_paced:  # a self-paced set has no clock
        return timeline, 0.0
    pivot = max(t, phase.end_s - END_WINDOW_S)
    tail = [c for c in timeline.cues if c.start_s >= pivot - _EPS]
    # Nothing moved may talk over the cue sounding now, and cues that never drop
    # (countdown, stop, the next start) must still be said: they bound the shortening.
    sounding = cue_at(timeline, t)
    busy = max(t, sounding.end_s if sounding is not None else t)
    delta = max(delta_s, t + min_left_s - phase.end_s)
    fixed = [c.start_s for c in tail if not c.droppable]
    if fixed:
        delta = max(delta, busy + GAP_S - min(fixed))
    new_end = phase.end_s + delta
    if abs(delta) < _EPS:
        return timeline, 0.0
    moved = [replace(c, start_s=c.start_s + delta, end_s=c.end_s + delta) for c in tail]
    # A droppable cue pulled back over what is being said now is dropped.
    moved = [c for c in moved if not c.droppable or c.start_s >= busy + GAP_S - _EPS]
    kept = [c for c in timeline.cues if c.start_s < pivot - _EPS]
    if moved and delta < 0:
        # Earlier cues the moved ones would now talk over are dropped (they are
        # inside the shortened phase: callouts, a rest preview).
        first = moved[0].start_s
        kept = [c for c in kept if c.end_s + GAP_S <= first + _EPS or c.start_s < t]
    cues = tuple(kept + moved)

    def shift(p: Phase) -> Phase:
        if p is phase:
            return replace(p, end_s=new_end)
        if p.start_s >= phase.end_s - _EPS:
            return replace(p, start_s=p.start_s + delta, end_s=p.end_s + delta)
        return p

    def shift_t(x: float) -> float:
        return x + delta if x >= phase.end_s - _EPS else x

    chapters = tuple(replace(ch, start_s=shift_t(ch.start_s), end_s=shift_t(ch.end_s)) for ch in timeline.chapters)
    return replace(
        timeline,
        cues=cues,
        phases=tuple(shift(p) for p in timeline.phases),
        chapters=chapters,
        duration_s=timeline.duration_s + delta,
    ), delta


# -- self-paced sets --------------------------------------------------------------------------------


def pace_point(timeline: Timeline, phase: Phase) -> float:
    """Where a live session waits in a self-paced ``phase``: as its opening words end."""
    opening = next((c for c in timeline.cues if abs(c.start_s - phase.start_s) < 1e-6 and c.kind == "start"), None)
    return opening.end_s if opening is not None else phase.start_s


def next_pace_point(timeline: Timeline, t: float) -> float | None:
    """The first wait for "done" at or after ``t`` (None: no self-paced set is left)."""
    for p in timeline.phases:
        if p.self_paced and p.end_s > t + _EPS:
            w = pace_point(timeline, p)
            if w >= t - 1e-6:
                return w
    return None


def paced_phase_at(timeline: Timeline, t: float) -> Phase | None:
    """The self-paced set in progress at ``t``, if any (a done set is no longer self-paced)."""
    phase = phase_at(timeline, t)
    return phase if phase is not None and phase.self_paced else None


def finish_paced(timeline: Timeline, t: float) -> tuple[Timeline, float]:
    """ "Done" at ``t`` in a self-paced set: the set ends now, and its stop, the rest after it and
    everything later keep their exact offsets from that moment (as :func:`adjust_phase` moves them).

    Returns the new timeline and where to play from (the end of its opening words, if ``t`` is
    inside them). The set is marked done (no longer self-paced), so the session waits no more there.
    """
    phase = paced_phase_at(timeline, t)
    if phase is None:
        return timeline, t
    at = max(t, pace_point(timeline, phase))
    new_end = at + GAP_S
    delta = new_end - phase.end_s

    def shift_t(x: float) -> float:
        return x + delta if x >= phase.end_s - _EPS else x

    cues = tuple(
        replace(c, start_s=c.start_s + delta, end_s=c.end_s + delta) if c.start_s >= phase.end_s - _EPS else c
        for c in timeline.cues
    )

    def shift(p: Phase) -> Phase:
        if p is phase:
            return replace(p, end_s=new_end, self_paced=False)
        return replace(p, start_s=shift_t(p.start_s), end_s=shift_t(p.end_s))

    chapters = tuple(replace(ch, start_s=shift_t(ch.start_s), end_s=shift_t(ch.end_s)) for ch in timeline.chapters)
    edited = replace(
        timeline,
        cues=cues,
        phases=tuple(shift(p) for p in timeline.phases),
        chapters=chapters,
        duration_s=timeline.duration_s + delta,
    )
    return edited, at
