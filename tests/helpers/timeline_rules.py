"""Checks of the scheduler's rules on a finished timeline (shared by several tests)."""

from __future__ import annotations

from voicecoach.core.plan import Plan
from voicecoach.core.schedule import MIN_HOLD_S, MIN_PACED_S, MIN_REST_S, Options
from voicecoach.core.timeline import Timeline

EPS = 1e-6


def _near(a: float, b: float) -> bool:
    return abs(a - b) < EPS


def assert_rules(plan: Plan, options: Options, tl: Timeline) -> None:
    """Rules 1-3 of the scheduler, and the timeline's own consistency."""
    cues = tl.cues
    # Rule 2: spoken cues never overlap.
    for a, b in zip(cues, cues[1:]):
        assert b.start_s >= a.end_s - EPS, (
            f"{a.text!r} ({a.start_s:.3f}-{a.end_s:.3f}) overlaps {b.text!r} at {b.start_s:.3f}"
        )
    assert all(c.end_s >= c.start_s for c in cues)
    assert cues[-1].end_s <= tl.duration_s + EPS
    starts = {round(c.start_s, 6): c for c in cues if c.kind in ("start", "rep")}
    stops = {round(c.start_s, 6): c for c in cues if c.kind == "stop"}
    lvl = options.level
    phases = tl.phases
    for p, nxt in zip(phases, phases[1:]):
        assert nxt.start_s >= p.end_s - EPS, (p, nxt)
    for p in phases:
        ex = plan.exercises[p.exercise_index] if p.exercise_index is not None else None
        extra = sum(s for i, s in options.adjust_s if i == p.exercise_index)
        if p.kind in ("hold", "timed", "reps"):
            if p.self_paced:
                want = max(MIN_PACED_S, ex.paced_estimate_s(lvl))
            elif p.kind == "hold":
                want = max(MIN_HOLD_S, ex.hold_s.at(lvl) + extra)
            elif p.kind == "timed":
                want = max(30.0, ex.minutes.at(lvl) * 60 + extra)
            else:
                n = ex.reps.count(lvl) * (2 if ex.sides == "alternating" else 1)
                want = n * ex.tempo.rep_s(lvl)
            # Rule 1 / 3: exact length, opened and closed by never-dropped cues.
            assert _near(p.duration_s, want), (p, want)
            opener = starts.get(round(p.start_s, 6))
            assert opener is not None and opener.exercise == ex.name, p
            assert opener.kind == ("rep" if p.kind == "reps" and not p.self_paced else "start")
            closer = stops.get(round(p.end_s, 6))
            assert closer is not None and closer.exercise == ex.name, p
        elif p.kind == "rest":
            between_sets = p.set is not None
            want = (
                max(MIN_REST_S, ex.timing.rest_between_sets_s + extra)
                if between_sets
                else max(0.0, ex.timing.rest_after_s + extra)
            )
            assert _near(p.duration_s, want), (p, want)
            assert round(p.start_s, 6) in stops  # a rest begins when the activity stops
            if between_sets:
                assert round(p.end_s, 6) in starts  # and ends as the next set starts
    # Countdown numbers fall exactly on the whole seconds before a phase boundary, ending with 1.
    ends = {round(p.end_s, 6) for p in phases}
    for c in cues:
        if c.kind == "countdown":
            k = int(c.text)
            assert round(c.start_s + k, 6) in ends, c
            if k > 1:
                assert any(_near(d.start_s, c.start_s + 1) and d.text == str(k - 1) for d in cues), c
    # Never-dropped cues: one start per hold/timed phase, one stop per activity.
    acts = [p for p in phases if p.kind in ("hold", "timed", "reps")]
    assert sum(c.kind == "start" for c in cues) == sum(p.kind != "reps" or p.self_paced for p in acts)
    # A self-paced set: its opening words, then nothing until its stop (the live session waits there).
    for p in acts:
        if p.self_paced:
            inside = [c for c in cues if p.start_s + EPS < c.end_s and c.start_s < p.end_s - EPS]
            assert [c.kind for c in inside] == ["start"], (p, inside)
    assert sum(c.kind == "stop" for c in cues) == len(acts)
    # Setup windows hold their speech.
    for p in phases:
        if p.kind == "setup":
            inside = [c for c in cues if c.kind == "setup" and c.exercise == p.exercise]
            assert inside and all(p.start_s - EPS <= c.start_s and c.end_s <= p.end_s + EPS for c in inside)
    # Chapters: contiguous from 0 to the end, one per exercise in order, named after it.
    ch = tl.chapters
    assert _near(ch[0].start_s, 0) and _near(ch[-1].end_s, tl.duration_s)
    for a, b in zip(ch, ch[1:]):
        assert _near(a.end_s, b.start_s) and a.end_s > a.start_s
    names = [e.name for e in plan.exercises[options.first_exercise :]]
    assert [c.title for c in ch if c.title not in ("Introduction", "Finish")] == names
