"""Fault injection, the journal's shape: a table or column missing (or unknown) is damage, found on open.

A journal whose ``user_version`` is current but whose tables are not what
that version makes (``red_flag`` dropped by hand) must be reported as
damaged by every command that opens it, never be written to, and stay
byte for byte as it was; the commands that do not need it go on.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.core import phrases
from voicecoach.store.journal import SCHEMA_VERSION, Journal, JournalUnavailable


def journal_file() -> Path:
    return Path(os.environ["VOICECOACH_DATA_DIR"]) / "journal.sqlite3"


def _fingerprint(path: Path) -> dict[str, str]:
    """The bytes of the journal and of its WAL and shared-memory files, if any."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.parent.iterdir())
        if p.name.startswith(path.name)
    }


DAMAGE = {
    "column-dropped": "ALTER TABLE sessions DROP COLUMN red_flag",
    "table-dropped": "DROP TABLE events",
    "column-added": "ALTER TABLE doses ADD COLUMN mine TEXT NOT NULL DEFAULT ''",
    "paced-column-dropped": "ALTER TABLE paced_sets DROP COLUMN seconds",
    "paced-table-dropped": "DROP TABLE paced_sets",
}
SAYS = {
    "column-dropped": "the table sessions has no column red_flag",
    "table-dropped": "the table events is missing",
    "column-added": "the table doses has an unknown column mine",
    "paced-column-dropped": "the table paced_sets has no column seconds",
    "paced-table-dropped": "the table paced_sets is missing",
}


@pytest.fixture(params=list(DAMAGE))
def damaged(request) -> tuple[Path, str]:
    path = journal_file()
    Journal.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(DAMAGE[request.param])
    conn.execute("PRAGMA journal_mode = DELETE")  # one file, no WAL: every later write would show
    conn.close()
    return path, SAYS[request.param]


def test_opening_reports_the_damage_and_writes_nothing(damaged):
    path, says = damaged
    before = _fingerprint(path)
    with pytest.raises(JournalUnavailable) as caught:
        Journal.open(path)
    assert caught.value.kind == "damaged" and says in str(caught.value)
    assert _fingerprint(path) == before


@pytest.mark.parametrize(
    "args",
    [
        ["journal"],
        ["journal", "--csv"],
        ["journal", "add", "inner-knee", "--pain-after", "2"],
        ["journal", "settled", "yes"],
    ],
    ids=["list", "csv", "add", "settled"],
)
def test_journal_commands_say_it_is_damaged_and_leave_it(damaged, args):
    path, says = damaged
    before = _fingerprint(path)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert f"voicecoach: error: {phrases.JOURNAL_OFF['damaged']} ({path}: {says})" in result.output
    assert "internal error" not in result.output
    assert _fingerprint(path) == before


def test_show_with_auto_doses_goes_on_without_it(damaged):
    path, says = damaged
    before = _fingerprint(path)
    result = CliRunner().invoke(cli, ["show", "inner-knee", "--estimate", "--level", "auto"])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"voicecoach: {phrases.JOURNAL_OFF['damaged']} ({path}: {says})\n"
    assert _fingerprint(path) == before


def test_an_older_journal_of_the_right_shape_is_still_upgraded(tmp_path):
    from voicecoach.store.journal import MIGRATIONS

    path = tmp_path / "j.sqlite3"
    Journal.open(path, migrations=MIGRATIONS[:1]).close()
    with Journal.open(path) as journal:
        assert journal.version == SCHEMA_VERSION
