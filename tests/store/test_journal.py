"""Tests for the SQLite training journal, on real files: schema, API, and never blocking a session."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from helpers.files import ROOT

from voicecoach.store.journal import MIGRATIONS, SCHEMA_VERSION, Journal, JournalUnavailable
from voicecoach.store.places import PlaceStore, Saved, migrate_progress_json
from voicecoach.store.rows import PacedSetRow


@pytest.fixture
def jpath(tmp_path: Path) -> Path:
    return tmp_path / "data" / "journal.sqlite3"


@pytest.fixture
def journal(jpath: Path):
    with Journal.open(jpath) as j:
        yield j


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# -- schema and migrations ---------------------------------------------------------------


def test_new_file_gets_latest_schema_in_wal_mode(jpath: Path) -> None:
    Journal.open(jpath).close()
    assert {"sessions", "exercises", "controls", "doses", "places", "events"} <= tables(jpath)
    c = sqlite3.connect(jpath)
    assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    c.close()


def test_empty_existing_file_is_migrated(jpath: Path) -> None:
    jpath.parent.mkdir()
    jpath.write_bytes(b"")
    with Journal.open(jpath) as j:
        assert j.version == SCHEMA_VERSION


def test_v1_to_latest_keeps_rows(jpath: Path) -> None:
    with Journal.open(jpath, migrations=MIGRATIONS[:1]) as j:
        assert j.version == 1
        sid = j.start_session("plan", plan_title="Plan", pain_before=3)
    assert "events" not in tables(jpath)
    with Journal.open(jpath) as j:
        assert j.version == SCHEMA_VERSION
        assert [r.id for r in j.recent()] == [sid]
    assert "events" in tables(jpath)


def test_v2_to_v3_adds_the_self_paced_sets_and_keeps_rows(jpath: Path) -> None:
    with Journal.open(jpath, migrations=MIGRATIONS[:2]) as j:
        assert j.version == 2
        sid = j.start_session("plan", plan_title="Plan")
    assert "paced_sets" not in tables(jpath)
    with Journal.open(jpath) as j:
        assert j.version == SCHEMA_VERSION == 3
        assert [r.id for r in j.recent()] == [sid]
        j.log_paced_set(sid, 0, "Sit to stand", 1, None, 42.5, 61.0)
        assert j.paced_sets_of(sid) == [PacedSetRow(0, "Sit to stand", 1, None, 42.5, 61.0)]


def test_newer_schema_is_refused_untouched(jpath: Path) -> None:
    Journal.open(jpath).close()
    with sqlite3.connect(jpath) as c:
        c.execute("PRAGMA user_version = 99")
    before = jpath.read_bytes()
    with pytest.raises(JournalUnavailable, match="newer"):
        Journal.open(jpath)
    assert jpath.read_bytes() == before


# -- the API -----------------------------------------------------------------------------


def test_live_session_round_trip(journal: Journal) -> None:
    sid = journal.start_session("inner-knee", plan_title="Inner knee pain", plan_hash="abc", pain_before=2)
    journal.log_exercise(sid, 0, "Bridge", {"sets": 2, "reps": 10}, "done")
    journal.log_exercise(sid, 1, "Step ups", {"sets": 2, "reps": 10}, "partial", hurt=True, pain_at_hurt=6)
    journal.log_exercise(sid, 2, "Wall slides", {"sets": 1, "reps": 10}, "skipped")
    journal.log_control(sid, 12.5, "pause", "key")
    journal.finish_session(sid, ended_early=True, pain_after=4, red_flag=False)
    assert journal.set_settled(True) == sid
    assert journal.set_settled(False) is None  # nothing left to answer
    [row] = journal.recent(5)
    assert (row.pain_before, row.pain_after, row.ended_early, row.settled) == (2, 4, 1, 1)
    assert row.source == "live" and row.ended_at
    [bridge] = journal.doses.history_for("inner-knee", "Bridge")
    assert bridge.full_dose and bridge.settled is True and bridge.dose == {"sets": 2, "reps": 10}
    [steps] = journal.doses.history_for("inner-knee", "Step ups")
    assert steps.hurt and not steps.full_dose
    assert journal.doses.history_for("inner-knee", "Wall slides") == []  # skipped: not done


def test_logged_sessions_and_history_order(journal: Journal) -> None:
    for day, pain in ((date(2025, 3, 2), 4), (date(2025, 3, 1), 5), (date(2025, 3, 3), None)):
        journal.add_logged_session(
            "p", "Plan", "h", day, pain, 3, False, None, [{"name": "Bridge", "dose": {"sets": 2, "reps": 10}}]
        )
    days = [h.day for h in journal.doses.history_for("p", "Bridge")]
    assert days == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    assert journal.doses.pain_series("p") == [(date(2025, 3, 1), 5), (date(2025, 3, 2), 4), (date(2025, 3, 3), None)]
    assert journal.recent(1)[0].source == "logged"
    assert journal.set_settled(False) is not None  # the newest one without an answer
    assert journal.doses.history_for("p", "Bridge")[-1].settled is False


def test_doses(journal: Journal) -> None:
    assert journal.doses.current_dose("p", "Bridge") is None
    journal.doses.record_dose("p", "Bridge", {"sets": 2, "reps": 10}, change="start", rule="first", reason="Start.")
    journal.doses.record_dose(
        "p", "Bridge", {"sets": 2, "reps": 11}, change="progress", rule="two-good-sessions", reason="Went well."
    )
    journal.doses.record_dose(
        "p", "Bridge", {"sets": 2, "reps": 10}, change="back off", rule="it-hurts", reason="It hurt."
    )
    assert journal.doses.current_dose("p", "Bridge") == ({"sets": 2, "reps": 10}, "it-hurts", "It hurt.")
    assert journal.doses.back_offs("p") == [date.today()]


def test_places(journal: Journal) -> None:
    store = PlaceStore(journal)
    assert store.load("p") is None
    store.save("p", Saved(2, "Bridge", 1, "left"))
    store.save("p", Saved(3, "Step ups"))
    place = store.load("p")
    assert place is not None and (place.exercise_index, place.exercise, place.set) == (3, "Step ups", None)
    assert place.saved_at > 0
    store.clear("p")
    assert store.load("p") is None


def test_answers_events_and_the_last_session(journal: Journal) -> None:
    assert journal.last_session() is None
    empty = journal.start_session("p")  # stopped before anything was done (a red flag)
    journal.update_session(empty, red_flag=True)
    assert journal.last_session() is None
    sid = journal.start_session("p")
    journal.update_session(sid, pain_before=3, red_flag=False)
    journal.log_exercise(sid, 0, "Bridge", {"sets": 2, "reps": 10}, "done")
    journal.log_event(sid, "advice", "pain-acceptable")
    assert journal.last_session().id == sid  # type: ignore[union-attr]
    assert journal.events("advice") == [(date.today(), "pain-acceptable")]
    assert journal.events("advice", since=date.today() + timedelta(days=1)) == []
    with pytest.raises(ValueError, match="not a session answer"):
        journal.update_session(sid, pain_now=3)
    assert journal.set_settled(False) == sid
    assert journal.set_settled(True) is None  # kept: answered already
    assert journal.set_settled(True, overwrite=True) == sid
    row = journal.recent(1)[0]
    assert (row.pain_before, row.red_flag, row.settled) == (3, 0, 1)


def test_logged_session_times_sort_after_earlier_ones(journal: Journal) -> None:
    live = journal.start_session("p", started_at=datetime.now().astimezone() - timedelta(minutes=5))
    logged = journal.add_logged_session("p", "P", "h", date.today(), 2, 2, False, None, [])
    old = journal.add_logged_session("p", "P", "h", date(2025, 3, 1), 2, 2, False, None, [])
    assert [r.id for r in journal.recent()] == [logged, live, old]
    assert journal.recent()[-1].started_at.startswith("2025-03-01T12:00:00")


def test_dose_changes_are_kept_with_their_session(journal: Journal) -> None:
    sid = journal.start_session("p")
    journal.doses.record_dose(
        "p",
        "Bridge",
        {"sets": 2, "reps": 11},
        change="progress",
        rule="two-good-sessions",
        reason="Went well.",
        session_id=sid,
    )
    [row] = journal.doses.dose_log("p")
    assert (row.session_id, row.exercise, row.dose, row.change) == (
        sid,
        "Bridge",
        {"sets": 2, "reps": 11},
        "progress",
    )
    assert journal.doses.dose_log("other") == []


# -- progress.json -----------------------------------------------------------------------

GOOD_PLACE = {"exercise_index": 2, "exercise": "Bridge", "set": 1, "side": "left", "saved_at": 1.5}


def test_progress_json_imported_once_and_kept(journal: Journal, tmp_path: Path) -> None:
    src = tmp_path / "progress.json"
    text = json.dumps({"inner-knee": GOOD_PLACE, "/a/b.yaml": {"exercise_index": 0, "exercise": "X"}})
    src.write_text(text)
    assert migrate_progress_json(journal, src) == 2
    store = PlaceStore(journal)
    assert store.load("inner-knee") == Saved(**GOOD_PLACE)
    assert store.load("/a/b.yaml") == Saved(0, "X")
    assert not src.exists() and (tmp_path / "progress.json.migrated").read_text() == text
    assert migrate_progress_json(journal, src) == 0  # once


def test_progress_json_wrong_types_skipped(journal: Journal, tmp_path: Path) -> None:
    src = tmp_path / "progress.json"
    bad = [
        {"exercise_index": "2", "exercise": "B"},
        {"exercise_index": True, "exercise": "B"},
        {"exercise_index": -1, "exercise": "B"},
        {"exercise_index": 1, "exercise": 3},
        {"exercise_index": 1, "exercise": "B", "set": 1.5},
        {"exercise_index": 1, "exercise": "B", "side": 2},
        {"exercise_index": 1, "exercise": "B", "saved_at": "now"},
        [1, 2],
        None,
    ]
    src.write_text(json.dumps({"good": GOOD_PLACE, **{f"bad{i}": b for i, b in enumerate(bad)}}))
    (tmp_path / "progress.json.migrated").write_text("older")
    assert migrate_progress_json(journal, src) == 1
    store = PlaceStore(journal)
    assert store.load("good") == Saved(**GOOD_PLACE)
    assert all(store.load(f"bad{i}") is None for i in range(len(bad)))
    assert (tmp_path / "progress.json.migrated").read_text() == "older"  # never overwritten
    assert (tmp_path / "progress.json.migrated.1").exists()


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\x00\xff", ""], ids=["broken", "list", "binary", "empty"])
def test_progress_json_damaged(journal: Journal, tmp_path: Path, text: str) -> None:
    src = tmp_path / "progress.json"
    src.write_bytes(text.encode("latin-1"))
    assert migrate_progress_json(journal, src) == 0
    assert (tmp_path / "progress.json.migrated").read_bytes() == text.encode("latin-1")


def test_progress_json_does_not_replace_a_newer_place(journal: Journal, tmp_path: Path) -> None:
    store = PlaceStore(journal)
    store.save("inner-knee", Saved(5, "Step ups"))
    (tmp_path / "progress.json").write_text(json.dumps({"inner-knee": GOOD_PLACE}))
    migrate_progress_json(journal, tmp_path / "progress.json")
    assert store.load("inner-knee").exercise == "Step ups"  # type: ignore[union-attr]
    assert migrate_progress_json(journal, tmp_path / "missing.json") == 0


# -- never blocking a session ------------------------------------------------------------


def test_locked_database_is_unavailable_quickly(jpath: Path) -> None:
    Journal.open(jpath).close()
    other = sqlite3.connect(jpath, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        t = time.monotonic()
        with pytest.raises(JournalUnavailable, match="in use by another program") as info:
            Journal.open(jpath)
        assert time.monotonic() - t < 5
        assert info.value.kind == "busy" and str(info.value).endswith(f"({jpath})")
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_lock_taken_mid_session_raises_journal_unavailable(journal: Journal, jpath: Path) -> None:
    sid = journal.start_session("p")
    other = sqlite3.connect(jpath, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(JournalUnavailable):
            journal.log_exercise(sid, 0, "Bridge", {}, "done")
    finally:
        other.execute("ROLLBACK")
        other.close()
    journal.log_exercise(sid, 0, "Bridge", {}, "done")  # usable again once free


def _valid_bytes(tmp_path: Path) -> bytes:
    p = tmp_path / "valid.sqlite3"
    with Journal.open(p) as j:
        for i in range(30):
            j.start_session(f"plan{i}", plan_title="x" * 200)
    return p.read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        "random",
        "header-then-random",
        "truncated-10",
        "truncated-100",
        "truncated-half",
        "truncated-last-bytes",
        "zeroed-middle",
    ],
)
def test_damaged_file_is_unavailable_and_untouched(tmp_path: Path, damage: str) -> None:
    good = _valid_bytes(tmp_path)
    rnd = os.urandom(len(good))
    half = len(good) // 2
    data = {
        "random": rnd,
        "header-then-random": good[:100] + rnd[100:],
        "truncated-10": good[:10],
        "truncated-100": good[:100],
        "truncated-half": good[:half],
        "truncated-last-bytes": good[:-700],
        "zeroed-middle": good[:4096] + bytes(4096 * 3) + good[4096 * 4 :],
    }[damage]
    p = tmp_path / "journal.sqlite3"
    p.write_bytes(data)
    with pytest.raises(JournalUnavailable, match="damaged|not a journal"):
        Journal.open(p)
    assert p.read_bytes() == data


def test_folder_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(JournalUnavailable, match="folder"):
        Journal.open(tmp_path / "file" / "journal.sqlite3")
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(JournalUnavailable, match="folder"):
        Journal.open(tmp_path / "dir.sqlite3")


READ_ONLY_PROBE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from voicecoach.store.journal import Journal, JournalUnavailable
for p in sys.argv[2:]:
    before = Path(p).read_bytes() if Path(p).exists() else None
    try:
        Journal.open(Path(p)).close()
        print("opened", p)
    except JournalUnavailable as exc:
        after = Path(p).read_bytes() if Path(p).exists() else None
        print("unavailable", before == after, exc)
"""


