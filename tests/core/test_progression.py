"""Tests for the pure dose-progression rules and the weekly advice."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicecoach import programs
from voicecoach.core import phrases
from voicecoach.core.progression import (
    ACCEPTABLE_MAX,
    DoseRanges,
    ExerciseDose,
    SessionFacts,
    advice,
    clamp,
    decide,
    describe,
    lowest,
    progression_paused,
    ranges_of,
    step_down,
    step_up,
)

D0 = date(2025, 3, 3)
REPS = DoseRanges("reps", sets=(2, 3), reps=(10, 15))
HOLD = DoseRanges("hold", sets=(2, 3), hold_s=(30.0, 45.0))
TIMED = DoseRanges("timed", sets=(1, 1), minutes=(10.0, 15.0))
FIXED = DoseRanges("reps", sets=(1, 1), reps=(10, 10))


def facts(
    day: int = 0,
    *,
    full: bool = True,
    before: int | None = 2,
    after: int | None = 3,
    hurt: bool = False,
    settled: bool | None = True,
    dose: ExerciseDose | None = None,
) -> SessionFacts:
    return SessionFacts(D0 + timedelta(days=day), full, before, after, hurt, settled, dose)


GOOD = facts()
R = ExerciseDose  # short for the tables


RULES = [
    # (ranges, current, history, hold_progress, change, rule, expected dose)
    (REPS, R(2, 10), [GOOD, GOOD], False, "progress", "two-good-sessions", R(2, 11)),
    (REPS, R(2, 15), [GOOD, GOOD], False, "progress", "two-good-sessions", R(3, 10)),
    (HOLD, R(2, hold_s=30.0), [GOOD, GOOD], False, "progress", "two-good-sessions", R(2, hold_s=35.0)),
    (TIMED, R(1, minutes=12.0), [GOOD, GOOD], False, "progress", "two-good-sessions", R(1, minutes=13.0)),
    (REPS, R(3, 15), [GOOD, GOOD], False, "hold", "top-of-range", R(3, 15)),
    (FIXED, R(1, 10), [GOOD, GOOD], False, "hold", "top-of-range", R(1, 10)),
    (REPS, R(2, 12), [GOOD, facts(before=6)], False, "back off", "pain-above-5", R(2, 11)),
    (REPS, R(3, 10), [GOOD, facts(after=7)], False, "back off", "pain-above-5", R(2, 15)),
    (REPS, R(2, 10), [GOOD, facts(after=9)], False, "hold", "pain-above-5", R(2, 10)),
    (HOLD, R(2, hold_s=40.0), [GOOD, facts(hurt=True)], False, "back off", "it-hurts", R(2, hold_s=35.0)),
    (REPS, R(2, 12), [facts(settled=False), facts(settled=False)], False, "back off", "not-settled-twice", R(2, 11)),
    (REPS, R(2, 12), [GOOD, facts(settled=None)], False, "hold", "missing-answers", R(2, 12)),
    (REPS, R(2, 12), [facts(before=None), GOOD], False, "hold", "missing-answers", R(2, 12)),
    (REPS, R(2, 12), [GOOD, facts(full=False)], False, "hold", "not-full-dose", R(2, 12)),
    (REPS, R(2, 12), [facts(settled=False), GOOD], False, "hold", "in-between", R(2, 12)),
    (REPS, R(2, 12), [facts(before=6), GOOD], False, "hold", "in-between", R(2, 12)),
    (REPS, R(2, 12), [GOOD, GOOD], True, "hold", "weekly-pain-rising", R(2, 12)),
    (REPS, R(2, 12), [], False, "hold", "first-sessions", R(2, 12)),
    (REPS, R(2, 12), [GOOD], False, "hold", "new-dose", R(2, 12)),
    (REPS, R(2, 12), [facts(dose=R(2, 11)), facts(dose=R(2, 12))], False, "hold", "new-dose", R(2, 12)),
    (REPS, R(2, 11), [GOOD, facts(before=8, dose=R(2, 12))], False, "hold", "new-dose", R(2, 11)),
]
RULE_IDS = [
    "progress-reps",
    "progress-wraps-to-next-set",
    "progress-hold",
    "progress-timed",
    "top",
    "fixed-range-cannot-move",
    "pain-before-above-5",
    "pain-after-back-off-wraps",
    "back-off-at-lowest-holds",
    "it-hurts",
    "not-settled-twice",
    "missing-settled",
    "missing-pain",
    "not-full-dose",
    "one-unsettled-morning",
    "earlier-pain-above-5",
    "weekly-pain-rising",
    "no-history",
    "one-session-only",
    "previous-at-other-dose",
    "already-backed-off-after-it",
]


@pytest.mark.parametrize(("ranges", "current", "history", "paused", "change", "rule", "dose"), RULES, ids=RULE_IDS)
def test_rule(
    ranges: DoseRanges,
    current: ExerciseDose,
    history: list[SessionFacts],
    paused: bool,
    change: str,
    rule: str,
    dose: ExerciseDose,
) -> None:
    d = decide(ranges, current, history, hold_progress=paused)
    assert (d.change, d.rule, d.dose) == (change, rule, dose)
    assert d.reason.endswith(".") and d.reason[0].isupper()


def ladder(ranges: DoseRanges) -> list[ExerciseDose]:
    out = [lowest(ranges)]
    while (nxt := step_up(ranges, out[-1])) is not None:
        out.append(nxt)
    return out


def test_step_table_reps_then_sets() -> None:
    got = [(d.sets, d.reps) for d in ladder(REPS)]
    assert got == [(2, r) for r in range(10, 16)] + [(3, r) for r in range(10, 16)]


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        (DoseRanges("hold", (1, 1), hold_s=(12.0, 30.0)), [12.0, 17.0, 22.0, 27.0, 30.0]),
        (DoseRanges("hold", (2, 3), hold_s=(30.0, 30.0)), [30.0, 30.0]),
        (DoseRanges("timed", (1, 1), minutes=(10.0, 12.5)), [10.0, 11.0, 12.0, 12.5]),
    ],
    ids=["hold-capped-at-top", "fixed-hold-moves-sets", "minutes-capped-at-top"],
)
def test_step_table_other_kinds(ranges: DoseRanges, expected: list[float]) -> None:
    steps = ladder(ranges)
    assert [d.hold_s if ranges.kind == "hold" else d.minutes for d in steps] == expected
    for lower, higher in zip(steps, steps[1:], strict=False):
        assert step_down(ranges, higher) == lower


@pytest.mark.parametrize(
    ("dose", "words"),
    [
        (R(2, 11), "2 sets of 11 repetitions"),
        (R(1, 10), "1 set of 10 repetitions"),
        (R(2, hold_s=35.0), "2 sets of 35 seconds"),
        (R(1, minutes=12.0), "12 minutes"),
        (R(1, minutes=12.5), "12.5 minutes"),
    ],
    ids=["sets-reps", "one-set", "holds", "minutes", "half-minutes"],
)
def test_describe(dose: ExerciseDose, words: str) -> None:
    assert describe(dose) == words


@pytest.mark.parametrize(
    ("old", "new", "change", "rule", "words"),
    [
        (
            R(2, 10),
            R(2, 11),
            "progress",
            "two-good-sessions",
            "Bridge: 11 repetitions today, up from 10: your last two sessions went well.",
        ),
        (
            R(2, 15),
            R(3, 10),
            "progress",
            "two-good-sessions",
            "Bridge: 3 sets of 10 repetitions today, up from 2 sets of 15 repetitions: your last two sessions went well.",
        ),
        (
            R(2, hold_s=35.0),
            R(2, hold_s=30.0),
            "back off",
            "it-hurts",
            "Bridge: 30 second holds today, down from 35: you told me it hurt last time.",
        ),
        (
            R(1, minutes=12.0),
            R(1, minutes=11.0),
            "back off",
            "pain-above-5",
            "Bridge: 11 minutes today, down from 12: your pain went above 5 out of 10 last time.",
        ),
        (
            R(2, 10),
            R(2, 10),
            "hold",
            "not-settled-twice",
            "Bridge: staying at 2 sets of 10 repetitions, the easiest: "
            "your knee wasn't back to usual two mornings in a row.",
        ),
    ],
    ids=["reps", "sets", "hold", "minutes", "at-the-lowest"],
)
def test_what_the_session_says_about_a_change(
    old: ExerciseDose, new: ExerciseDose, change: str, rule: str, words: str
) -> None:
    assert phrases.dose_change("Bridge", old, new, change, rule) == words


def test_every_rule_has_words() -> None:
    rules = {r[5] for r in RULES}
    assert rules <= set(phrases.DOSE_WHY)
    assert decide(REPS, R(2, 10), [GOOD, facts(after=9)]).reason == (
        "Your pain went above 5 out of 10 last time, and this is already the easiest dose."
    )


def test_ranges_of_a_plan_exercise() -> None:
    plan = programs.load("inner-knee")
    by_name = {ex.name: ranges_of(ex) for ex in plan.exercises}
    assert by_name["Bridge"] == DoseRanges("reps", (1, 3), reps=(10, 15))
    assert by_name["Inner thigh stretch"] == DoseRanges("hold", (2, 3), hold_s=(30.0, 30.0))
    cycling = ranges_of(programs.load("medial-knee").exercises[-1])
    assert cycling == DoseRanges("timed", (1, 1), minutes=(10.0, 15.0))
    assert lowest(cycling) == R(1, minutes=10.0)


def test_lowest_and_clamp() -> None:
    assert lowest(REPS) == R(2, 10)
    assert clamp(REPS, R(7, 40, hold_s=3.0)) == R(3, 15)
    with pytest.raises(ValueError, match="kind"):
        DoseRanges("jump", (1, 1))


# -- properties --------------------------------------------------------------------------

PROPS = settings(max_examples=80, deadline=None)


@st.composite
def ranges_st(draw: st.DrawFn) -> DoseRanges:
    kind = draw(st.sampled_from(["reps", "hold", "timed"]))
    s_lo = draw(st.integers(1, 3))
    sets = (s_lo, draw(st.integers(s_lo, 4)))
    lo = draw(st.integers(1, 40))
    hi = draw(st.integers(lo, lo + 20))
    if kind == "reps":
        return DoseRanges(kind, sets, reps=(lo, hi))
    if kind == "hold":
        return DoseRanges(kind, sets, hold_s=(float(lo), float(hi) + draw(st.sampled_from([0.0, 2.5]))))
    return DoseRanges(kind, sets, minutes=(float(lo), float(hi)))


def pains() -> st.SearchStrategy[int | None]:
    return st.one_of(st.none(), st.integers(0, 10))


session_st = st.builds(
    lambda full, b, a, hurt, settled: (full, b, a, hurt, settled),
    st.booleans(),
    pains(),
    pains(),
    st.booleans(),
    st.one_of(st.none(), st.booleans()),
)


def inside(ranges: DoseRanges, d: ExerciseDose) -> bool:
    def ok(v: float | None, r: tuple[float, float] | None) -> bool:
        return (v is None) == (r is None) and (r is None or (v is not None and r[0] <= v <= r[1]))

    return (
        ranges.sets[0] <= d.sets <= ranges.sets[1]
        and ok(d.reps, ranges.reps)
        and ok(d.hold_s, ranges.hold_s)
        and ok(d.minutes, ranges.minutes)
    )


def broke_a_rule(s: SessionFacts) -> bool:
    return s.hurt or not s.full_dose or any(p is not None and p > ACCEPTABLE_MAX for p in (s.pain_before, s.pain_after))


@PROPS
@given(ranges_st(), st.lists(session_st, max_size=25), st.booleans())
def test_simulated_journal(ranges: DoseRanges, sessions: list[tuple], paused: bool) -> None:
    """Decide before each session, as the app does: the dose stays inside its ranges and
    never rises right after a session that broke a rule."""
    dose = lowest(ranges)
    history: list[SessionFacts] = []
    for i, (full, before, after, hurt, settled) in enumerate(sessions):
        d = decide(ranges, dose, history, hold_progress=paused)
        assert inside(ranges, d.dose)
        if history and broke_a_rule(history[-1]):
            assert d.change != "progress" and d.dose != step_up(ranges, dose)
        if d.change == "progress":
            assert d.dose == step_up(ranges, dose) and not paused
        dose = d.dose
        history.append(facts(i, full=full, before=before, after=after, hurt=hurt, settled=settled, dose=dose))


@PROPS
@given(ranges_st(), st.integers(0, 30), st.lists(session_st, min_size=1, max_size=4))
def test_never_rises_after_a_broken_rule(ranges: DoseRanges, k: int, sessions: list[tuple]) -> None:
    steps = ladder(ranges)
    current = steps[min(k, len(steps) - 1)]
    history = [facts(i, full=f, before=b, after=a, hurt=h, settled=s) for i, (f, b, a, h, s) in enumerate(sessions)]
    history[-1] = (
        replace(history[-1], hurt=True)
        if k % 3 == 0
        else replace(history[-1], full_dose=False)
        if k % 3 == 1
        else replace(history[-1], pain_after=6 + k % 5)
    )
    d = decide(ranges, current, history)
    assert d.change != "progress"
    assert d.dose in (current, step_down(ranges, current))
    assert inside(ranges, d.dose)


@PROPS
@given(ranges_st(), st.integers(0, 30), st.sampled_from(["pain", "hurt", "settled"]))
def test_progress_then_back_off_returns_the_same_dose(ranges: DoseRanges, k: int, why: str) -> None:
    steps = ladder(ranges)
    start = steps[min(k, len(steps) - 1)]
    up = decide(ranges, start, [GOOD, GOOD])
    if up.change != "progress":
        assert up.rule == "top-of-range" and start == steps[-1]
        return
    bad = {"pain": facts(2, after=7), "hurt": facts(2, hurt=True), "settled": facts(2, settled=False)}[why]
    history = [GOOD, facts(1, settled=False) if why == "settled" else GOOD, bad]
    down = decide(ranges, up.dose, history)
    assert down.change == "back off" and down.dose == start


# -- weekly advice -----------------------------------------------------------------------

TODAY = date(2025, 3, 31)


def week(weeks_ago: int, *pains_: int | None) -> list[tuple[date, int | None]]:
    return [(TODAY - timedelta(days=7 * weeks_ago + i), p) for i, p in enumerate(pains_)]


ADVICE = [
    (week(1, 2, 2) + week(0, 3, 3), [], {"weekly-pain-rising", "pain-acceptable"}, True),
    (week(1, 1, 1) + week(0, 3, 4), [], {"weekly-pain-up-2", "pain-acceptable"}, True),
    (week(1, 2, 2) + week(0, 2, 2), [TODAY, TODAY - timedelta(days=6)], {"back-offs-twice"}, False),
    (week(1, 2, 2) + week(0, 2, 2), [TODAY, TODAY - timedelta(days=7)], set(), False),
    (week(2, 4, 4) + week(1, 4) + week(0, 4), [], {"pain-acceptable", "no-improvement"}, False),
    (week(2, 5, 5) + week(0, 3, 3), [], {"pain-acceptable"}, False),
    (week(1, 4, 4) + week(0, 4), [], {"pain-acceptable"}, False),
    (week(3, 4) + week(1, None) + week(0, None), [], set(), False),
    (week(1, None, None) + week(0, 5), [], {"pain-acceptable"}, False),
    (week(0, 7, 6), [], {"weekly-pain-high"}, False),
]
ADVICE_IDS = [
    "up-1-pauses",
    "up-2-get-checked",
    "two-back-offs-in-7-days",
    "back-offs-8-days-apart",
    "no-improvement-after-14-days",
    "improved-by-2",
    "under-14-days",
    "weeks-without-answers",
    "empty-week-not-compared",
    "high-pain-week",
]


@pytest.mark.parametrize(("sessions", "back_offs", "rules", "paused"), ADVICE, ids=ADVICE_IDS)
def test_advice(sessions: list[tuple[date, int | None]], back_offs: list[date], rules: set[str], paused: bool) -> None:
    got = advice(sessions, back_offs, TODAY)
    assert {a.rule for a in got} == rules
    assert progression_paused(sessions, TODAY) is paused
    for a in got:
        assert a.message.endswith(".")
        if a.rule == "pain-acceptable":
            assert "common" in a.message and "next morning" in a.message
        if a.rule in ("weekly-pain-up-2", "back-offs-twice"):
            assert "physiotherapist or doctor" in a.message
