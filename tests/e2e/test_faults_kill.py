"""Fault injection, kill -9: a process killed outright at random moments, then a normal run finds everything intact.

SIGKILL cannot be caught, so nothing voicecoach does on the way out helps:
what must hold comes from how files are written (a part file beside the
target, renamed over it only when complete; part files of dead processes
removed by the next run; the journal's SQLite transactions, in WAL mode,
recovered by the next open). Moments are drawn from a seeded generator, so a
failure can be replayed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest.mock import ANY

import pytest
from helpers.files import part_files
from helpers.places import saved_place, store_in
from helpers.plans import EARLIER, TINY
from helpers.play import PlayRun

from voicecoach import programs
from voicecoach.store.places import Saved

SEED = 20261130


def vc_popen(*args: str, env: dict, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "voicecoach", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def ffprobe_duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout)["format"]["duration"])


@pytest.fixture
def env(clip_cache, tmp_path) -> dict:
    return dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(tmp_path / "data"))


@pytest.fixture
def plan(tmp_path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    return p


@pytest.mark.audio
@pytest.mark.slow
def test_export_killed_at_random_moments(plan, env, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "s.flac"
    target.write_bytes(EARLIER)
    # How long a whole export takes here, so the kills land before, during and near its end.
    t0 = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "voicecoach",
            "export",
            str(plan),
            "--engine",
            "system",
            "-o",
            str(tmp_path / "probe.flac"),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    whole = time.monotonic() - t0
    rng = random.Random(SEED)
    for moment in sorted(rng.uniform(0.05, 1.1) * whole for _ in range(4)):
        proc = vc_popen("export", str(plan), "--engine", "system", "-o", str(target), "--captions", "vtt", env=env)
        time.sleep(moment)
        proc.kill()
        proc.communicate()
        # The earlier file, or (killed after the rename, or not killed at all) a whole new one: never a part.
        if target.read_bytes() != EARLIER:
            assert ffprobe_duration(target) > 5, f"killed after {moment:.2f} s"
            target.write_bytes(EARLIER)
    # The next normal run: succeeds, and no part file of the killed runs is left.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "voicecoach",
            "export",
            str(plan),
            "--engine",
            "system",
            "-o",
            str(target),
            "--captions",
            "vtt",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert ffprobe_duration(target) > 5 and target.with_suffix(".vtt").read_text().startswith("WEBVTT")
    assert part_files(out_dir) == []


@pytest.mark.audio
def test_clip_cache_killed_while_synthesizing(plan, tmp_path):
    """A cold cache killed mid-synthesis: the next run makes what is missing and says the same."""
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(tmp_path / "cache"), VOICECOACH_DATA_DIR=str(tmp_path / "d"))
    clean = subprocess.run(
        [sys.executable, "-m", "voicecoach", "show", str(plan), "--engine", "system"],
        env=dict(env, VOICECOACH_CACHE_DIR=str(tmp_path / "clean")),
        capture_output=True,
        text=True,
        check=True,
    )
    proc = vc_popen("show", str(plan), "--engine", "system", env=env)
    time.sleep(random.Random(SEED).uniform(0.3, 1.0))
    proc.kill()
    proc.communicate()
    again = subprocess.run(
        [sys.executable, "-m", "voicecoach", "show", str(plan), "--engine", "system"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == clean.stdout


SAVER = """
import os, sys
from voicecoach.store.places import PlaceStore, Saved
from voicecoach.store.training import open_journal
key, log, i = sys.argv[1], os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT), int(sys.argv[3])
store = PlaceStore(open_journal())
print("saving", flush=True)
while True:
    store.save(key, Saved(i, f"exercise {i}", 1 + i % 2, "left"))
    os.write(log, b"%d\\n" % i)  # committed
    i += 1
