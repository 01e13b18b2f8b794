from __future__ import annotations

from voicecoach.progress import ProgressStore, Saved, plan_key


def test_save_load_clear(tmp_path):
    store = ProgressStore(tmp_path / "p" / "progress.json")
    assert store.load("inner-knee") is None
    store.save("inner-knee", Saved(3, "Seated butterfly stretch", 1, None))
    store.save("medial-knee", Saved(1, "Wall slides"))
    got = ProgressStore(tmp_path / "p" / "progress.json").load("inner-knee")
    assert (got.exercise_index, got.exercise, got.set) == (3, "Seated butterfly stretch", 1)
    assert got.saved_at > 0
    store.clear("inner-knee")
    assert store.load("inner-knee") is None and store.load("medial-knee") is not None
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["progress.json"]  # no temp files left


def test_damaged_file_means_no_progress(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text("{not json")
    assert ProgressStore(path).load("x") is None
    path.write_text('{"x": {"unexpected": 1}}')
    assert ProgressStore(path).load("x") is None


def test_plan_key(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("x")
    assert plan_key("inner-knee") == "inner-knee"
    assert plan_key(str(f)) == str(f.resolve())
