"""Live-control edits of a timeline keep its rules: exact phases, no overlapping speech."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from voicecoach import programs
from voicecoach.core.replan import (
    adjust_phase,
    cue_at,
    exercise_at,
    last_instruction,
    phase_at,
    resume_point,
)
from voicecoach.core.schedule import Options, build_timeline

TL = build_timeline(programs.load("inner-knee"))


def _no_overlap_after(tl, t):
    cues = [c for c in tl.cues if c.end_s > t]
    for a, b in zip(cues, cues[1:]):
        assert b.start_s >= a.end_s - 1e-6, (a, b)


@settings(max_examples=200, deadline=None)
@given(frac=st.floats(0, 1, exclude_max=True), delta=st.sampled_from([15.0, -15.0, 30.0, -45.0]))
@example(frac=0.6884207177931099, delta=-15.0)  # shortening a rest while its preview is being spoken
def test_adjust_keeps_rules(frac, delta):
    t = frac * TL.duration_s
    new, applied = adjust_phase(TL, t, delta)
    phase = phase_at(TL, t)
    if phase is None or phase.kind not in ("hold", "rest", "timed"):
        assert new is TL and applied == 0
        return
    assert new.duration_s == pytest.approx(TL.duration_s + applied)
    newp = phase_at(new, t)
    assert newp.end_s == pytest.approx(phase.end_s + applied)
    assert newp.end_s - t >= 5 - 1e-9
    if delta > 0:
        assert applied == delta
    _no_overlap_after(new, t)
    # The countdown still lands on the whole seconds before the new end.
    counts = [
        c for c in new.cues if c.kind == "countdown" and phase.start_s <= c.start_s < newp.end_s and c.start_s >= t
    ]
    for c in counts:
        assert c.start_s + int(c.text) == pytest.approx(newp.end_s)
    # The stop (or the next start) moved with the end; what follows moved by the same amount.
    later_old = [c.start_s for c in TL.cues if c.start_s >= phase.end_s - 1e-9]
    later_new = [c.start_s for c in new.cues if c.start_s >= newp.end_s - 1e-9]
    assert later_new == pytest.approx([x + applied for x in later_old])


def test_adjust_hold_by_example():
    hold = next(p for p in TL.phases if p.kind == "hold")
    t = hold.start_s + 2
    longer, d = adjust_phase(TL, t, 15)
    assert d == 15 and phase_at(longer, t).duration_s == pytest.approx(45)
    shorter, d = adjust_phase(TL, t, -15)
    assert d == -15 and phase_at(shorter, t).duration_s == pytest.approx(15)
    assert not any(c.text == "10 more seconds." and c.start_s < hold.start_s + 5 for c in shorter.cues)


def test_positions():
    setup = next(p for p in TL.phases if p.kind == "setup" and p.exercise_index == 2)
    assert exercise_at(TL, setup.start_s + 1) == 2
    assert exercise_at(TL, 0.5) is None
    cue = TL.cues[5]
    mid = (cue.start_s + cue.end_s) / 2
    assert cue_at(TL, mid) == cue and resume_point(TL, mid) == cue.start_s
    # In silence between cues, nothing sounds and a resume starts right there.
    before, after = next((a, b) for a, b in zip(TL.cues, TL.cues[1:]) if b.start_s - a.end_s > 0.5)
    gap = before.end_s + 0.1
    assert cue_at(TL, gap) is None and resume_point(TL, gap) == gap


def test_last_instruction_is_the_setup_text():
    hold = next(p for p in TL.phases if p.kind == "hold")
    cue = last_instruction(TL, hold.start_s + 5)
    assert cue.kind == "setup" and cue.text.startswith("Lie on your back")


def test_skip_timeline_has_no_intro():
    tl = build_timeline(programs.load("inner-knee"), Options(first_exercise=4, intro=""))
    assert tl.cues[0].kind == "setup" and tl.cues[0].text.startswith("Exercise 5 of 9")


def test_done_ends_a_self_paced_set_now_and_everything_after_keeps_its_offset():
    from voicecoach.core.planfile import parse_plan
    from voicecoach.core.replan import finish_paced, next_pace_point, pace_point
    from voicecoach.core.schedule import GAP_S

    plan = parse_plan(
        "title: P\nexercises:\n  - {name: A, setup: Sit., reps: 10, sets: 2, pace: self, estimate: 90}\n"
        "  - {name: B, setup: Lie down., hold: 20}\n"
    )
    tl = build_timeline(plan)
    first = next(p for p in tl.phases if p.self_paced)
    w = pace_point(tl, first)
    assert next_pace_point(tl, 0.0) == w and w > first.start_s
    new, at = finish_paced(tl, w)
    assert at == w
    delta = (w + GAP_S) - first.end_s
    later = [c for c in tl.cues if c.start_s >= first.end_s - 1e-9]
    assert [c.start_s for c in new.cues if c.start_s >= w + GAP_S - 1e-9] == pytest.approx(
        [c.start_s + delta for c in later]
    )
    assert new.duration_s == pytest.approx(tl.duration_s + delta)
    done = next(p for p in new.phases if p.start_s == first.start_s)
    assert not done.self_paced and done.end_s == pytest.approx(w + GAP_S)
    assert next_pace_point(new, at) > at  # the second set still waits
    assert adjust_phase(tl, w, 15.0) == (tl, 0.0)  # no clock to add time to


@settings(max_examples=150, deadline=None)
@given(data=st.data(), base=st.floats(0.05, 0.3), per_char=st.floats(0.03, 0.075))
def test_done_in_any_self_paced_set_keeps_it_clear_of_cues_and_every_later_offset(data, base, per_char):
    """Live, each self-paced set ends at "done" (during its opening words or at its wait point): the
    set never overlaps a cue but its opening, no two cues overlap, and every later cue keeps its
    offset from "done"."""
    from helpers.strategies import fake_voice, plans

    from voicecoach.core.replan import finish_paced, next_pace_point, pace_point
    from voicecoach.core.schedule import GAP_S

    plan = data.draw(plans(realistic=True, paced=True))
    tl = build_timeline(plan, Options(intro=""), fake_voice(base, per_char))
    t = 0.0
    while (w := next_pace_point(tl, t)) is not None:
        phase = phase_at(tl, w)
        assert phase is not None and phase.self_paced and pace_point(tl, phase) == w
        done = data.draw(st.floats(phase.start_s, w))  # the wait point, or a "done" said over the opening
        new, at = finish_paced(tl, done)
        assert at == w
        delta = at + GAP_S - phase.end_s
        later = [c for c in tl.cues if c.start_s >= phase.end_s - 1e-9]
        assert [c.start_s for c in new.cues[len(new.cues) - len(later) :]] == pytest.approx(
            [c.start_s + delta for c in later]
        )
        inside = [c for c in new.cues if phase.start_s + 1e-6 < c.end_s and c.start_s < at + GAP_S - 1e-6]
        assert [c.kind for c in inside] == ["start"], inside
        _no_overlap_after(new, 0.0)
        tl, t = new, at
    assert not any(p.self_paced for p in tl.phases)
