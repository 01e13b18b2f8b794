"""Fault injection, kill -9: a process killed outright at random moments, then a normal run finds everything intact.

SIGKILL cannot be caught, so nothing voicecoach does on the way out helps:
what must hold comes from how files are written (a part file beside the
target, renamed over it only when complete; part files of dead processes
removed by the next run). Moments are drawn from a seeded generator, so a
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

import pytest
from helpers.places import saved_place
from test_faults_outputs import EARLIER, TINY, parts

from voicecoach.store.progress import ProgressStore, Saved

SEED = 20261130


def vc_popen(*args: str, env: dict, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "voicecoach", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def ffprobe_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
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
    subprocess.run([sys.executable, "-m", "voicecoach", "export", str(plan), "--engine", "system", "-o", str(tmp_path / "probe.flac")],
                   env=env, check=True, capture_output=True)
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
    done = subprocess.run([sys.executable, "-m", "voicecoach", "export", str(plan), "--engine", "system", "-o", str(target),
                           "--captions", "vtt"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert ffprobe_duration(target) > 5 and target.with_suffix(".vtt").read_text().startswith("WEBVTT")
    assert parts(out_dir) == []


@pytest.mark.audio
def test_clip_cache_killed_while_synthesizing(plan, tmp_path):
    """A cold cache killed mid-synthesis: the next run makes what is missing and says the same."""
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(tmp_path / "cache"), VOICECOACH_DATA_DIR=str(tmp_path / "d"))
    clean = subprocess.run([sys.executable, "-m", "voicecoach", "show", str(plan), "--engine", "system"],
                           env=dict(env, VOICECOACH_CACHE_DIR=str(tmp_path / "clean")), capture_output=True,
                           text=True, check=True)
    proc = vc_popen("show", str(plan), "--engine", "system", env=env)
    time.sleep(random.Random(SEED).uniform(0.3, 1.0))
    proc.kill()
    proc.communicate()
    again = subprocess.run([sys.executable, "-m", "voicecoach", "show", str(plan), "--engine", "system"], env=env,
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert again.stdout == clean.stdout


SAVER = """
import sys
from voicecoach.store.progress import ProgressStore, Saved
store = ProgressStore()
i = 0
print("saving", flush=True)
while True:
    store.save(sys.argv[1], Saved(i % 9, f"exercise {i % 9}", 1 + i % 2, "left"))
    i += 1
"""


def test_progress_writes_killed_at_random_moments(tmp_path):
    """Two sessions saving as fast as they can, killed at random: the saved places stay readable."""
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path))
    rng = random.Random(SEED)
    for _ in range(6):
        savers = [subprocess.Popen([sys.executable, "-c", SAVER, key], env=env, stdout=subprocess.PIPE, text=True)
                  for key in ("inner-knee", "medial-knee")]
        for s in savers:
            assert s.stdout.readline() == "saving\n"
        time.sleep(rng.uniform(0.01, 0.3))
        for s in savers:
            os.kill(s.pid, signal.SIGKILL)
            s.wait()
        store = ProgressStore(tmp_path / "progress.json")
        saved = json.loads((tmp_path / "progress.json").read_text())  # always whole JSON
        for key in saved:
            got = store.load(key)
            assert got is not None and got.exercise == f"exercise {got.exercise_index}"
    # The next save sweeps away the part files the killed writers left.
    ProgressStore(tmp_path / "progress.json").save("inner-knee", Saved(0, "exercise 0"))
    assert parts(tmp_path) == []


@pytest.mark.audio
@pytest.mark.slow
def test_play_killed_mid_session_resumes_there(plan, env, pulse):
    from test_play_real import _Run

    run = _Run(plan, env, ["--engine", "system"])  # espeak-ng: a cold cache fills in a second
    run.wait_for("Sit down.")  # the first exercise's set-up: its place is being saved
    time.sleep(random.Random(SEED).uniform(0.1, 1.0))
    run.proc.kill()
    run.finish()
    saved = saved_place(Path(env["VOICECOACH_DATA_DIR"]), str(plan.resolve()))
    assert saved is not None and (saved.exercise_index, saved.exercise) == (0, "Stretch")
    again = _Run(plan, env, ["--resume", "--engine", "system"])
    again.wait_for("Resuming Tiny at exercise 1 of 1: Stretch.")
    again.proc.send_signal(signal.SIGTERM)
    rc, err = again.finish()
    assert rc == 0 and "Traceback" not in err
