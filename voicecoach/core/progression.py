"""Dose progression for the training journal: when to step an exercise up, keep it, or ease off.

Pure rules over plain data (no I/O). The caller converts a plan exercise into
:class:`DoseRanges` (:func:`ranges_of`), reads per-session facts from the journal into
:class:`SessionFacts`, and calls :func:`decide` at the start of each session, before the
dose is spoken, so the next-morning answer about the previous session is already known.
The words for every decision and advice come from :mod:`voicecoach.core.phrases`.

Sources for the thresholds and steps (pain on a 0-10 numeric rating scale):

- NEMEX-TJR: Ageberg et al. 2010, BMC Musculoskelet Disord 11:126. Pain 0-2 is "safe",
  2-5 "acceptable", above 5 "high risk" during and after neuromuscular exercise.
- Silbernagel et al. 2007, Am J Sports Med 35:897. Pain-monitoring model: activity may
  hurt up to 5/10; pain should have settled by the next morning; pain and stiffness
  should not rise from week to week.
- Farrar et al. 2001, Pain 94:149. A change of about 2 points (about 30 %) on the 0-10
  scale is clinically meaningful.
- ACSM 2009 position stand, Med Sci Sports Exerc 41:687. Raise the load by about 2-10 %
  once the current one is managed on two consecutive sessions; progress gradually.
- NICE NG226 (2022), osteoarthritis in over 16s. Exercise is core treatment; some
  pain when starting is to be expected and is not a sign of harm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from voicecoach.core import phrases
from voicecoach.core.plan import Dose, Exercise
from voicecoach.core.plan import ExerciseDose as ExerciseDose  # re-exported: the rules' unit
from voicecoach.core.rules import AdviceRule, DoseRule

# -- Thresholds: one table --------------------------------------------------------------
SAFE_MAX = 2  # NEMEX-TJR: 0-2 safe
ACCEPTABLE_MAX = 5  # NEMEX-TJR 2-5 acceptable, >5 high risk; Silbernagel 5/10 ceiling
MEANINGFUL_CHANGE = 2  # Farrar 2001: ~2 points / 30 % is clinically meaningful
WEEKLY_RISE_PAUSE = 1  # Silbernagel: pain should not rise week on week -> no progression
WEEKLY_RISE_CHECK = MEANINGFUL_CHANGE  # a meaningful rise in a week -> get it checked
EXPECTED_DROP = 1  # after REVIEW_AFTER_DAYS, pain should be at least this much lower
REVIEW_AFTER_DAYS = 14  # NICE NG226: review if exercise is not helping
NO_IMPROVEMENT_FLOOR = SAFE_MAX  # below this weekly average, "no improvement" is not raised
WEEK_DAYS = 7
GOOD_SESSIONS = 2  # ACSM 2009: two consecutive sessions managed before a step up
NOT_SETTLED_IN_A_ROW = 2  # Silbernagel next-day rule, made lenient: two mornings in a row
BACK_OFFS_FOR_CHECK = 2  # two back-offs within WEEK_DAYS -> get it checked

# -- Steps: one table -------------------------------------------------------------------
# kind -> (the dimension that moves first, its step). When that dimension reaches the top
# of its range, one more set is added and it starts again at the bottom (2x10 .. 2x15,
# 3x10 .. 3x15). +1 rep of 10-15 is 7-10 %, +1 min of 10-15 is 7-10 % (ACSM 2-10 %);
# +5 s on a 15-60 s hold is 8-33 %, the smallest step a listener can tell apart.
STEPS: dict[str, tuple[str, float]] = {
    "reps": ("reps", 1.0),
    "hold": ("hold_s", 5.0),
    "timed": ("minutes", 1.0),
}
KINDS = tuple(STEPS)
_EPS = 1e-9


@dataclass(frozen=True)
class DoseRanges:
    """The plan's ranges for one exercise, as (low, high); low == high cannot move."""

    kind: str
    sets: tuple[int, int]
    reps: tuple[int, int] | None = None
    hold_s: tuple[float, float] | None = None
    minutes: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.kind not in STEPS:
            raise ValueError(f"unknown exercise kind {self.kind!r}")
        for name in ("sets", "reps", "hold_s", "minutes"):
            r = getattr(self, name)
            if r is not None and not 0 <= r[0] <= r[1]:
                raise ValueError(f"{name} range {r} is not low <= high")


