"""The coach that remembers: the journal's doses for a plan, by the rules of core.progression.

``show``, ``export`` and ``play`` ask :func:`today` for the session they are about to give
(each exercise's dose, and for a live session the doses for each next-morning answer and the
advice in force); ``journal add`` asks :func:`decide_doses`; ``export``, ``play`` and ``journal add`` commit it with :func:`record_doses` (a change
is stored with the rule that made it), ``show`` only previews it. Deciding is idempotent:
sessions done at an older dose no longer count once a change is recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from voicecoach.core import phrases
from voicecoach.core.plan import Exercise, ExerciseDose, Plan
from voicecoach.core.progression import (
    Advice,
    Decision,
    SessionFacts,
    advice,
    decide,
    lowest,
    progression_paused,
    ranges_of,
)
from voicecoach.core.rules import BACK_OFF_RULES
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.store.journal import Journal, JournalUnavailable, default_path
from voicecoach.store.places import migrate_progress_json
from voicecoach.store.rows import HistoryRow


def open_journal(path: Path | None = None) -> Journal:
    """The user's journal, with an older ``progress.json`` beside it brought in once.

    Raises :class:`voicecoach.store.journal.JournalUnavailable`.
    """
    path = Path(path) if path else default_path()
    journal = Journal.open(path)
    try:
        migrate_progress_json(journal, path.parent / "progress.json")
    except BaseException:
        journal.close()
        raise
    return journal


def plan_hash(plan: Plan) -> str:
    """A short hash of a plan's content (not of where it was loaded from)."""
    return hashlib.sha256(repr(replace(plan, source="")).encode()).hexdigest()[:16]


def dose_dict(dose: ExerciseDose) -> dict[str, Any]:
    """A dose as stored in the journal: only the fields it uses."""
    return {k: v for k, v in asdict(dose).items() if v is not None}


