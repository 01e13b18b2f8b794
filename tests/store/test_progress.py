"""The saved place for --resume, kept in the journal (a real SQLite file)."""

from __future__ import annotations

import json

from voicecoach import programs
from voicecoach.programs import plan_key
from voicecoach.store.journal import Journal
from voicecoach.store.places import PlaceStore, Saved
from voicecoach.store.training import open_journal


def test_save_load_clear(tmp_path):
    with Journal.open(tmp_path / "p" / "journal.sqlite3") as journal:
        store = PlaceStore(journal)
        assert store.load("inner-knee") is None
        store.save("inner-knee", Saved(3, "Seated butterfly stretch", 1, None))
        store.save("medial-knee", Saved(1, "Wall slides"))
    with Journal.open(tmp_path / "p" / "journal.sqlite3") as journal:
        store = PlaceStore(journal)
        got = store.load("inner-knee")
        assert (got.exercise_index, got.exercise, got.set) == (3, "Seated butterfly stretch", 1)
        assert got.saved_at > 0
        store.clear("inner-knee")
        assert store.load("inner-knee") is None and store.load("medial-knee") is not None


def test_without_a_journal_nothing_is_saved():
    store = PlaceStore(None)
    store.save("x", Saved(1, "A"))
    store.clear("x")
    assert store.load("x") is None and store.resume("x", programs.load("medial-knee")) is None


def test_plan_key(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("x")
    assert plan_key("inner-knee") == "inner-knee"
    assert plan_key(str(f)) == str(f.resolve())


def test_resume_only_where_the_saved_place_still_fits(tmp_path):
    plan = programs.load("medial-knee")
    with Journal.open(tmp_path / "journal.sqlite3") as journal:
        store = PlaceStore(journal)
        assert store.resume("medial-knee", plan) is None
        store.save("medial-knee", Saved(3, "Dynamic knee bends", 1, None))
        assert store.resume("medial-knee", plan) == (
            3,
            "Resuming Medial knee pain at exercise 4 of 6: Dynamic knee bends.",
        )
        store.save("medial-knee", Saved(3, "Renamed since", 1, None))  # the plan file changed
        assert store.resume("medial-knee", plan) is None
        store.save("medial-knee", Saved(9, "Dynamic knee bends"))
        assert store.resume("medial-knee", plan) is None


def test_an_old_progress_file_is_brought_in_once_when_the_journal_opens(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path))
    old = {
        "medial-knee": {"exercise_index": 3, "exercise": "Dynamic knee bends", "set": 1, "side": None, "saved_at": 5.0}
    }
    (tmp_path / "progress.json").write_text(json.dumps(old))
    with open_journal() as journal:
        assert PlaceStore(journal).resume("medial-knee", programs.load("medial-knee"))[0] == 3
    assert not (tmp_path / "progress.json").exists()
    assert json.loads((tmp_path / "progress.json.migrated").read_text()) == old
    with open_journal() as journal:  # and only once: a place saved since is not replaced
        PlaceStore(journal).save("medial-knee", Saved(1, "Wall slides"))
    (tmp_path / "progress.json").write_text(json.dumps(old))  # an old voicecoach ran again
    with open_journal() as journal:
        assert PlaceStore(journal).load("medial-knee").exercise == "Wall slides"
