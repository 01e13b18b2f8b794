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
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from time import sleep
from time import time as time_now
from typing import Any

from voicecoach.core import phrases
from voicecoach.store.shape import shape_problem

BUSY_TIMEOUT_MS = 2000
SQLITE_HEADER = b"SQLite format 3\x00"
_PAIN = "INTEGER CHECK ({} BETWEEN 0 AND 10)"
_V1 = (
    f"""CREATE TABLE sessions (id INTEGER PRIMARY KEY, plan_key TEXT NOT NULL,
        plan_title TEXT NOT NULL DEFAULT '', plan_hash TEXT NOT NULL DEFAULT '',
        started_at TEXT NOT NULL, ended_at TEXT,
        source TEXT NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'logged')),
        ended_early INTEGER NOT NULL DEFAULT 0, pain_before {_PAIN.format("pain_before")},
        pain_after {_PAIN.format("pain_after")}, settled INTEGER, red_flag INTEGER)""",
    "CREATE INDEX sessions_plan ON sessions (plan_key, started_at)",
    f"""CREATE TABLE exercises (
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL, name TEXT NOT NULL, dose TEXT NOT NULL DEFAULT '{{}}',
        status TEXT NOT NULL CHECK (status IN ('done', 'partial', 'skipped')),
        repeated INTEGER NOT NULL DEFAULT 0, hurt INTEGER NOT NULL DEFAULT 0,
        pain_at_hurt {_PAIN.format("pain_at_hurt")}, PRIMARY KEY (session_id, idx))""",
    "CREATE INDEX exercises_name ON exercises (name)",
    """CREATE TABLE controls (id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        at_s REAL NOT NULL, action TEXT NOT NULL, source TEXT NOT NULL)""",
    """CREATE TABLE doses (id INTEGER PRIMARY KEY, plan_key TEXT NOT NULL, exercise TEXT NOT NULL,
        dose TEXT NOT NULL, changed_at TEXT NOT NULL, rule TEXT NOT NULL, reason TEXT NOT NULL,
        change TEXT NOT NULL CHECK (change IN ('progress', 'hold', 'back off', 'start')))""",
    "CREATE INDEX doses_exercise ON doses (plan_key, exercise, id)",
    """CREATE TABLE places (plan_key TEXT PRIMARY KEY, exercise_index INTEGER NOT NULL,
        exercise TEXT NOT NULL, "set" INTEGER, side TEXT, saved_at REAL NOT NULL)""",
)
_V2 = (  # things worth keeping that are not a column: a red flag overridden, advice given
    """CREATE TABLE events (id INTEGER PRIMARY KEY,
        session_id INTEGER REFERENCES sessions (id) ON DELETE CASCADE,
        at_s REAL, kind TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')""",
    # the session a dose was decided for, so `journal` lists each change with its session
    "ALTER TABLE doses ADD COLUMN session_id INTEGER REFERENCES sessions (id) ON DELETE SET NULL",
)
_V3 = (  # the time each self-paced set took, from its opening words to "done" (pauses not counted)
    """CREATE TABLE paced_sets (id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL, exercise TEXT NOT NULL, "set" INTEGER, side TEXT,
        seconds REAL NOT NULL CHECK (seconds >= 0), at_s REAL)""",
)
MIGRATIONS: list[tuple[str, ...]] = [_V1, _V2, _V3]
SCHEMA_VERSION = len(MIGRATIONS)


class JournalUnavailable(Exception):
    """The journal cannot be used now; ``str(exc)`` is one line to show the user.

    ``kind`` ("busy", "read-only", "damaged", "newer", "other") picks the words that are
    spoken (:func:`voicecoach.core.phrases.journal_off`); the printed line adds the path.
    """

    def __init__(self, kind: str, path: Path, detail: str = "") -> None:
        self.kind, self.path, self.detail = kind, Path(path), detail
        super().__init__(str(self))

    @property
    def spoken(self) -> str:
        return phrases.journal_off(self.kind)

    def __str__(self) -> str:
        return f"{self.spoken} ({self.path}{': ' + self.detail if self.detail else ''})"


