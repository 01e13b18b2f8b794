"""The built-in programs follow their source articles: names, order, doses, sides."""

from __future__ import annotations

import pytest

from voicecoach import programs
from voicecoach.core.schedule import build_timeline

# (name, kind, dose, sets, sides) as the sources give them (ranges stay ranges).
# inner-knee: shared/seeds/inner-knee-pain-exercises.txt
INNER = [
    ("Inner thigh stretch", "hold", "30", "2-3", "each"),  # 30+ s, 2-3 sets, then the left side
    ("Supine hamstring stretch", "hold", "30", "2-3", "each"),  # 30+ s, 2-3 sets on each leg
    ("Side lunge stretch", "hold", "20", "2-3", "each"),  # 20+ s, 2-3 sets on each leg
    ("Seated butterfly stretch", "hold", "60", "2-3", "none"),  # 60+ s, 2-3 sets total
    ("Seated straight leg raise", "reps", "10-15", "2-3", "alternating"),  # alternate legs, hold 1 s extra
    ("Bridge", "reps", "10-15", "1-3", "none"),  # up to 3 sets, hold 2-5 s at the top
    ("Lateral leg raise", "reps", "10-15", "2-3", "each"),
    ("Step ups", "reps", "10", "2-3", "alternating"),  # 10 on each leg, lead foot alternates
    ("Double knee to chest", "reps", "10-15", "2-3", "none"),
]
# medial-knee: shared/seeds/medial-knee-pain-exercises.txt (no set count given: one set)
MEDIAL = [
    ("Sitting adductor stretch", "hold", "15-30", "1", "each"),
    ("Wall slides", "reps", "10-15", "1", "none"),
    ("Adductor squeeze", "reps", "10-12", "2-3", "none"),
    ("Dynamic knee bends", "reps", "10-15", "1", "none"),
    ("Kneeling leg extensions", "reps", "10-12", "1", "each"),
    ("Gentle stationary cycling", "timed", "10-15", "1", "none"),
]


def _dose(ex) -> str:
    return str({"hold": ex.hold_s, "reps": ex.reps, "timed": ex.minutes}[ex.kind])


@pytest.mark.parametrize(
    ("name", "expected"), [("inner-knee", INNER), ("medial-knee", MEDIAL)], ids=["inner-knee", "medial-knee"]
)
def test_program_matches_source(name, expected):
    plan = programs.load(name)
    got = [(e.name, e.kind, _dose(e), str(e.sets), e.sides) for e in plan.exercises]
    assert got == expected


def test_builtin_names():
    assert programs.builtin_names() == ["inner-knee", "medial-knee"]


def test_tempo_details_from_sources():
    ex = {e.name: e for e in programs.load("inner-knee").exercises}
    assert ex["Seated straight leg raise"].tempo.hold.low == 1  # "hold for an extra second"
    assert str(ex["Bridge"].tempo.hold) == "2-5"  # "hold at the top for 2-5 seconds"


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        ("inner-knee", "if your knee pain gets worse, stop"),
        ("medial-knee", "if the pain increases during or after the exercises, stop"),
    ],
    ids=["inner-knee", "medial-knee"],
)
def test_program_speaks_the_safety_rule(name, warning):
    plan = programs.load(name)
    timeline = build_timeline(plan)
    safety = " ".join(plan.safety).lower()
    assert warning in safety
    intro = " ".join(c.text for c in timeline.cues if c.kind == "intro")
    end = " ".join(c.text for c in timeline.cues if c.kind == "end")
    assert plan.safety[0] in intro and plan.safety[0] in end


@pytest.mark.parametrize("name", ["inner-knee", "medial-knee"], ids=str)
def test_default_level_uses_low_end(name):
    plan = programs.load(name)
    timeline = build_timeline(plan)
    for i, ex in enumerate(plan.exercises):
        phases = [p for p in timeline.phases if p.exercise_index == i and p.kind in ("hold", "reps", "timed")]
        sides = 2 if ex.sides == "each" else 1
        assert len(phases) == int(ex.sets.low) * sides, ex.name
        if ex.kind == "hold":
            assert all(abs(p.duration_s - ex.hold_s.low) < 1e-9 for p in phases)
        if ex.kind == "timed":
            assert abs(phases[0].duration_s - ex.minutes.low * 60) < 1e-9
        if ex.kind == "reps":
            per_rep = ex.tempo.rep_s("low")
            reps = int(ex.reps.low) * (2 if ex.sides == "alternating" else 1)
            assert all(abs(p.duration_s - reps * per_rep) < 1e-9 for p in phases)


def test_first_person_instructions_are_short():
    # Said while lying on the floor: each setup instruction is a couple of short sentences.
    for name in programs.builtin_names():
        for ex in programs.load(name).exercises:
            assert len(ex.setup.split()) <= 30, ex.name
