"""Plan files: valid plans parse; every malformed plan gets located errors, never a traceback."""

from __future__ import annotations

import pytest
from helpers.files import BAD_PLANS as BAD

from voicecoach.core.planfile import PlanError, parse_plan
from voicecoach.programs import load_plan_file

# fixture -> every problem expected, as (line, column, fragment of the message)
EXPECTED = {
    "01_empty.yaml": [(1, 1, "the plan is empty")],
    "02_yaml_syntax.yaml": [(6, 1, "quoted scalar, which began at line 4, column 12")],
    "03_bad_indent.yaml": [(4, 11, "not valid YAML: mapping values are not allowed")],
    "04_top_is_list.yaml": [(1, 1, "the plan must be a mapping")],
    "05_unknown_top_key.yaml": [
        (1, 1, "no 'exercises'"),
        (2, 1, "unknown key 'exercise' in the plan; did you mean 'exercises'?"),
    ],
    "06_typo_hodl.yaml": [
        (3, 5, "needs exactly one of hold, reps or minutes"),
        (5, 5, "unknown key 'hodl' in exercise 1 (Inner thigh stretch); did you mean 'hold'?"),
    ],
    "07_no_title.yaml": [(1, 1, "no 'title'")],
    "08_no_exercises.yaml": [(1, 1, "no 'exercises'")],
    "09_empty_exercises.yaml": [(2, 12, "exercises must be a non-empty list")],
    "10_missing_name.yaml": [(3, 5, "exercise 1 has no 'name'")],
    "11_missing_setup.yaml": [(3, 5, "has no 'setup' instruction")],
    "12_two_kinds.yaml": [(5, 5, "exactly one of hold, reps or minutes (found hold, reps)")],
    "13_backwards_range.yaml": [(5, 11, "reps range '15-10' goes backwards")],
    "14_zero_sets.yaml": [(6, 11, "sets 0 is out of range")],
    "15_huge_hold.yaml": [(5, 11, "hold must be a number or a range like 20-30, not '1e300'")],
    "16_negative_rest.yaml": [(3, 22, "rest_between_sets -5 is out of range")],
    "17_bad_sides.yaml": [(6, 12, "sides must be one of none, each, alternating, not 'both'")],
    "18_duplicate_key.yaml": [(6, 5, "duplicate key 'reps'")],
    "19_python_tag.yaml": [(1, 8, "title must be non-empty text")],
    "20_fractional_reps.yaml": [(5, 11, "reps must be whole numbers, not '10.5'")],
    "21_text_not_number.yaml": [(5, 11, "not 'thirty'")],
    "22_bool_number.yaml": [(5, 11, "hold must be a number")],
    "23_unknown_tempo_key.yaml": [(6, 22, "unknown key 'pause' in tempo")],
    "24_alternating_hold.yaml": [(6, 12, "'alternating' is for repetitions")],
    "25_countdown_too_long.yaml": [(6, 5, "countdown (5) is longer than get_ready (3 s)")],
    "26_exercise_not_mapping.yaml": [(3, 5, "exercise 1 must be a mapping")],
    "27_timed_with_sides.yaml": [(6, 12, "is timed (minutes), so it cannot have sides")],
    "28_empty_name.yaml": [(3, 11, "name must be non-empty text")],
    "29_many_problems.yaml": [(5, 11, "hold 0 is out of range"), (9, 11, "sets 99 is out of range")],
    "30_tab_indent.yaml": [(3, 1, "found character '\\t'")],
    "31_not_utf8.yaml": [(1, 15, "not UTF-8")],
    "32_self_paced_hold.yaml": [(6, 11, "holds a position; 'pace: self' is for reps and minutes")],
    "33_bad_pace.yaml": [(6, 11, "pace must be one of clock, self, not 'slow'")],
    "34_estimate_without_pace.yaml": [(6, 5, "'estimate' is for self-paced sets")],
    "35_estimate_too_short.yaml": [(7, 15, "estimate 5 is out of range")],
    "36_bad_default_pace.yaml": [(3, 9, "pace must be one of clock, self, not 'slow'")],
    "37_default_estimate_nothing_self_paced.yaml": [(3, 3, "defaults: 'estimate' is for self-paced sets")],
    "38_default_pace_and_holds.yaml": [
        (10, 5, "exercise 2 (Bridge): 'estimate' is for self-paced sets"),
        (14, 11, "exercise 3 (Calf stretch) holds a position; 'pace: self' is for reps and minutes"),
    ],
    "39_default_estimate_too_long.yaml": [(2, 34, "estimate 7200 is out of range")],
}


