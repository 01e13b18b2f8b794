"""The journal's file: where it is, its schema and migrations, and what can go wrong opening it.

:func:`connect` checks the file before SQLite writes anything (a SQLite header, not cut
short, ``quick_check``, the tables and columns of its version: :mod:`.shape`), then sets
WAL mode; :class:`voicecoach.store.journal.Journal` migrates it and reads and writes it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from time import sleep
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


def why(exc: BaseException, path: Path) -> JournalUnavailable:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return JournalUnavailable("busy", path)
    if "readonly" in text or "read-only" in text or "permission" in text or "unable to open" in text:
        return JournalUnavailable("read-only", path)
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return JournalUnavailable("damaged", path)
    return JournalUnavailable("other", path, str(exc))


def wal(conn: sqlite3.Connection) -> None:
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


def connect(path: Path, migrations: Sequence[tuple[str, ...]]) -> sqlite3.Connection:
    """A connection to the journal at ``path`` (created if missing), or JournalUnavailable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise JournalUnavailable("other", path, "a folder is in the way")
        if path.exists() and path.stat().st_size > 0:
            with path.open("rb") as f:
                head = f.read(100)
            if not head.startswith(SQLITE_HEADER):
                raise JournalUnavailable("damaged", path, "not a journal file")
            if truncated(head, path.stat().st_size, wal=Path(f"{path}-wal").exists()):
                raise JournalUnavailable("damaged", path, "cut short")
    except OSError as exc:
        kind = "read-only" if isinstance(exc, PermissionError) else "other"
        raise JournalUnavailable(kind, path, exc.strerror or str(exc)) from exc
    # A file another program is creating at this moment (its first transaction, its change to WAL mode)
    # can answer "disk I/O error" for an instant: tried again for as long as the busy timeout.
    for _ in range(BUSY_TIMEOUT_MS // 50):
        try:
            return _open(path, migrations)
        except JournalUnavailable as exc:
            if "disk i/o error" not in exc.detail.lower():
                raise
            sleep(0.05)
    return _open(path, migrations)


def _open(path: Path, migrations: Sequence[tuple[str, ...]]) -> sqlite3.Connection:
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            raise JournalUnavailable("damaged", path)
        problem = shape_problem(conn, migrations)  # before the first write (WAL mode is one)
        if problem:
            raise JournalUnavailable("damaged", path, problem)
        wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: safe against a crash
        conn.execute("PRAGMA foreign_keys = ON")
        return conn
    except JournalUnavailable:
        if conn is not None:
            conn.close()
        raise
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise why(exc, path) from exc


def truncated(head: bytes, size: int, *, wal: bool) -> bool:
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


def timestamp() -> str:
    """Now, as the journal writes times: local time with its offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def json_object(text: str) -> dict[str, Any]:
    """A JSON column's object ({} for anything else: a journal edited by hand never breaks a read)."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
