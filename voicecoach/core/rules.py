"""The ids of the progression rules: why a dose changed or held, and which weekly advice is given.

One owner for both :mod:`voicecoach.core.progression` (which applies the rules) and
:mod:`voicecoach.core.phrases` (which words them). The values are what the journal stores
(``doses.rule``, the ``advice`` events) and what ``journal --json`` prints.
"""

from __future__ import annotations

from voicecoach.core.vocab import StrEnum


class DoseRule(StrEnum):
    """Why a dose changed, or stayed (a :class:`voicecoach.core.progression.Decision`)."""

    TWO_GOOD_SESSIONS = "two-good-sessions"
    PAIN_ABOVE_5 = "pain-above-5"
    IT_HURTS = "it-hurts"
    NOT_SETTLED_TWICE = "not-settled-twice"
    FIRST_SESSIONS = "first-sessions"
    NEW_DOSE = "new-dose"
    NOT_FULL_DOSE = "not-full-dose"
    MISSING_ANSWERS = "missing-answers"
    IN_BETWEEN = "in-between"
    WEEKLY_PAIN_RISING = "weekly-pain-rising"
    TOP_OF_RANGE = "top-of-range"
    FORCED_LEVEL = "forced-level"


# The rules that lower a dose: said even when the dose cannot go any lower.
BACK_OFF_RULES = frozenset({DoseRule.PAIN_ABOVE_5, DoseRule.IT_HURTS, DoseRule.NOT_SETTLED_TWICE})


class AdviceRule(StrEnum):
    """Which weekly advice is given (a :class:`voicecoach.core.progression.Advice`)."""

    WEEKLY_PAIN_UP_2 = "weekly-pain-up-2"
    WEEKLY_PAIN_RISING = "weekly-pain-rising"
    BACK_OFFS_TWICE = "back-offs-twice"
    WEEKLY_PAIN_HIGH = "weekly-pain-high"
    PAIN_ACCEPTABLE = "pain-acceptable"
    NO_IMPROVEMENT = "no-improvement"