@dataclass(frozen=True)
class SessionFacts:
    """What one past session says about one exercise.

    ``dose`` (an addition to the minimal facts) is the dose the exercise was done at, if
    known: only sessions at the current dose count towards a step up, and a session that
    was already acted on (the dose has changed since) does not trigger a second back-off.
    """

    day: date
    full_dose: bool
    pain_before: int | None
    pain_after: int | None
    hurt: bool
    settled: bool | None
    dose: ExerciseDose | None = None


@dataclass(frozen=True)
class Decision:
    """The dose for the next session, the kind of change and the rule that made it."""

    dose: ExerciseDose
    change: str  # "progress" | "hold" | "back off"
    rule: DoseRule  # e.g. DoseRule.TWO_GOOD_SESSIONS (phrases.DOSE_WHY has its words)
    reason: str  # a plain sentence: why


@dataclass(frozen=True)
class Advice:
    """Advice from the weekly pain trend, in force until the trend changes."""

    rule: AdviceRule
    message: str


def ranges_of(ex: Exercise) -> DoseRanges:
    """A plan exercise's ranges, as the rules see them."""

    def span(d: Dose | None) -> tuple[float, float] | None:
        return (d.low, d.high) if d is not None else None

    reps = span(ex.reps) if ex.kind == "reps" else None
    return DoseRanges(
        ex.kind,
        sets=(int(ex.sets.low), int(ex.sets.high)),
        reps=(int(reps[0]), int(reps[1])) if reps else None,
        hold_s=span(ex.hold_s) if ex.kind == "hold" else None,
        minutes=span(ex.minutes) if ex.kind == "timed" else None,
    )


# -- Doses ------------------------------------------------------------------------------


def lowest(ranges: DoseRanges) -> ExerciseDose:
    """The starting dose: the low end of every range."""
    return ExerciseDose(
        sets=ranges.sets[0],
        reps=ranges.reps[0] if ranges.reps else None,
        hold_s=float(ranges.hold_s[0]) if ranges.hold_s else None,
        minutes=float(ranges.minutes[0]) if ranges.minutes else None,
    )


def _clip(value: float | None, r: tuple[float, float]) -> float:
    return r[0] if value is None else min(max(value, r[0]), r[1])


def clamp(ranges: DoseRanges, dose: ExerciseDose) -> ExerciseDose:
    """``dose`` moved inside ``ranges`` (the plan may have changed since it was saved)."""
    return ExerciseDose(
        sets=int(_clip(dose.sets, ranges.sets)),
        reps=int(_clip(dose.reps, ranges.reps)) if ranges.reps else None,
        hold_s=_clip(dose.hold_s, ranges.hold_s) if ranges.hold_s else None,
        minutes=_clip(dose.minutes, ranges.minutes) if ranges.minutes else None,
    )


def _next(value: float, r: tuple[float, float], step: float) -> float | None:
    """The next point of low, low+step, ... (capped at high) above ``value``, if any."""
    low, high = r
    if value >= high - _EPS:
        return None
    k = math.floor((value - low) / step + _EPS) + 1
    return min(low + k * step, high)


def _previous(value: float, r: tuple[float, float], step: float) -> float | None:
    """The exact reverse of :func:`_next`."""
    low, _ = r
    if value <= low + _EPS:
        return None
    k = math.ceil((value - low) / step - _EPS) - 1
    return max(low + k * step, low)


def _with(dose: ExerciseDose, field: str, value: float, sets: int | None = None) -> ExerciseDose:
    s = dose.sets if sets is None else sets
    if field == "reps":
        return replace(dose, sets=s, reps=int(round(value)))
    if field == "hold_s":
        return replace(dose, sets=s, hold_s=value)
    return replace(dose, sets=s, minutes=value)


