"""The scheduler's rules, by example and as properties over random plans and voices."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from helpers.strategies import fake_voice, options, plans
from helpers.timeline_rules import assert_rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach import programs
from voicecoach.core.plan import Dose, Exercise, Plan, Tempo
from voicecoach.core.schedule import MIN_PACED_S, Options, build_timeline, estimate_speech_s
from voicecoach.errors import ScheduleError

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(data=st.data(), base=st.floats(0.0, 1.0), per_char=st.floats(0.0, 0.3))
def test_any_voice_gives_valid_timeline_or_clear_error(data, base, per_char):
    """Whatever the speech lengths: either every rule holds, or a ScheduleError explains why."""
    plan = data.draw(plans())
    opts = data.draw(options(plan))
    try:
        tl = build_timeline(plan, opts, fake_voice(base, per_char))
    except ScheduleError as exc:
        assert "too slow" in exc.message
        return
    assert_rules(plan, opts, tl)


@PROPS
@given(data=st.data(), base=st.floats(0.05, 0.3), per_char=st.floats(0.03, 0.075))
def test_realistic_voices_always_fit(data, base, per_char):
    """Voices between about 120 and 300 words a minute never make scheduling fail."""
    plan = data.draw(plans(realistic=True))
    opts = data.draw(options(plan))
    tl = build_timeline(plan, opts, fake_voice(base, per_char))
    assert_rules(plan, opts, tl)


@PROPS
@given(data=st.data(), slow=st.floats(0.04, 0.08), fast=st.floats(0.02, 0.04))
def test_speech_length_never_changes_exact_phases(data, slow, fast):
    """A slower voice may lengthen setup windows, never a hold, rest or set."""
    plan = data.draw(plans(realistic=True))
    a = build_timeline(plan, Options(), fake_voice(0.1, slow))
    b = build_timeline(plan, Options(), fake_voice(0.1, fast))
    exact = ("hold", "reps", "timed", "rest")
    da = [(p.kind, round(p.duration_s, 6)) for p in a.phases if p.kind in exact]
    db = [(p.kind, round(p.duration_s, 6)) for p in b.phases if p.kind in exact]
    assert da == db
    assert a.duration_s >= b.duration_s - 1e-6


@pytest.mark.parametrize("name", ["inner-knee", "medial-knee"], ids=str)
@pytest.mark.parametrize("level", ["low", "mid", "high"], ids=str)
def test_builtin_timelines_obey_rules(name, level):
    plan = programs.load(name)
    opts = Options(level=level)
    tl = build_timeline(plan, opts)
    assert_rules(plan, opts, tl)
    # Deterministic: the same inputs give the same session, to the microsecond.
    assert json.dumps(build_timeline(plan, opts).to_json()) == json.dumps(tl.to_json())


def test_hold_is_exact_whatever_the_voice_says():
    plan = Plan("T", (Exercise("Stretch", "hold", "Sit.", hold_s=Dose.fixed(30)),))
    for voice in (fake_voice(0.1, 0.03), fake_voice(0.3, 0.07)):
        tl = build_timeline(plan, Options(), voice)
        start = next(c for c in tl.cues if c.kind == "start")
        stop = next(c for c in tl.cues if c.kind == "stop")
        assert stop.start_s - start.start_s == pytest.approx(30, abs=1e-9)
        counts = [(c.text, c.start_s) for c in tl.cues if c.kind == "countdown" and c.start_s > start.start_s]
        assert [t for t, _ in counts] == ["3", "2", "1"]
        assert [s for _, s in counts] == pytest.approx([stop.start_s - 3, stop.start_s - 2, stop.start_s - 1])


def test_slow_voice_drops_callouts_first():
    # A 20 s hold: "10 more seconds" at 10 s fits a normal voice; a very slow one loses it, never the countdown.
    plan = Plan("T", (Exercise("Stretch", "hold", "Sit.", hold_s=Dose.fixed(20)),))
    normal = build_timeline(plan, Options(), fake_voice(0.1, 0.05, 0))
    assert any(c.kind == "callout" for c in normal.cues)

    def slow(text: str) -> float:
        return 0.5 if len(text) <= 2 else 0.9 if len(text) <= 12 else 8.0

    tl = build_timeline(plan, Options(), slow)
    assert not any(c.kind == "callout" for c in tl.cues)
    assert [c.text for c in tl.cues if c.kind == "countdown"][-3:] == ["3", "2", "1"]


def test_setup_window_grows_to_fit_instruction():
    plan = Plan("T", (Exercise("Stretch", "hold", "Sit. " * 40, hold_s=Dose.fixed(10)),))
    tl = build_timeline(plan, Options(), estimate_speech_s)
    setup = next(p for p in tl.phases if p.kind == "setup")
    longest = max(c.end_s for c in tl.cues if c.kind == "setup")
    assert setup.end_s >= longest + 5  # get-ready time after the words


def test_too_slow_voice_is_a_clear_error():
    plan = Plan("T", (Exercise("Stretch", "hold", "Sit.", hold_s=Dose.fixed(10)),))
    with pytest.raises(ScheduleError) as info:
        build_timeline(plan, Options(), lambda text: 1.5)  # every word, even "3", takes 1.5 s
    assert "--rate" in info.value.render()


def test_alternating_reps_name_the_side_each_time():
    ex = Exercise(
        "Leg raise", "reps", "Sit.", reps=Dose.fixed(3), sides="alternating", tempo=Tempo(2, Dose.fixed(1), 2)
    )
    tl = build_timeline(Plan("T", (ex,)), Options(), fake_voice(0.1, 0.05, 0))
    assert [c.text for c in tl.cues if c.kind == "rep"] == [
        "Right, 1.",
        "Left, 1.",
        "Right, 2.",
        "Left, 2.",
        "Right, 3.",
        "Left, 3.",
    ]
    assert [c.side for c in tl.cues if c.kind == "rep"] == ["right", "left"] * 3


def test_each_side_does_all_sets_then_switches():
    ex = Exercise("Stretch", "hold", "Sit.", hold_s=Dose.fixed(10), sets=Dose.fixed(2), sides="each", first_side="left")
    tl = build_timeline(Plan("T", (ex,)), Options(), fake_voice(0.1, 0.05, 0))
    holds = [(p.set, p.side) for p in tl.phases if p.kind == "hold"]
    assert holds == [(1, "left"), (2, "left"), (1, "right"), (2, "right")]
    assert [c.text for c in tl.cues if c.kind == "switch"] == ["Switch sides. Now your right side."]
    assert any("set 2 of 2" in c.text for c in tl.cues if c.kind == "rest")


def test_rest_previews_next_exercise():
    a = Exercise("Alpha", "hold", "Sit.", hold_s=Dose.fixed(10))
    b = Exercise("Beta", "reps", "Lie down.", reps=Dose.fixed(5))
    tl = build_timeline(Plan("T", (a, b)), Options(), fake_voice(0.1, 0.05, 0))
    assert any(c.kind == "rest" and "Next up: Beta" in c.text for c in tl.cues)


def test_intro_states_length_and_equipment():
    tl = build_timeline(programs.load("inner-knee"))
    intro = tl.cues[0].text
    assert intro.startswith("Inner knee pain. 9 exercises, about ")
    minutes = int(intro.split("about ")[1].split()[0])
    assert abs(minutes - tl.duration_s / 60) <= 1
    assert "strap" in intro


def test_start_at_a_later_exercise():
    plan = programs.load("medial-knee")
    tl = build_timeline(plan, Options(first_exercise=3))
    assert "Starting at exercise 4: Dynamic knee bends." in tl.cues[0].text
    assert [c.title for c in tl.chapters][1] == "Dynamic knee bends"
    with pytest.raises(ScheduleError):
        build_timeline(plan, Options(first_exercise=6))


@pytest.mark.parametrize("tamper", ["move_stop", "overlap", "drop_countdown", "shift_countdown"], ids=str)
def test_rule_checks_catch_broken_timelines(tamper):
    """The rule checker itself must fail on timelines that break the rules."""
    from dataclasses import replace

    plan = programs.load("medial-knee")
    tl = build_timeline(plan)
    cues = list(tl.cues)
    if tamper == "move_stop":
        i = next(i for i, c in enumerate(cues) if c.kind == "stop")
        cues[i] = replace(cues[i], start_s=cues[i].start_s + 0.1, end_s=cues[i].end_s + 0.1)
    elif tamper == "overlap":
        i = next(i for i, c in enumerate(cues) if c.kind == "rest")
        cues[i] = replace(cues[i], end_s=cues[i + 1].start_s + 0.5)
    elif tamper == "drop_countdown":
        i = next(i for i, c in enumerate(cues) if c.kind == "countdown" and c.text == "2")
        del cues[i]
    else:
        i = next(i for i, c in enumerate(cues) if c.kind == "countdown")
        cues[i] = replace(cues[i], start_s=cues[i].start_s - 0.05)
    with pytest.raises(AssertionError):
        assert_rules(plan, Options(), replace(tl, cues=tuple(cues)))


@pytest.mark.parametrize("name", programs.builtin_names(), ids=str)
def test_phase_and_cue_kinds_are_the_documented_ones(name):
    from voicecoach.core.timeline import CUE_KINDS, PHASE_KINDS

    tl = build_timeline(programs.load_builtin(name), Options(level="high"))
    assert {p.kind for p in tl.phases} <= set(PHASE_KINDS)
    assert "switch" in {p.kind for p in tl.phases}  # both programs have exercises on each side
    assert {c.kind for c in tl.cues} <= set(CUE_KINDS)


# -- self-paced sets ----------------------------------------------------------------------------


@PROPS
@given(data=st.data(), base=st.floats(0.05, 0.3), per_char=st.floats(0.03, 0.075))
def test_self_paced_sets_hold_no_cue_but_their_opening(data, base, per_char):
    """A self-paced set is its opening words and its stop: no cue inside (assert_rules checks it)."""
    plan = data.draw(plans(realistic=True, paced=True))
    opts = data.draw(options(plan))
    tl = build_timeline(plan, opts, fake_voice(base, per_char))
    assert_rules(plan, opts, tl)
    marked = {p.exercise_index for p in tl.phases if p.self_paced}
    assert marked == {i for i, ex in enumerate(plan.exercises) if ex.self_paced and i >= opts.first_exercise}


@PROPS
@given(data=st.data(), more=st.floats(1, 120))
def test_estimates_add_up_in_the_total(data, more):
    """A longer estimate lengthens the session by exactly that much per self-paced set."""
    plan = data.draw(plans(realistic=True, paced=True))
    paced = [i for i, ex in enumerate(plan.exercises) if ex.self_paced]
    if not paced:
        return
    i = data.draw(st.sampled_from(paced))
    ex = plan.exercises[i]
    longer = Plan(
        plan.title,
        tuple(
            replace(e, estimate_s=e.paced_estimate_s() + more) if j == i else e for j, e in enumerate(plan.exercises)
        ),
        safety=plan.safety,
    )
    shorter = Plan(
        plan.title,
        tuple(replace(e, estimate_s=e.paced_estimate_s()) if j == i else e for j, e in enumerate(plan.exercises)),
        safety=plan.safety,
    )
    a = build_timeline(shorter, Options(intro=""), fake_voice(0.1, 0.05))
    b = build_timeline(longer, Options(intro=""), fake_voice(0.1, 0.05))
    sets = sum(p.self_paced and p.exercise_index == i for p in a.phases)
    assert sets == ex.sets.count() * (2 if ex.sides == "each" else 1)
    est = ex.paced_estimate_s()
    each = max(MIN_PACED_S, est + more) - max(MIN_PACED_S, est)
    assert b.duration_s == pytest.approx(a.duration_s + sets * each)


SELF_PACED = """\
title: Own pace
exercises:
  - {name: Sit to stand, setup: Sit at the front of a chair., reps: 10, sets: 2, pace: self, estimate: 60}
  - {name: Walk, setup: Walk to the wall and back., minutes: 2, pace: self}
  - {name: Steps, setup: Step up and down., reps: 5, sides: each, pace: self}
