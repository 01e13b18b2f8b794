"""The doses of each exercise: every decision with its rule, and the history decisions come from.

Reached as :attr:`voicecoach.store.journal.Journal.doses`; the rules themselves are in
:mod:`voicecoach.core.progression` and :mod:`voicecoach.store.training`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Any, Protocol

from voicecoach.store.journalfile import json_object, timestamp
from voicecoach.store.rows import DoseRow, HistoryRow, columns


class _Store(Protocol):
    def read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]: ...
    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


class DoseLog:
    """The ``doses`` table, and the sessions' history an exercise's next dose is decided from."""

    def __init__(self, journal: _Store) -> None:
        self._journal = journal

    def dose_log(self, plan_key: str | None = None, since: date | None = None) -> list[DoseRow]:
        """Every recorded dose decision (oldest first), of one plan or all, since a day."""
        sql = f"SELECT {columns(DoseRow)} FROM doses WHERE changed_at >= ?"
        args: list[Any] = [since.isoformat() if since else ""]
        if plan_key is not None:
            sql += " AND plan_key = ?"
            args.append(plan_key)
        return [
            DoseRow(key, exercise, json_object(dose), *rest)
            for key, exercise, dose, *rest in self._journal.read(sql + " ORDER BY id", args)
        ]

    def history_for(self, plan_key: str, exercise: str, limit: int = 30) -> list[HistoryRow]:
        """The last ``limit`` sessions in which ``exercise`` was done (not skipped), oldest first."""
        rows = self._journal.read(
            "SELECT s.started_at, e.status, s.pain_before, s.pain_after, e.hurt, s.settled, e.dose, s.id"
            " FROM exercises e JOIN sessions s ON s.id = e.session_id"
            " WHERE s.plan_key = ? AND e.name = ? AND e.status != 'skipped'"
            " ORDER BY s.started_at DESC, s.id DESC LIMIT ?",
            (plan_key, exercise, limit),
        )
        return [
            HistoryRow(
                day=date.fromisoformat(started[:10]),
                full_dose=status == "done",
                pain_before=before,
                pain_after=after,
                hurt=bool(hurt),
                settled=None if settled is None else bool(settled),
                dose=json_object(dose),
                session_id=sid,
            )
            for started, status, before, after, hurt, settled, dose, sid in reversed(rows)
        ]

    def pain_series(self, plan_key: str, before: date | None = None) -> list[tuple[date, int | None]]:
        """(day, pain before) of every session of a plan (before a day), oldest first, for
        ``progression.advice``."""
        rows = self._journal.read(
            "SELECT started_at, pain_before FROM sessions WHERE plan_key = ? AND started_at < ?"
            " ORDER BY started_at, id",
            (plan_key, before.isoformat() if before else "~"),
        )
        return [(date.fromisoformat(s[:10]), p) for s, p in rows]

    def current_dose(self, plan_key: str, exercise: str) -> tuple[dict[str, Any], str, str] | None:
        """The latest recorded (dose, rule, reason) of an exercise, or None."""
        rows = self._journal.read(
            "SELECT dose, rule, reason FROM doses WHERE plan_key = ? AND exercise = ? ORDER BY id DESC LIMIT 1",
            (plan_key, exercise),
        )
        return (json_object(rows[0][0]), rows[0][1], rows[0][2]) if rows else None

    def record_dose(
        self,
        plan_key: str,
        exercise: str,
        dose: Mapping[str, Any],
        *,
        change: str,
        rule: str,
        reason: str,
        session_id: int | None = None,
    ) -> None:
        """Remember a dose decision ("progress", "hold", "back off", or "start"), for a session."""
        with self._journal.transaction() as c:
            c.execute(
                "INSERT INTO doses (plan_key, exercise, dose, changed_at, rule, reason, change, session_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (plan_key, exercise, json.dumps(dict(dose)), timestamp(), rule, reason, change, session_id),
            )

    def back_offs(self, plan_key: str) -> list[date]:
        """Days on which any exercise of a plan was backed off, for ``progression.advice``."""
        rows = self._journal.read(
            "SELECT changed_at FROM doses WHERE plan_key = ? AND change = 'back off' ORDER BY id", (plan_key,)
        )
        return [date.fromisoformat(r[0][:10]) for r in rows]