def step_up(ranges: DoseRanges, dose: ExerciseDose) -> ExerciseDose | None:
    """One step harder, or None at the top of every range."""
    dose = clamp(ranges, dose)
    field, step = STEPS[ranges.kind]
    r: tuple[float, float] | None = getattr(ranges, field)
    value: float | None = getattr(dose, field)
    if r is not None and value is not None:
        nxt = _next(value, r, step)
        if nxt is not None:
            return _with(dose, field, nxt)
    if dose.sets < ranges.sets[1]:
        return _with(dose, field, r[0], dose.sets + 1) if r else replace(dose, sets=dose.sets + 1)
    return None


def step_down(ranges: DoseRanges, dose: ExerciseDose) -> ExerciseDose | None:
    """One step easier (the exact reverse of :func:`step_up`), or None at the low end."""
    dose = clamp(ranges, dose)
    field, step = STEPS[ranges.kind]
    r: tuple[float, float] | None = getattr(ranges, field)
    value: float | None = getattr(dose, field)
    if r is not None and value is not None:
        prv = _previous(value, r, step)
        if prv is not None:
            return _with(dose, field, prv)
    if dose.sets > ranges.sets[0]:
        return _with(dose, field, r[1], dose.sets - 1) if r else replace(dose, sets=dose.sets - 1)
    return None


def describe(dose: ExerciseDose) -> str:
    """Words for a dose (:func:`voicecoach.core.phrases.describe_dose`)."""
    return phrases.describe_dose(dose)


# -- Per-session rules ------------------------------------------------------------------


def _pain_too_high(s: SessionFacts) -> bool:
    return any(p is not None and p > ACCEPTABLE_MAX for p in (s.pain_before, s.pain_after))


def _back_off_rule(history: Sequence[SessionFacts]) -> DoseRule | None:
    last = history[-1]
    if _pain_too_high(last):
        return DoseRule.PAIN_ABOVE_5
    if last.hurt:
        return DoseRule.IT_HURTS
    recent = history[-NOT_SETTLED_IN_A_ROW:]
    if len(recent) == NOT_SETTLED_IN_A_ROW and all(s.settled is False for s in recent):
        return DoseRule.NOT_SETTLED_TWICE
    return None


def _at(ranges: DoseRanges, s: SessionFacts, current: ExerciseDose) -> bool:
    return s.dose is None or clamp(ranges, s.dose) == current


def decide(
    ranges: DoseRanges,
    current: ExerciseDose,
    history: Sequence[SessionFacts],
    *,
    hold_progress: bool = False,
) -> Decision:
    """The dose for the next session, from ``history`` (oldest first) of this exercise.

    Idempotent: once a change is made (``current`` is the new dose), the sessions done at the
    old dose no longer count, so deciding again before the next session changes nothing.
    """
    current = clamp(ranges, current)

    def hold(rule: DoseRule) -> Decision:
        return Decision(current, "hold", rule, phrases.dose_reason(rule))

    if not history:
        return hold(DoseRule.FIRST_SESSIONS)
    if not _at(ranges, history[-1], current):
        return hold(DoseRule.NEW_DOSE)
    back = _back_off_rule(history)
    if back is not None:
        lower = step_down(ranges, current)
        if lower is None:
            return Decision(current, "hold", back, phrases.dose_reason(back, at_lowest=True))
        return Decision(lower, "back off", back, phrases.dose_reason(back))
    last = history[-GOOD_SESSIONS:]
    if len(last) < GOOD_SESSIONS or not all(_at(ranges, s, current) for s in last):
        return hold(DoseRule.NEW_DOSE)
    if not all(s.full_dose for s in last):
        return hold(DoseRule.NOT_FULL_DOSE)
    if any(None in (s.pain_before, s.pain_after, s.settled) for s in last):
        return hold(DoseRule.MISSING_ANSWERS)
    if any(_pain_too_high(s) or s.settled is False or s.hurt for s in last):
        return hold(DoseRule.IN_BETWEEN)
    if hold_progress:
        return hold(DoseRule.WEEKLY_PAIN_RISING)
    higher = step_up(ranges, current)
    if higher is None:
        return hold(DoseRule.TOP_OF_RANGE)
    return Decision(higher, "progress", DoseRule.TWO_GOOD_SESSIONS, phrases.dose_reason(DoseRule.TWO_GOOD_SESSIONS))