def test_every_fixture_has_expectations():
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda n: n[:-5])
def test_bad_plan_is_located(name: str):
    path = BAD / name
    with pytest.raises(PlanError) as info:
        load_plan_file(path)
    err = info.value
    got = [(p.line, p.column, p.message) for p in err.problems]
    want = EXPECTED[name]
    assert len(got) == len(want), got
    for (line, col, msg), (wline, wcol, frag) in zip(got, want):
        assert (line, col) == (wline, wcol), (msg, got)
        assert frag in msg
    text = err.render()
    # Every problem starts a line "file:line:column: message".
    for line, col, _ in got:
        assert f"{path}:{line}:{col}: " in text
    assert "Traceback" not in text


def test_rendered_error_has_caret_under_the_column():
    with pytest.raises(PlanError) as info:
        load_plan_file(BAD / "06_typo_hodl.yaml")
    lines = info.value.render().splitlines()
    i = next(i for i, l in enumerate(lines) if "'hodl'" in l and l.startswith(str(BAD)))
    source, caret = lines[i + 1], lines[i + 2]
    assert source.strip() == "hodl: 30"
    assert caret.index("^") == source.index("hodl")
    assert "valid keys:" in lines[i + 3]


def test_python_tags_never_run(tmp_path):
    marker = tmp_path / "pwned"
    text = f'title: !!python/object/apply:os.system ["touch {marker}"]\nexercises: []\n'
    with pytest.raises(PlanError):
        parse_plan(text)
    assert not marker.exists()


MINIMAL = """\
title: Quick
safety: Stop if it hurts.
defaults: {rest_between_sets: 10, countdown: 2, tempo: {lift: 1.5, lower: 1.5}}
exercises:
  - name: Bridge
    setup: Lie down and lift.
    reps: 8-12
    sets: 2
    tempo: {hold: 2-4}
  - name: Stretch
    setup: Sit.
    hold: 20
    sides: each
    first_side: left
    rest_between_sets: 5
  - name: Bike
    setup: Pedal.
    minutes: 1.5
"""


def test_minimal_plan_values():
    plan = parse_plan(MINIMAL, "quick.yaml")
    bridge, stretch, bike = plan.exercises
    assert plan.safety == ("Stop if it hurts.",)
    assert (bridge.kind, bridge.reps.low, bridge.reps.high, bridge.sets.low) == ("reps", 8, 12, 2)
    assert (bridge.tempo.lift_s, bridge.tempo.hold.low, bridge.tempo.hold.high, bridge.tempo.lower_s) == (
        1.5,
        2,
        4,
        1.5,
    )
    assert bridge.timing.rest_between_sets_s == 10 and bridge.timing.countdown == 2
    assert stretch.side_order() == ("left", "right") and stretch.timing.rest_between_sets_s == 5
    assert bike.kind == "timed" and bike.minutes.low == 1.5


@pytest.mark.parametrize(("level", "reps", "hold"), [("low", 8, 2), ("mid", 10, 3), ("high", 12, 4)], ids=str)
def test_levels_pick_within_ranges(level, reps, hold):
    bridge = parse_plan(MINIMAL).exercises[0]
    assert bridge.reps.count(level) == reps
    assert bridge.tempo.hold.at(level) == hold


PACED_DEFAULTS = """\
title: Own pace
defaults: {pace: self, estimate: 45}
exercises:
  - {name: Sit to stand, setup: Sit., reps: 10}
  - {name: Walk, setup: Walk to the wall., minutes: 2, estimate: 90}
  - {name: Bridge, setup: Lie down., hold: 20}
  - {name: Step up, setup: Face a step., reps: 8, pace: clock}
"""


def test_pace_and_estimate_in_defaults_apply_to_reps_and_minutes_not_to_holds():
    sit, walk, bridge, step = parse_plan(PACED_DEFAULTS).exercises
    assert (sit.pace, sit.estimate_s) == ("self", 45)
    assert (walk.pace, walk.estimate_s) == ("self", 90)  # its own estimate wins
    assert (bridge.pace, bridge.estimate_s) == ("clock", None)  # a hold keeps the clock
    assert (step.pace, step.estimate_s) == ("clock", None)  # its own pace wins, and the estimate is not its
    # An estimate in defaults serves the exercises that are self-paced on their own.
    own = parse_plan("title: T\ndefaults: {estimate: 30}\nexercises:\n  - {name: A, setup: S., reps: 5, pace: self}\n")
    assert own.exercises[0].estimate_s == 30