def test_read_only_file_and_folder() -> None:
    """chmod does not bind root, so as root the check runs as nobody with the system Python."""
    is_root = os.geteuid() == 0
    python = shutil.which("python3", path="/usr/bin:/bin") if is_root else sys.executable
    if python is None:
        pytest.skip("no system python3 to run as nobody")
    base = Path(tempfile.mkdtemp(prefix="vc-ro-"))
    try:
        base.chmod(0o755)
        shutil.copytree(ROOT / "voicecoach", base / "code" / "voicecoach")
        (base / "probe.py").write_text(READ_ONLY_PROBE)
        ro_dir, ro_file, no_dir = base / "ro-dir", base / "ro-file", base / "no-dir"
        for d in (ro_dir, ro_file):
            Journal.open(d / "journal.sqlite3").close()
        no_dir.mkdir()
        for p in base.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        ro_dir.chmod(0o555)
        (ro_file / "journal.sqlite3").chmod(0o444)
        no_dir.chmod(0o555)
        targets = [
            ro_dir / "journal.sqlite3",
            ro_file / "journal.sqlite3",
            no_dir / "journal.sqlite3",
            no_dir / "sub" / "journal.sqlite3",
        ]
        run = subprocess.run(
            [python, str(base / "probe.py"), str(base / "code"), *map(str, targets)],
            capture_output=True,
            text=True,
            timeout=60,
            **({"user": 65534, "group": 65534, "extra_groups": []} if is_root else {}),
        )
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert len(lines) == 4 and all(line.startswith("unavailable True") for line in lines), lines
    finally:
        for p in [base, *base.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(base)


WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from voicecoach.store.journal import Journal
j = Journal.open(Path(sys.argv[2]))
i = 0
while True:
    sid = j.start_session("plan", plan_title="Plan", pain_before=i % 11)
    for k in range(3):
        j.log_exercise(sid, k, f"ex{k}", {"sets": 2, "reps": 10 + k}, "done")
    j.finish_session(sid, ended_early=False, pain_after=(i + 1) % 11)
    print(sid, flush=True)
    i += 1
"""


def test_kill_9_during_writes_loses_no_committed_row(jpath: Path) -> None:
    Journal.open(jpath).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(ROOT), str(jpath)], stdout=subprocess.PIPE, text=True
    )
    committed: list[int] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(committed) < 40 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    committed += [int(x) for x in proc.stdout.read().split()]
    proc.stdout.close()
    assert len(committed) >= 40
    with sqlite3.connect(jpath) as c:
        assert c.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        rows = {r[0]: r[1:] for r in c.execute("SELECT id, ended_at, pain_after FROM sessions")}
        counts = dict(c.execute("SELECT session_id, count(*) FROM exercises GROUP BY session_id").fetchall())
    for sid in committed:
        assert rows[sid][0] is not None and counts[sid] == 3
    with Journal.open(jpath) as j:  # and the app can go on using it
        j.start_session("plan", started_at=datetime(2030, 1, 1))
        assert j.recent(1)[0].started_at.startswith("2030-01-01")
