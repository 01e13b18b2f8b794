from __future__ import annotations

from voicecoach.store.progress import ProgressStore, Saved, plan_key


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


def test_resume_only_where_the_saved_place_still_fits(tmp_path):
    from voicecoach import programs

    plan = programs.load("medial-knee")
    store = ProgressStore(tmp_path / "progress.json")
    assert store.resume("medial-knee", plan) is None
    store.save("medial-knee", Saved(3, "Dynamic knee bends", 1, None))
    assert store.resume("medial-knee", plan) == (3, "Resuming Medial knee pain at exercise 4 of 6: Dynamic knee bends.")
    store.save("medial-knee", Saved(3, "Renamed since", 1, None))  # the plan file changed
    assert store.resume("medial-knee", plan) is None
    store.save("medial-knee", Saved(9, "Dynamic knee bends"))
    assert store.resume("medial-knee", plan) is None