"""


def committed(log: Path) -> list[int]:
    return [int(n) for n in log.read_text().split()] if log.exists() else []


def a_normal_open_finds(data: Path) -> dict[str, Saved]:
    """The saved places a normal open of the journal finds, after checking the whole file."""
    with store_in(data) as store:
        assert store.journal.read("PRAGMA quick_check") == [("ok",)]
        keys = [r[0] for r in store.journal.read("SELECT plan_key FROM places")]
        return {k: store.load(k) for k in keys}


def test_progress_writes_killed_at_random_moments(tmp_path):
    """Two sessions saving through the journal as fast as they can, killed at random: a normal
    open then finds the file whole and each session's last committed place (or the one after it,
    committed but not yet logged when the kill came)."""
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path))
    rng = random.Random(SEED)
    keys = ("inner-knee", "medial-knee")
    last: dict[str, int | None] = dict.fromkeys(keys)
    for n in range(6):
        start = n * 1_000_000  # every round's places are new ones
        logs = {key: tmp_path / f"{key}-{n}.log" for key in keys}
        savers = [
            subprocess.Popen(
                [sys.executable, "-c", SAVER, key, str(logs[key]), str(start)],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for key in keys
        ]
        for s in savers:
            assert s.stdout.readline() == "saving\n"
        time.sleep(rng.uniform(0.01, 0.3))
        for s in savers:
            os.kill(s.pid, signal.SIGKILL)
            s.wait()
            s.stdout.close()
        found = a_normal_open_finds(tmp_path)
        for key in keys:
            done = committed(logs[key])
            allowed = {done[-1], done[-1] + 1} if done else {last[key], start}
            got = found.get(key)
            index = None if got is None else got.exercise_index
            assert index in allowed, (n, key, index, allowed)
            if got is not None:
                assert got == Saved(index, f"exercise {index}", 1 + index % 2, "left", saved_at=ANY)
            last[key] = index
    # Nothing left beside the journal once it is closed: no write-ahead log, no lock file, no part file.
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".log")) == ["journal.sqlite3"]


def test_journal_add_killed_at_random_moments(tmp_path):
    """`voicecoach journal add` killed at random: each logged session is there whole, or not at all."""
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path))
    add = [sys.executable, "-m", "voicecoach", "journal", "add", "inner-knee", "--pain-before", "2"]
    t0 = time.monotonic()
    subprocess.run(add, env=env, check=True, capture_output=True)
    whole = time.monotonic() - t0
    rng = random.Random(SEED)
    finished = 1
    for moment in sorted(rng.uniform(0.5, 1.1) * whole for _ in range(6)):  # its writes come at the end
        proc = subprocess.Popen(add, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(moment)
        proc.kill()
        finished += proc.wait() == 0
    with store_in(tmp_path) as store:
        journal = store.journal
        assert journal.read("PRAGMA quick_check") == [("ok",)]
        sessions = journal.recent(100)
        assert finished <= len(sessions) <= 7
        n = len(programs.load("inner-knee").exercises)
        assert all(len(journal.exercises_of(s.id)) == n and s.pain_before == 2 for s in sessions)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.sqlite3"]


@pytest.mark.audio
@pytest.mark.slow
def test_play_killed_mid_session_resumes_there(plan, env, pulse):
    run = PlayRun(plan, env, ["--engine", "system"])  # espeak-ng: a cold cache fills in a second
    run.wait_for("Sit down.")  # the first exercise's set-up: its place is being saved
    time.sleep(random.Random(SEED).uniform(0.1, 1.0))
    run.proc.kill()
    run.finish()
    saved = saved_place(Path(env["VOICECOACH_DATA_DIR"]), str(plan.resolve()))
    assert saved is not None and (saved.exercise_index, saved.exercise) == (0, "Stretch")
    again = PlayRun(plan, env, ["--resume", "--engine", "system"])
    again.wait_for("Resuming Tiny at exercise 1 of 1: Stretch.")
    again.proc.send_signal(signal.SIGTERM)
    rc, err = again.finish()
    assert rc == 0 and "Traceback" not in err
