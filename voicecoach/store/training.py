"""The coach that remembers: the journal's doses for a plan, by the rules of core.progression.

``show``, ``export``, ``play`` and ``journal add`` ask :func:`decide_doses` for each exercise's
dose; ``export``, ``play`` and ``journal add`` commit it with :func:`record_doses` (a change
is stored with the rule that made it), ``show`` only previews it. Deciding is idempotent:
sessions done at an older dose no longer count once a change is recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
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
from voicecoach.store.journal import Journal, default_path
from voicecoach.store.places import migrate_progress_json


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
            if d.change != "hold" or d.rule in ("pain-above-5", "it-hurts", "not-settled-twice"):
                out.append(phrases.dose_change(ex.name, old, d.dose, d.change, d.rule, today=today))
        return out


def _facts(rows: Sequence[Mapping[str, Any]], settled: Mapping[int, bool | None]) -> list[SessionFacts]:
    return [
        SessionFacts(
            day=r["day"],
            full_dose=r["full_dose"],
            pain_before=r["pain_before"],
            pain_after=r["pain_after"],
            hurt=r["hurt"],
            settled=settled.get(r["session_id"], r["settled"]),
            dose=dose_from(r["dose"]),
        )
        for r in rows
    ]


def decide_doses(
    journal: Journal, key: str, plan: Plan, today: date, settled: Mapping[int, bool | None] | None = None
) -> DosePlan:
    """Each exercise's dose for a session today. ``settled`` (session id -> answer) stands in
    for next-morning answers not in the journal yet (a question about to be asked)."""
    paused = progression_paused(journal.pain_series(key, before=today), today)
    before, decisions, recorded = [], [], []
    for ex in plan.exercises:
        ranges = ranges_of(ex)
        stored = journal.current_dose(key, ex.name)
        current = dose_from(stored[0]) if stored else None
        recorded.append(current is not None)
        current = current or lowest(ranges)
        history = _facts(journal.history_for(key, ex.name), settled or {})
        before.append(current)
        decisions.append(decide(ranges, current, history, hold_progress=paused))
    return DosePlan(plan, tuple(before), tuple(decisions), tuple(recorded))


def record_doses(journal: Journal, key: str, doses: DosePlan, session_id: int | None = None) -> None:
    """Store each change with the rule that made it, and each exercise's starting dose."""
    for ex, d, known in zip(doses.plan.exercises, doses.decisions, doses.recorded):
        if d.change != "hold" or not known:
            journal.record_dose(
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
    return advice(journal.pain_series(key, before=today if before_today else None), journal.back_offs(key), today)
