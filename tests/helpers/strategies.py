"""Hypothesis strategies for plans and options, and a fake voice: shared by the scheduler's property tests."""

from __future__ import annotations

import hashlib

from hypothesis import strategies as st

from voicecoach.core.plan import Dose, Exercise, Plan, Tempo, Timing
from voicecoach.core.schedule import Options


def fake_voice(base_s: float, per_char_s: float, jitter: float = 0.1):
    """A deterministic fake speech-length function: longer texts take longer, with per-text jitter."""

    def length(text: str) -> float:
        h = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return (base_s + per_char_s * len(text)) * (1 - jitter + 2 * jitter * h)

    return length


def dose(draw, lo: float, hi: float, whole: bool = True) -> Dose:
    a = draw(st.integers(int(lo), int(hi))) if whole else draw(st.floats(lo, hi, allow_nan=False))
    b = draw(st.integers(int(a), int(hi))) if whole else draw(st.floats(a, hi, allow_nan=False))
    return Dose(a, b)


@st.composite
def exercises(draw, realistic: bool, paced: bool = False):
    kind = draw(st.sampled_from(["hold", "reps", "timed"]))
    get_ready = draw(st.integers(2, 8))
    timing = Timing(
        rest_between_sets_s=draw(st.floats(3, 40)),
        rest_after_s=draw(st.floats(0, 40)),
        switch_sides_s=draw(st.floats(3, 15)),
        get_ready_s=float(get_ready),
        countdown=draw(st.integers(0, min(5, get_ready))),
    )
    sides = draw(st.sampled_from(["none", "each"] + (["alternating"] if kind == "reps" else [])))
    min_move = 1.0 if realistic else 0.5
    tempo = Tempo(draw(st.floats(min_move, 3)), dose(draw, 0, 4, whole=False), draw(st.floats(min_move, 3)))
    return Exercise(
        name=draw(st.text("abcdefgh ", min_size=1, max_size=12).map(lambda s: "Ex " + s.strip())),
        kind=kind,
        setup=draw(st.text("abc .", min_size=1, max_size=120)).strip() or "Sit.",
        sets=dose(draw, 1, 3),
        sides=sides if kind != "timed" else "none",
        first_side=draw(st.sampled_from(["right", "left"])),
        hold_s=dose(draw, 3, 90, whole=False) if kind == "hold" else None,
        reps=dose(draw, 1 if not realistic else 3, 8) if kind == "reps" else None,
        tempo=tempo,
        minutes=dose(draw, 0.5, 2, whole=False) if kind == "timed" else None,
        details=draw(st.none() | st.just("Take your time and breathe.")),
        timing=timing,
        # Drawn only when asked for, so the other properties keep their examples.
        pace=draw(st.sampled_from(["clock", "self"])) if paced and kind != "hold" else "clock",
        estimate_s=draw(st.none() | st.floats(10, 300)) if paced and kind != "hold" else None,
    )


@st.composite
def plans(draw, realistic: bool = False, paced: bool = False):
    exs = draw(st.lists(exercises(realistic, paced), min_size=1, max_size=4))
    # Names are unique in practice; keep them so, for readable failures.
    exs = [Exercise(**{**e.__dict__, "name": f"{e.name} {i}"}) for i, e in enumerate(exs)]
    return Plan(title="Random", exercises=tuple(exs), safety=("Stop if pain increases.",))


@st.composite
def options(draw, plan: Plan):
    n = len(plan.exercises)
    adjust = draw(st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from([-15.0, 15.0, 30.0])), max_size=2))
    return Options(
        level=draw(st.sampled_from(["low", "mid", "high"])),
        detailed=draw(st.booleans()),
        first_exercise=draw(st.integers(0, n - 1)),
        adjust_s=tuple(adjust),
        intro=draw(st.sampled_from([None, "", "Resuming at the next exercise."])),
    )
