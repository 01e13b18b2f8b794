"""The training journal: sessions, exercises, doses and saved places, in one SQLite file.

The journal must never stop anyone exercising: :meth:`Journal.open` raises
:class:`JournalUnavailable` (with a one-line message for the user) when the file is locked,
read-only, damaged or not a database, and the caller then runs the session without a
journal. A damaged file is never deleted or overwritten. Every method converts SQLite
errors into the same exception. The schema version is ``PRAGMA user_version``; each entry
of :data:`MIGRATIONS` brings it up by one, in its own transaction. Before anything is
written, the tables and their columns must be exactly those the version's migrations make
(a column dropped by hand, a table missing): otherwise the journal is damaged, reported,
and left as it is. WAL mode with
``synchronous = NORMAL``: a killed process or a power cut loses at most the last
transaction, never an earlier one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from time import time as time_now
from typing import Any

from voicecoach.store.doselog import DoseLog
from voicecoach.store.journalfile import MIGRATIONS as MIGRATIONS
from voicecoach.store.journalfile import SCHEMA_VERSION as SCHEMA_VERSION
from voicecoach.store.journalfile import JournalUnavailable as JournalUnavailable
from voicecoach.store.journalfile import connect, json_object, timestamp, why
from voicecoach.store.journalfile import data_dir as data_dir
from voicecoach.store.journalfile import default_path as default_path
from voicecoach.store.rows import ControlRow, ExerciseRow, PacedSetRow, SessionRow, columns


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


class Journal:
    """One open journal file. Use :meth:`open`; safe to share between threads."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = threading.RLock()

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, migrations: Sequence[tuple[str, ...]] = MIGRATIONS) -> Journal:
        """Open (creating or upgrading) the journal at ``path``, or raise JournalUnavailable."""
        path = Path(path)
        conn = connect(path, migrations)
        journal = cls(conn, path)
        try:
            journal._migrate(migrations)
        except BaseException:
            conn.close()
            raise
        return journal

    def _migrate(self, migrations: Sequence[tuple[str, ...]]) -> None:
        # The version is read inside each write transaction: two sessions opening a new file at
        # once would otherwise both create the tables, and one would lose its journal.
        while True:
            with self.transaction() as c:
                version = int(c.execute("PRAGMA user_version").fetchone()[0])
                if version > len(migrations):
                    raise JournalUnavailable("newer", self.path)
                if version == len(migrations):  # a write anyway: find out now, not mid-session
                    c.execute(f"PRAGMA user_version = {version}")
                    return
                for statement in migrations[version]:
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {version + 1}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def doses(self) -> DoseLog:
        """The doses decided for each exercise, and the history they are decided from."""
        return DoseLog(self)

    @property
    def version(self) -> int:
        return int(self.read("PRAGMA user_version")[0][0])

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error).

        SQLite errors inside become :class:`JournalUnavailable`. Not re-entrant.
        """
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise why(exc, self.path) from exc

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise why(exc, self.path) from exc

    # -- sessions -----------------------------------------------------------------------

    def start_session(
        self,
        plan_key: str,
        *,
        plan_title: str = "",
        plan_hash: str = "",
        pain_before: int | None = None,
        started_at: datetime | None = None,
        source: str = "live",
    ) -> int:
        """A new session row; returns its id."""
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO sessions (plan_key, plan_title, plan_hash, started_at, source, pain_before)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    plan_key,
                    plan_title,
                    plan_hash,
                    started_at.isoformat(timespec="seconds") if started_at else timestamp(),
                    source,
                    pain_before,
                ),
            )
            return int(cur.lastrowid or 0)

    def log_exercise(
        self,
        session_id: int,
        idx: int,
        name: str,
        dose: Mapping[str, Any],
        status: str,
        *,
        repeated: int = 0,
        hurt: bool = False,
        pain_at_hurt: int | None = None,
    ) -> None:
        """Record (or replace) exercise ``idx`` of a session."""
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO exercises (session_id, idx, name, dose, status, repeated, hurt,"
                " pain_at_hurt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, idx, name, json.dumps(dict(dose)), status, repeated, int(hurt), pain_at_hurt),
            )

    def log_control(self, session_id: int, at_s: float, action: str, source: str) -> None:
        """A pause, skip, repeat or "it hurts" at ``at_s`` seconds, from key or voice ``source``."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO controls (session_id, at_s, action, source) VALUES (?, ?, ?, ?)",
                (session_id, at_s, action, source),
            )

    def log_paced_set(
        self, session_id: int, idx: int, exercise: str, set_: int | None, side: str | None, seconds: float, at_s: float
    ) -> None:
        """A self-paced set of exercise ``idx`` took ``seconds`` (it ended ``at_s`` into the session)."""
        with self.transaction() as c:
            c.execute(
                'INSERT INTO paced_sets (session_id, idx, exercise, "set", side, seconds, at_s) VALUES (?, ?, ?, ?, ?, ?, ?)',
                (session_id, idx, exercise, set_, side, seconds, at_s),
            )

    def paced_sets_of(self, session_id: int) -> list[PacedSetRow]:
        """The self-paced sets of a session, in the order they were done."""
        rows = self.read(
            'SELECT idx, exercise, "set", side, seconds, at_s FROM paced_sets WHERE session_id = ? ORDER BY id',
            (session_id,),
        )
        return [PacedSetRow(*r) for r in rows]

    def finish_session(
        self, session_id: int, *, ended_early: bool, pain_after: int | None = None, red_flag: bool | None = None
    ) -> None:
        """Close a session: when it ended, whether early, and the answers known by then.

        ``pain_after`` and ``red_flag`` are written only when given (an earlier answer stays).
        """
        with self.transaction() as c:
            c.execute(
                "UPDATE sessions SET ended_at = ?, ended_early = ?, pain_after = coalesce(?, pain_after),"
                " red_flag = coalesce(?, red_flag) WHERE id = ?",
                (timestamp(), int(ended_early), pain_after, _flag(red_flag), session_id),
            )

    _ANSWERS = ("pain_before", "pain_after", "red_flag", "settled")

    def update_session(self, session_id: int, **answers: int | bool | None) -> None:
        """Record check-in answers on a session: pain_before, pain_after, red_flag, settled."""
        unknown = set(answers) - set(self._ANSWERS)
        if unknown:
            raise ValueError(f"not a session answer: {', '.join(sorted(unknown))}")
        if not answers:
            return
        names = sorted(answers)
        values = [_flag(v) if isinstance(v, bool) else v for v in (answers[n] for n in names)]
        with self.transaction() as c:
            c.execute(f"UPDATE sessions SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?", (*values, session_id))

    def log_event(self, session_id: int | None, kind: str, detail: str = "", at_s: float | None = None) -> None:
        """Something worth keeping that is not a column ("red-flag-override", "advice")."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO events (session_id, at_s, kind, detail) VALUES (?, ?, ?, ?)",
                (session_id, at_s, kind, detail),
            )

    def events(self, kind: str, since: date | None = None) -> list[tuple[date, str]]:
        """(day, detail) of the events of ``kind`` in sessions since ``since``, oldest first."""
        rows = self.read(
            "SELECT s.started_at, e.detail FROM events e JOIN sessions s ON s.id = e.session_id"
            " WHERE e.kind = ? AND s.started_at >= ? ORDER BY e.id",
            (kind, since.isoformat() if since else ""),
        )
        return [(date.fromisoformat(r[0][:10]), r[1]) for r in rows]

    def last_session(self) -> SessionRow | None:
        """The latest session in which something was done (the one the next-morning question is about)."""
        rows = self._sessions(
            f"SELECT {columns(SessionRow, 's')} FROM sessions s WHERE s.source = 'logged' OR EXISTS (SELECT 1 FROM exercises e"
            " WHERE e.session_id = s.id AND e.status != 'skipped') ORDER BY started_at DESC, id DESC LIMIT 1"
        )
        return rows[0] if rows else None

    def set_settled(self, answer: bool, *, session_id: int | None = None, overwrite: bool = False) -> int | None:
        """Answer "was the knee back to usual by the next morning?" for ``session_id``, else for
        :meth:`last_session`. An answer already there is kept unless ``overwrite``.

        Returns the session answered, or None if there was none to answer.
        """
        if session_id is None:
            last = self.last_session()
            if last is None:
                return None
            session_id = last.id
        with self.transaction() as c:
            cur = c.execute(
                "UPDATE sessions SET settled = ? WHERE id = ?" + ("" if overwrite else " AND settled IS NULL"),
                (int(answer), session_id),
            )
            return session_id if cur.rowcount else None

    def add_logged_session(
        self,
        plan_key: str,
        plan_title: str,
        plan_hash: str,
        day: date,
        pain_before: int | None,
        pain_after: int | None,
        partial: bool,
        settled: bool | None,
        exercises: Sequence[Mapping[str, Any]],
    ) -> int:
        """A session done without the app, told afterwards. ``exercises``: dicts with name, dose,
        status (default "done") and hurt (default False).

        Today's sessions get the time now (so they sort after earlier ones); other days noon.
        """
        now = datetime.now().astimezone()
        when = now if day == now.date() else datetime.combine(day, time(12)).astimezone()
        at = when.isoformat(timespec="seconds")
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO sessions (plan_key, plan_title, plan_hash, started_at, ended_at, source,"
                " ended_early, pain_before, pain_after, settled)"
                " VALUES (?, ?, ?, ?, ?, 'logged', ?, ?, ?, ?)",
                (plan_key, plan_title, plan_hash, at, at, int(partial), pain_before, pain_after, _flag(settled)),
            )
            sid = int(cur.lastrowid or 0)
            for i, ex in enumerate(exercises):
                c.execute(
                    "INSERT INTO exercises (session_id, idx, name, dose, status, hurt) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        sid,
                        i,
                        str(ex["name"]),
                        json.dumps(dict(ex.get("dose") or {})),
                        ex.get("status", "done"),
                        int(bool(ex.get("hurt", False))),
                    ),
                )
            return sid

    def _sessions(self, sql: str, args: Sequence[Any] = ()) -> list[SessionRow]:
        return [SessionRow(*row) for row in self.read(sql, args)]

    def exercises_of(self, session_id: int) -> list[ExerciseRow]:
        """The exercises logged for a session, in order (dose as a dict)."""
        rows = self.read(
            f"SELECT {columns(ExerciseRow)} FROM exercises WHERE session_id = ? ORDER BY idx", (session_id,)
        )
        return [
            ExerciseRow(idx, name, json_object(dose), status, repeated, bool(hurt), pain)
            for idx, name, dose, status, repeated, hurt, pain in rows
        ]

    def controls_of(self, session_id: int) -> list[ControlRow]:
        rows = self.read(f"SELECT {columns(ControlRow)} FROM controls WHERE session_id = ? ORDER BY id", (session_id,))
        return [ControlRow(*row) for row in rows]

    def recent(self, n: int = 10, since: date | None = None) -> list[SessionRow]:
        """The last ``n`` sessions (since a day), newest first."""
        return self._sessions(
            f"SELECT {columns(SessionRow)} FROM sessions WHERE started_at >= ? ORDER BY started_at DESC, id DESC LIMIT ?",
            (since.isoformat() if since else "", n),
        )

    # -- saved places (see store.places) ----------------------------------------------

    def place(self, plan_key: str) -> tuple[int, str, int | None, str | None, float] | None:
        """The saved place of a plan: (exercise index, exercise, set, side, saved at), or None."""
        rows = self.read(
            'SELECT exercise_index, exercise, "set", side, saved_at FROM places WHERE plan_key = ?', (plan_key,)
        )
        if not rows:
            return None
        index, exercise, set_, side, saved_at = rows[0]
        return index, exercise, set_, side, saved_at

    def save_place(self, plan_key: str, index: int, exercise: str, set_: int | None, side: str | None) -> None:
        """Remember where a plan's session stopped (one place per plan, the latest wins)."""
        with self.transaction() as c:
            c.execute(
                'INSERT OR REPLACE INTO places (plan_key, exercise_index, exercise, "set", side, saved_at)'
                " VALUES (?, ?, ?, ?, ?, ?)",
                (plan_key, index, exercise, set_, side, time_now()),
            )

    def clear_place(self, plan_key: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM places WHERE plan_key = ?", (plan_key,))

    def import_places(self, places: Iterable[tuple[str, int, str, int | None, str | None, float]]) -> None:
        """Add (plan key, exercise index, exercise, set, side, saved at) places; ones already here win."""
        with self.transaction() as c:
            c.executemany(
                'INSERT OR IGNORE INTO places (plan_key, exercise_index, exercise, "set", side, saved_at)'
                " VALUES (?, ?, ?, ?, ?, ?)",
                list(places),
            )