def data_dir() -> Path:
    """``$VOICECOACH_DATA_DIR``, else the platform's user data folder."""
    env = os.environ.get("VOICECOACH_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs  # lazily: only the app needs it

    return Path(platformdirs.user_data_dir("voicecoach"))


def default_path() -> Path:
    """The journal file: ``journal.sqlite3`` in :func:`data_dir`."""
    return data_dir() / "journal.sqlite3"


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


def _why(exc: BaseException, path: Path) -> JournalUnavailable:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return JournalUnavailable("busy", path)
    if "readonly" in text or "read-only" in text or "permission" in text or "unable to open" in text:
        return JournalUnavailable("read-only", path)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return JournalUnavailable("damaged", path)
    return JournalUnavailable("other", path, str(exc))


def _wal(conn: sqlite3.Connection) -> None:
    """WAL mode. Turning a new file to WAL needs it alone, and SQLite does not wait for that
    (two sessions opening a new journal at once): try again for as long as the busy timeout."""
    for _ in range(BUSY_TIMEOUT_MS // 10):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            sleep(0.01)
    conn.execute("PRAGMA journal_mode = WAL")


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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                raise JournalUnavailable("other", path, "a folder is in the way")
            if path.exists() and path.stat().st_size > 0:
                with path.open("rb") as f:
                    head = f.read(100)
                if not head.startswith(SQLITE_HEADER):
                    raise JournalUnavailable("damaged", path, "not a journal file")
                if _truncated(head, path.stat().st_size, wal=Path(f"{path}-wal").exists()):
                    raise JournalUnavailable("damaged", path, "cut short")
        except OSError as exc:
            kind = "read-only" if isinstance(exc, PermissionError) else "other"
            raise JournalUnavailable(kind, path, exc.strerror or str(exc)) from exc
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            rows = conn.execute("PRAGMA quick_check").fetchall()
            if rows != [("ok",)]:
                raise JournalUnavailable("damaged", path)
            problem = shape_problem(conn, migrations)  # before the first write (WAL mode is one)
            if problem:
                raise JournalUnavailable("damaged", path, problem)
            _wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: safe against a crash
            conn.execute("PRAGMA foreign_keys = ON")
            journal = cls(conn, path)
            journal._migrate(migrations)
            return journal
        except JournalUnavailable:
            if conn is not None:
                conn.close()
            raise
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise _why(exc, path) from exc

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
                raise _why(exc, self.path) from exc

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise _why(exc, self.path) from exc

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
                    started_at.isoformat(timespec="seconds") if started_at else _now(),
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

    def paced_sets_of(self, session_id: int) -> list[dict[str, Any]]:
        """The self-paced sets of a session, in the order they were done."""
        return self._rows(
            'SELECT idx, exercise, "set", side, seconds, at_s FROM paced_sets WHERE session_id = ? ORDER BY id',
            (session_id,),
        )

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
                (_now(), int(ended_early), pain_after, _flag(red_flag), session_id),
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

    def last_session(self) -> dict[str, Any] | None:
        """The latest session in which something was done (the one the next-morning question is about)."""
        rows = self._rows(
            "SELECT * FROM sessions s WHERE s.source = 'logged' OR EXISTS (SELECT 1 FROM exercises e"
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
            session_id = int(last["id"])
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

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            try:
                cur = self._conn.execute(sql, args)
                names = [d[0] for d in cur.description]
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            except sqlite3.Error as exc:
                raise _why(exc, self.path) from exc

    def exercises_of(self, session_id: int) -> list[dict[str, Any]]:
        """The exercises logged for a session, in order (dose as a dict)."""
        rows = self._rows(
            "SELECT idx, name, dose, status, repeated, hurt, pain_at_hurt FROM exercises"
            " WHERE session_id = ? ORDER BY idx",
            (session_id,),
        )
        return [{**r, "dose": _loads(r["dose"]), "hurt": bool(r["hurt"])} for r in rows]

    def controls_of(self, session_id: int) -> list[dict[str, Any]]:
        return self._rows("SELECT at_s, action, source FROM controls WHERE session_id = ? ORDER BY id", (session_id,))

    def dose_log(self, plan_key: str | None = None, since: date | None = None) -> list[dict[str, Any]]:
        """Every recorded dose decision (oldest first), of one plan or all, since a day."""
        sql = (
            "SELECT plan_key, exercise, dose, changed_at, rule, reason, change, session_id FROM doses"
            " WHERE changed_at >= ?"
        )
        args: list[Any] = [since.isoformat() if since else ""]
        if plan_key is not None:
            sql += " AND plan_key = ?"
            args.append(plan_key)
        return [{**r, "dose": _loads(r["dose"])} for r in self._rows(sql + " ORDER BY id", args)]

    def recent(self, n: int = 10, since: date | None = None) -> list[dict[str, Any]]:
        """The last ``n`` sessions (since a day), newest first, as dicts of the sessions columns."""
        return self._rows(
            "SELECT * FROM sessions WHERE started_at >= ? ORDER BY started_at DESC, id DESC LIMIT ?",
            (since.isoformat() if since else "", n),
        )

    def history_for(self, plan_key: str, exercise: str, limit: int = 30) -> list[dict[str, Any]]:
        """The last ``limit`` sessions in which ``exercise`` was done (not skipped), oldest first.

        Keys follow ``progression.SessionFacts``: day (date), full_dose, pain_before, pain_after,
        hurt, settled (bool or None), and dose (the dict that was logged); and session_id.
        """
        rows = self.read(
            "SELECT s.started_at, e.status, s.pain_before, s.pain_after, e.hurt, s.settled, e.dose, s.id"
            " FROM exercises e JOIN sessions s ON s.id = e.session_id"
            " WHERE s.plan_key = ? AND e.name = ? AND e.status != 'skipped'"
            " ORDER BY s.started_at DESC, s.id DESC LIMIT ?",
            (plan_key, exercise, limit),
        )
        return [
            {
                "day": date.fromisoformat(started[:10]),
                "full_dose": status == "done",
                "pain_before": before,
                "pain_after": after,
                "hurt": bool(hurt),
                "settled": None if settled is None else bool(settled),
                "dose": _loads(dose),
                "session_id": sid,
            }
            for started, status, before, after, hurt, settled, dose, sid in reversed(rows)
        ]

    def pain_series(self, plan_key: str, before: date | None = None) -> list[tuple[date, int | None]]:
        """(day, pain before) of every session of a plan (before a day), oldest first, for
        ``progression.advice``."""
        rows = self.read(
            "SELECT started_at, pain_before FROM sessions WHERE plan_key = ? AND started_at < ?"
            " ORDER BY started_at, id",
            (plan_key, before.isoformat() if before else "~"),
        )
        return [(date.fromisoformat(s[:10]), p) for s, p in rows]

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

    # -- doses --------------------------------------------------------------------------

    def current_dose(self, plan_key: str, exercise: str) -> tuple[dict[str, Any], str, str] | None:
        """The latest recorded (dose, rule, reason) of an exercise, or None."""
        rows = self.read(
            "SELECT dose, rule, reason FROM doses WHERE plan_key = ? AND exercise = ? ORDER BY id DESC LIMIT 1",
            (plan_key, exercise),
        )
        return (_loads(rows[0][0]), rows[0][1], rows[0][2]) if rows else None

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
        with self.transaction() as c:
            c.execute(
                "INSERT INTO doses (plan_key, exercise, dose, changed_at, rule, reason, change, session_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (plan_key, exercise, json.dumps(dict(dose)), _now(), rule, reason, change, session_id),
            )

    def back_offs(self, plan_key: str) -> list[date]:
        """Days on which any exercise of a plan was backed off, for ``progression.advice``."""
        rows = self.read(
            "SELECT changed_at FROM doses WHERE plan_key = ? AND change = 'back off' ORDER BY id", (plan_key,)
        )
        return [date.fromisoformat(r[0][:10]) for r in rows]


def _truncated(head: bytes, size: int, *, wal: bool) -> bool:
    """Whether a file with this 100-byte header and ``size`` has lost its tail."""
    if len(head) < 100:
        return True
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1) or size % page:
        return True
    pages = int.from_bytes(head[28:32], "big")
    header_size_valid = head[24:28] == head[92:96] and pages > 0
    return not wal and header_size_valid and size < pages * page


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
