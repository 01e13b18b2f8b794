"""Fault injection, signals: every way out of a real `voicecoach play` says the same thing, once.

Real processes on a real sound path (PortAudio -> a private PulseAudio null
sink), driven through a pseudo-terminal as a user would. Every way out of
a session (Ctrl-C, SIGTERM, SIGHUP, Ctrl-\\, q, and signals that come in
pairs, as when a terminal closes) saves the place and prints "Stopped. Your
place is saved: continue with --resume." exactly once, with nothing after
it, and leaves the terminal as it found it. Before the session starts,
Ctrl-C says so in its own words. An export started with nohup survives
the hang-up.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from helpers.places import saved_place
from helpers.plans import TINY
from helpers.play import PlayRun

from voicecoach.core.phrases import PRINTED, STOPPED_PRINTED, STOPPED_UNSAVED_PRINTED
from voicecoach.store.journal import Journal

pytestmark = pytest.mark.audio

SYSTEM = ["--engine", "system"]  # espeak-ng: a cold clip cache fills in a second
STARTED = PRINTED["Press question mark for the keys, or Q to quit."]  # the session's first printed line


@pytest.fixture
def plan(tmp_path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    return p


@pytest.fixture
def env(clip_cache, tmp_path, pulse) -> dict:
    return dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(tmp_path / "data"))


def place(env: dict, plan: Path):
    return saved_place(Path(env["VOICECOACH_DATA_DIR"]), str(plan.resolve()))


def terminal_is_cooked(run: PlayRun) -> bool:
    fd = os.open(run.tty, os.O_RDWR | os.O_NOCTTY)
    try:
        return bool(termios.tcgetattr(fd)[3] & termios.ICANON)
    finally:
        os.close(fd)


WAYS_OUT = {
    "ctrl-c": [signal.SIGINT],
    "sigterm": [signal.SIGTERM],
    "sighup": [signal.SIGHUP],
    "ctrl-backslash": [signal.SIGQUIT],
    "terminal-closed": [signal.SIGHUP, signal.SIGTERM],  # what a closing terminal emulator sends
    "double-ctrl-c": [signal.SIGINT, signal.SIGINT],
    "q": [],
}


@pytest.mark.parametrize("way", list(WAYS_OUT))
def test_every_way_out_saves_the_place_and_says_so_once(plan, env, way):
    run = PlayRun(plan, env, SYSTEM)
    run.wait_for(STARTED)
    time.sleep(0.3)
    if way == "q":
        run.key(b"q")
    for sig in WAYS_OUT[way]:
        run.proc.send_signal(sig)
        time.sleep(0.05)
    run.proc.wait(timeout=60)
    cooked = terminal_is_cooked(run)  # while the pseudo-terminal still exists
    rc, err = run.finish()
    assert rc == 0, err
    assert run.lines.count(STOPPED_PRINTED) == 1, run.lines
    assert run.lines[-1] == STOPPED_PRINTED  # nothing after it
    assert err == "", err  # no "interrupted", no traceback, no library noise
    saved = place(env, plan)
    assert saved is not None and (saved.exercise_index, saved.exercise) == (0, "Stretch")
    assert cooked  # the terminal is back in line mode, as it was


def test_keys_work_again_after_ctrl_z_and_fg(plan, env):
    """The shell puts the terminal back to line mode while a job is stopped; SIGCONT must undo that."""
    run = PlayRun(plan, env, SYSTEM)
    run.wait_for(STARTED)
    run.proc.send_signal(signal.SIGSTOP)  # Ctrl-Z (SIGTSTP's default action, which a test cannot deliver)
    fd = os.open(run.tty, os.O_RDWR | os.O_NOCTTY)
    attrs = termios.tcgetattr(fd)
    attrs[3] |= termios.ICANON | termios.ECHO  # what the shell does
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    os.close(fd)
    run.proc.send_signal(signal.SIGCONT)  # fg
    time.sleep(0.5)
    run.key(b"q")  # a single key, no Enter: only read if the terminal is back in cbreak mode
    rc, err = run.finish()
    assert rc == 0 and run.lines.count(STOPPED_PRINTED) == 1, (run.lines, err)


def test_ctrl_c_while_preparing_says_the_session_had_not_started(tmp_path, pulse):
    # Sixty exercises of their own words: seconds of synthesis into an empty cache, a wide window.
    plan = tmp_path / "long.yaml"
    plan.write_text(
        "title: Long\nexercises:\n"
        + "".join(
            f"  - {{name: Stretch number {i}, setup: Sit down and reach {i} times., hold: 5}}\n" for i in range(60)
        )
    )
    cache = tmp_path / "cold"
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(cache), VOICECOACH_DATA_DIR=str(tmp_path / "d"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "play", str(plan), "--plain", "--engine", "system"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (cache.is_dir() and any(cache.iterdir())):  # the first clip: it is preparing
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # failed: a sixty-exercise session must not play on into later tests
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert err == "voicecoach: Stopped before the session started.\n"
    assert out == ""


def _wait_for_part(directory, name: str, timeout_s: float = 60.0) -> None:
    """Wait until an export to ``name`` in ``directory`` is writing its part file."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.name.startswith(f".{name}.") and p.name.endswith(".part") for p in directory.iterdir()):
            return
        time.sleep(0.005)


def test_export_started_with_nohup_survives_the_hang_up(plan, clip_cache, tmp_path):
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(tmp_path / "d"))
    results = {}
    for nohup in (True, False):
        target = tmp_path / f"nohup-{nohup}.flac"
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicecoach", "export", str(plan), "--engine", "system", "-o", str(target)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=(lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)) if nohup else None,
        )
        if not nohup:
            # A loaded machine can take longer than any fixed sleep to start: wait until the export is
            # writing (its part file exists), so the hang-up lands in the export, as a closing terminal would.
            _wait_for_part(tmp_path, target.name)
        else:
            time.sleep(0.8)  # the ignore is inherited from the start: any moment tests it
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(timeout=120)
        results[nohup] = (proc.returncode, err, target.exists())
    assert results[True] == (0, "", True)  # the hang-up was ignored, as nohup asked
    rc, err, written = results[False]
    assert rc == 130 and err.startswith("voicecoach: Stopped before the export was finished") and not written


@pytest.mark.parametrize("journal", ["damaged", "locked"])
def test_a_stop_without_a_usable_journal_never_claims_a_saved_place(plan, env, journal):
    """Places live in the journal: when it cannot be used, a stop says the place could not be saved
    (it used to say "Your place is saved", and the next --resume started from the beginning)."""
    data = Path(env["VOICECOACH_DATA_DIR"])
    data.mkdir(parents=True)
    path = data / "journal.sqlite3"
    other = None
    if journal == "damaged":
        path.write_bytes(b"not a journal" * 100)
    else:  # another program holds the write lock all session long
        Journal.open(path).close()
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
    try:
        run = PlayRun(plan, env, SYSTEM)
        run.wait_for(STARTED, timeout_s=60)
        time.sleep(0.3)
        run.proc.send_signal(signal.SIGTERM)
        rc, err = run.finish()
    finally:
        if other is not None:
            other.execute("ROLLBACK")
            other.close()
    assert rc == 0, err
    assert run.lines[-1] == STOPPED_UNSAVED_PRINTED, run.lines
    assert STOPPED_PRINTED not in run.lines
