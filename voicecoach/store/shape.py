"""The journal's shape: the tables and columns its version's migrations make, checked on open.

A journal whose ``user_version`` says one thing and whose tables say
another (a column dropped by hand, a table missing) would fail in the middle
of a session, or worse, be written to half-understood: it is reported as
damaged before anything is written, and left as it is.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence


def _tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Every table of the database (but SQLite's own) and its column names."""
    names = [
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    return {n: [r[1] for r in conn.execute('PRAGMA table_info("{}")'.format(n.replace('"', '""')))] for n in names}


@functools.lru_cache(maxsize=8)
def _shape(migrations: tuple[tuple[str, ...], ...]) -> dict[str, frozenset[str]]:
    """The tables and columns these migrations make, from an empty database in memory."""
    conn = sqlite3.connect(":memory:")
    try:
        for statements in migrations:
            for statement in statements:
                conn.execute(statement)
        return {name: frozenset(columns) for name, columns in _tables(conn).items()}
    finally:
        conn.close()


def shape_problem(conn: sqlite3.Connection, migrations: Sequence[tuple[str, ...]]) -> str | None:
    """What is wrong with the journal's tables for its version, or None (read in one transaction).

    A journal newer than this program is left to :meth:`Journal._migrate` to report.
    """
    conn.execute("BEGIN")  # the version and the tables of one moment, while another run may be migrating
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        found = _tables(conn)
    finally:
        conn.execute("COMMIT")
    if not 0 <= version <= len(migrations):
        return None
    for table, columns in _shape(tuple(migrations[:version])).items():
        if table not in found:
            return f"the table {table} is missing"
        if missing := sorted(columns - set(found[table])):
            return f"the table {table} has no column {', '.join(missing)}"
        if extra := sorted(set(found[table]) - columns):
            return f"the table {table} has an unknown column {', '.join(extra)}"
    return None