def dose_from(data: Mapping[str, Any] | None) -> ExerciseDose | None:
    """A stored dose back, or None if it is missing or not a dose (a damaged row)."""
    if not data:
        return None
    try:
        sets = data["sets"]
        if not isinstance(sets, int) or isinstance(sets, bool) or sets < 1:
            return None
        extra = {k: data.get(k) for k in ("reps", "hold_s", "minutes")}
        for v in extra.values():
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0):
                return None
        return ExerciseDose(
            sets,
            None if extra["reps"] is None else int(extra["reps"]),
            None if extra["hold_s"] is None else float(extra["hold_s"]),
            None if extra["minutes"] is None else float(extra["minutes"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def dose_at_level(ex: Exercise, level: str) -> ExerciseDose:
    """The dose ``--level low|mid|high`` gives an exercise."""
    return ExerciseDose(
        sets=ex.sets.count(level),
        reps=ex.reps.count(level) if ex.kind == "reps" and ex.reps else None,
        hold_s=ex.hold_s.at(level) if ex.kind == "hold" and ex.hold_s else None,
        minutes=ex.minutes.at(level) if ex.kind == "timed" and ex.minutes else None,
    )


@dataclass(frozen=True)
class DosePlan:
    """Today's dose of every exercise of a plan, with the decision behind each."""

    plan: Plan
    before: tuple[ExerciseDose, ...]  # the dose each exercise had (the journal's, or its lowest)
    decisions: tuple[Decision, ...]
    recorded: tuple[bool, ...]  # whether the journal had a dose for it yet

    def option_doses(self) -> tuple[tuple[int, ExerciseDose], ...]:
        """For :class:`voicecoach.core.schedule.Options`: every exercise at its own dose."""
        return tuple((i, d.dose) for i, d in enumerate(self.decisions))

    def changes(self, *, today: bool = True) -> list[str]:
        """What the session says at its start: each changed dose, and each back-off rule
        that could not lower a dose any further (``today=False``: worded for the journal)."""
        out = []
        for ex, old, d in zip(self.plan.exercises, self.before, self.decisions):
            if d.change != "hold" or d.rule in BACK_OFF_RULES:
                out.append(phrases.dose_change(ex.name, old, d.dose, d.change, d.rule, today=today))
        return out


def _facts(rows: Sequence[HistoryRow], settled: Mapping[int, bool | None]) -> list[SessionFacts]:
    return [
        SessionFacts(
            day=r.day,
            full_dose=r.full_dose,
            pain_before=r.pain_before,
            pain_after=r.pain_after,
            hurt=r.hurt,
            settled=settled.get(r.session_id, r.settled),
            dose=dose_from(r.dose),
        )
        for r in rows
    ]


def decide_doses(
    journal: Journal, key: str, plan: Plan, today: date, settled: Mapping[int, bool | None] | None = None
) -> DosePlan:
    """Each exercise's dose for a session today. ``settled`` (session id -> answer) stands in
    for next-morning answers not in the journal yet (a question about to be asked)."""
    paused = progression_paused(journal.doses.pain_series(key, before=today), today)
    before, decisions, recorded = [], [], []
    for ex in plan.exercises:
        ranges = ranges_of(ex)
        stored = journal.doses.current_dose(key, ex.name)
        current = dose_from(stored[0]) if stored else None
        recorded.append(current is not None)
        current = current or lowest(ranges)
        history = _facts(journal.doses.history_for(key, ex.name), settled or {})
        before.append(current)
        decisions.append(decide(ranges, current, history, hold_progress=paused))
    return DosePlan(plan, tuple(before), tuple(decisions), tuple(recorded))


def record_doses(journal: Journal, key: str, doses: DosePlan, session_id: int | None = None) -> None:
    """Store each change with the rule that made it, and each exercise's starting dose."""
    for ex, d, known in zip(doses.plan.exercises, doses.decisions, doses.recorded):
        if d.change != "hold" or not known:
            journal.doses.record_dose(
                key,
                ex.name,
                dose_dict(d.dose),
                change=d.change if d.change != "hold" else "start",
                rule=d.rule,
                reason=d.reason,
                session_id=session_id,
            )


def advice_for(journal: Journal, key: str, today: date, *, before_today: bool = True) -> list[Advice]:
    """The weekly advice in force for a plan (from the sessions before today, as a session
    starting now sees it; or all of them)."""
    return advice(
        journal.doses.pain_series(key, before=today if before_today else None), journal.doses.back_offs(key), today
    )


ADVICE_QUIET_DAYS = 6  # advice said within this many days before today is not said again


@dataclass(frozen=True)
class Today:
    """What the journal decides for a session today (see :func:`today`).

    ``options`` are the session's options at today's doses (the answer to the next-morning
    question not known yet). ``dose_plans`` maps each possible answer (None: not asked or not
    answered) to the doses it leads to; empty with ``--level low|mid|high``. ``settled_session``
    is the session that question is about (None: nothing to ask). ``texts`` are the phrases the
    session may say beyond its timeline (prepared with it); ``changes`` the dose changes in words.
    ``lost`` is the error that made the journal unusable (then nothing else came from it).
    """

    options: Options
    day: date
    dose_plans: Mapping[bool | None, DosePlan] = field(default_factory=dict)
    settled_session: int | None = None
    advice: tuple[Advice, ...] = ()
    texts: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    lost: JournalUnavailable | None = None


def today(
    journal: Journal | None,
    key: str,
    plan: Plan,
    options: Options,
    *,
    auto: bool,
    ask: bool = False,
    commit: bool = False,
    live: bool = False,
    day: date | None = None,
) -> Today:
    """The one place that decides a session of ``plan`` today from the journal (None: none).

    ``auto`` (``--level auto``): each exercise at the journal's dose, else ``options`` as given.
    ``commit``: the doses are stored now (``export``: a session is about to be done with them;
    ``show`` only previews). ``live`` (``play``): the check-ins are set up too: with ``ask``,
    the last session's next-morning question is to be asked, so the doses for each answer are
    worked out now, with the weekly advice not said lately; a live session commits its doses
    itself, once the question is answered. A :class:`JournalUnavailable` is returned as ``lost``.
    """
    day = day or date.today()
    if journal is None or not (auto or live):
        return Today(options, day)
    try:
        settled_session = _unsettled(journal, day) if live and ask else None
        plans: dict[bool | None, DosePlan] = {}
        if auto:
            answers: list[bool | None] = [None, True, False] if settled_session is not None else [None]
            for a in answers:
                stands_in = {settled_session: a} if settled_session is not None else None
                plans[a] = decide_doses(journal, key, plan, day, stands_in)
            if commit and not live:
                record_doses(journal, key, plans[None])
        advice: list[Advice] = []
        if live:
            said_lately = {r for _, r in journal.events("advice", since=day - timedelta(days=ADVICE_QUIET_DAYS))}
            advice = [a for a in advice_for(journal, key, day) if a.rule not in said_lately]
    except JournalUnavailable as exc:
        return Today(options, day, lost=exc)
    texts: list[str] = []
    if live:
        for doses in plans.values():
            variant = replace(options, doses=doses.option_doses())
            texts += [*build_timeline(plan, variant).texts(), *doses.changes()]
        texts += [a.message for a in advice]
    if None in plans:
        options = replace(options, doses=plans[None].option_doses())
    changes = tuple(plans[None].changes()) if None in plans else ()
    return Today(options, day, plans, settled_session, tuple(advice), tuple(texts), changes)


def today_from_file(key: str, plan: Plan, options: Options, *, auto: bool, commit: bool = False) -> Today:
    """:func:`today` for ``show`` and ``export``: the user's journal is opened (with ``auto``
    only) and closed again; one that cannot be opened is ``lost``, and the doses are the lowest."""
    if not auto:
        return Today(options, date.today())
    try:
        with open_journal() as journal:
            return today(journal, key, plan, options, auto=True, commit=commit)
    except JournalUnavailable as exc:
        return Today(options, date.today(), lost=exc)


def _unsettled(journal: Journal, day: date) -> int | None:
    """The last session, if it was before ``day`` and its next morning is not known yet."""
    last = journal.last_session()
    if last is not None and last.settled is None and last.started_at[:10] < day.isoformat():
        return last.id
    return None