# -- Weekly advice ----------------------------------------------------------------------


def weekly_averages(sessions: Sequence[tuple[date, int | None]], today: date) -> list[float | None]:
    """Average pain before sessions per 7-day window ending ``today``: [this week, last week, ...].

    A window without answers is None. Sessions after ``today`` are ignored.
    """
    known = [(d, p) for d, p in sessions if p is not None and d <= today]
    if not known:
        return []
    weeks = (today - min(d for d, _ in known)).days // WEEK_DAYS + 1
    sums = [0.0] * weeks
    counts = [0] * weeks
    for d, p in known:
        i = (today - d).days // WEEK_DAYS
        sums[i] += p
        counts[i] += 1
    return [s / c if c else None for s, c in zip(sums, counts, strict=True)]


def _rise(sessions: Sequence[tuple[date, int | None]], today: date) -> float | None:
    w = weekly_averages(sessions, today)
    if len(w) < 2 or w[0] is None or w[1] is None:
        return None
    return w[0] - w[1]


def progression_paused(sessions: Sequence[tuple[date, int | None]], today: date) -> bool:
    """True when this week's pain before sessions is up by WEEKLY_RISE_PAUSE or more."""
    rise = _rise(sessions, today)
    return rise is not None and rise >= WEEKLY_RISE_PAUSE


def advice(
    sessions: Sequence[tuple[date, int | None]],
    back_offs: Sequence[date],
    today: date,
) -> list[Advice]:
    """Weekly advice from (day, pain before) of every session and the days of back-offs."""
    out: list[Advice] = []
    weeks = weekly_averages(sessions, today)
    rise = _rise(sessions, today)
    if rise is not None and rise >= WEEKLY_RISE_CHECK:
        out.append(Advice(AdviceRule.WEEKLY_PAIN_UP_2, phrases.advice_text(AdviceRule.WEEKLY_PAIN_UP_2, rise)))
    elif rise is not None and rise >= WEEKLY_RISE_PAUSE:
        out.append(Advice(AdviceRule.WEEKLY_PAIN_RISING, phrases.advice_text(AdviceRule.WEEKLY_PAIN_RISING, rise)))
    week_start = today - timedelta(days=WEEK_DAYS - 1)
    if sum(1 for d in back_offs if week_start <= d <= today) >= BACK_OFFS_FOR_CHECK:
        out.append(Advice(AdviceRule.BACK_OFFS_TWICE, phrases.advice_text(AdviceRule.BACK_OFFS_TWICE)))
    now = weeks[0] if weeks else None
    if now is not None and now > ACCEPTABLE_MAX:
        out.append(Advice(AdviceRule.WEEKLY_PAIN_HIGH, phrases.advice_text(AdviceRule.WEEKLY_PAIN_HIGH, now)))
    elif now is not None and now > SAFE_MAX:
        out.append(Advice(AdviceRule.PAIN_ACCEPTABLE, phrases.advice_text(AdviceRule.PAIN_ACCEPTABLE, now)))
    answered = [w for w in weeks if w is not None]
    first_day = min((d for d, p in sessions if p is not None and d <= today), default=None)
    if first_day is not None and (today - first_day).days >= REVIEW_AFTER_DAYS and len(answered) >= 2:
        # Sustained trends only: whole weeks' averages, the latest against the first.
        latest, first = answered[0], answered[-1]
        if latest > first - EXPECTED_DROP and latest > NO_IMPROVEMENT_FLOOR:
            out.append(Advice(AdviceRule.NO_IMPROVEMENT, phrases.advice_text(AdviceRule.NO_IMPROVEMENT, first, latest)))
    return out