"""


def test_self_paced_sets_last_their_estimate_and_each_side_waits():
    from voicecoach.core.planfile import parse_plan

    plan = parse_plan(SELF_PACED)
    tl = build_timeline(plan)
    paced = [p for p in tl.phases if p.self_paced]
    assert [(p.exercise, p.set, p.side, round(p.duration_s, 6)) for p in paced] == [
        ("Sit to stand", 1, None, 60.0),
        ("Sit to stand", 2, None, 60.0),
        ("Walk", 1, None, 120.0),  # no estimate: its minutes
        ("Steps", 1, "right", 20.0),  # no estimate: its repetitions at their tempo, one side
        ("Steps", 1, "left", 20.0),
    ]
    assert not any(c.kind in ("rep", "callout") for c in tl.cues)  # no counting, no clock
    assert "I will wait until you are done." in tl.cues[0].text
    exported = build_timeline(plan, Options(for_file=True))
    assert "if you need more time, pause the player." in exported.cues[0].text
    assert sum("pause the player" in c.text for c in exported.cues) == 1
    assert exported.duration_s == pytest.approx(tl.duration_s, abs=5)  # only the introduction differs


def test_a_plan_without_pace_has_no_self_paced_phase_and_no_note():
    plan = programs.load("inner-knee")
    tl = build_timeline(plan)
    assert not any(p.self_paced for p in tl.phases)
    assert build_timeline(plan, Options(for_file=True)) == tl


@PROPS
@given(data=st.data())
def test_show_marks_every_self_paced_set_with_its_estimate(data):
    """The sheet `show` prints: one mark per self-paced set (each side) with its estimate, and a total
    called an estimate exactly when there are some (test_estimates_add_up_in_the_total: the sum)."""
    from voicecoach.core.sheet import format_duration, render_sheet, total_line

    plan = data.draw(plans(realistic=True, paced=True))
    tl = build_timeline(plan, Options(intro=""), fake_voice(0.1, 0.05))
    paced = [p for p in tl.phases if p.self_paced]
    marks = [line for line in render_sheet(tl).splitlines() if "[own pace, about " in line]
    assert len(marks) == len(paced)
    for line, p in zip(marks, paced):
        assert line.endswith(f"[own pace, about {format_duration(p.duration_s)}]"), (line, p)
    assert total_line(tl).endswith("(an estimate: some sets go at your own pace)") == bool(paced)
