"""The journal's rows as typed values: what :class:`voicecoach.store.journal.Journal` reads back.

Each row type names its fields as the columns it is read from (``columns`` gives the SELECT
list), so a query and its row cannot drift apart. Values are as stored (flags as 0/1 or None),
except where a field says otherwise (doses are dicts, ``hurt`` a bool).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any


def columns(row_type: type, table: str = "") -> str:
    """The SELECT list for ``row_type`` (each column prefixed with ``table.`` when given)."""
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + f.name for f in fields(row_type))


@dataclass(frozen=True)
class SessionRow:
    """A session: live, or logged afterwards with ``journal add``."""

    id: int
    plan_key: str
    plan_title: str
    plan_hash: str
    started_at: str  # ISO timestamp, local time
    ended_at: str | None
    source: str  # "live" or "logged"
    ended_early: int
    pain_before: int | None
    pain_after: int | None
    settled: int | None  # back to usual the next morning: 1, 0, or None (not answered)
    red_flag: int | None


@dataclass(frozen=True)
class ExerciseRow:
    """One exercise of a session, as logged."""

    idx: int
    name: str
    dose: dict[str, Any]
    status: str  # "done", "partial" or "skipped"
    repeated: int
    hurt: bool
    pain_at_hurt: int | None


@dataclass(frozen=True)
class ControlRow:
    """A control used during a live session."""

    at_s: float
    action: str
    source: str


@dataclass(frozen=True)
class DoseRow:
    """A recorded dose decision."""

    plan_key: str
    exercise: str
    dose: dict[str, Any]
    changed_at: str
    rule: str
    reason: str
    change: str  # "progress", "hold", "back off" or "start"
    session_id: int | None


@dataclass(frozen=True)
class HistoryRow:
    """A session in which an exercise was done, as the progression rules see it
    (the fields of :class:`voicecoach.core.progression.SessionFacts`, and the session's id)."""

    day: date
    full_dose: bool
    pain_before: int | None
    pain_after: int | None
    hurt: bool
    settled: bool | None
    dose: dict[str, Any]
    session_id: int


@dataclass(frozen=True)
class PacedSetRow:
    """A self-paced set: how long it took from its opening words to "done", pauses not counted."""

    idx: int  # the exercise's place in the plan
    exercise: str
    set: int | None
    side: str | None
    seconds: float
    at_s: float | None  # when it ended, into the session
