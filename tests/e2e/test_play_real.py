"""`voicecoach play` for real: espeak-ng, PortAudio, PulseAudio's null sink, recorded with parec.

No mocks: the program runs as a user would start it (in a pseudo-terminal,
so single keys work), the sink's monitor is recorded, cue onsets are found in
the recording and compared with the timeline that `show --json` prints.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers.play import PlayRun, saved_places
from helpers.pulse import RATE, PulseServer, find_onsets

from voicecoach.core import phrases

pytestmark = [pytest.mark.audio, pytest.mark.slow]  # each test plays a session in real time

TOLERANCE_S = 0.020

PLAN = """\
title: Test
safety: Stop if it hurts.
defaults: {countdown: 3, get_ready: 3}
exercises:
  - name: Stretch
    setup: Sit down.
    hold: 8
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory, clip_cache, pulse: PulseServer):
    """A plan, an environment with the run's clip cache and its own data dir, and the timeline `show` prints.

    Each cue gets ``onset_s``: where the onset detector fires on an ideal render
    of the same session (same cached clips and gain). A soft first consonant
    crosses the detector's threshold some milliseconds after the clip starts;
    measuring it on the ideal render keeps that out of the timing error.
    """
    d = tmp_path_factory.mktemp("play")
    plan = d / "tiny.yaml"
    plan.write_text(PLAN)
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(d / "data"))
    out = subprocess.run(
        [sys.executable, "-m", "voicecoach", "show", str(plan), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    timeline = json.loads(out.stdout)
    ideal = np.array(find_onsets(_ideal_render(plan, clip_cache), RATE))
    for cue in timeline["cues"]:
        near = ideal[(ideal >= cue["start_s"] - 0.002) & (ideal <= cue["start_s"] + 0.1)]
        cue["onset_s"] = float(near[0]) if near.size else cue["start_s"]
    return plan, env, timeline


def _onsets_of_cues(timeline: dict, plan: Path, cache: Path) -> list[float]:
    """Where the onset detector fires for each cue, on an ideal render of the session (see ``session``)."""
    ideal = np.array(find_onsets(_ideal_render(plan, cache), RATE))
    out = []
    for cue in timeline["cues"]:
        near = ideal[(ideal >= cue["start_s"] - 0.002) & (ideal <= cue["start_s"] + 0.1)]
        out.append(float(near[0]) if near.size else cue["start_s"])
    return out


def _ideal_render(plan: Path, cache: Path) -> np.ndarray:
    """The session as `play` mixes it, rendered offline from the same clip cache."""
    from voicecoach import programs
    from voicecoach.core.schedule import Options
    from voicecoach.render import mix
    from voicecoach.render.prepare import prepare, session_gain
    from voicecoach.speech.speaker import Speaker, SpeechSettings

    settings = SpeechSettings(engine=None)  # the CLI's default: the same voice play uses
    prepared = prepare(programs.load(str(plan)), Options(), settings, speaker=Speaker(settings, cache_dir=cache))
    return np.concatenate(list(mix.blocks(prepared.timeline, prepared.clips, gain=session_gain(prepared))))


def _nearest(onsets: np.ndarray, t: float) -> float:
    return float(onsets[np.argmin(np.abs(onsets - t))])


def _align(expected: list[float], onsets: np.ndarray) -> tuple[float, np.ndarray]:
    """Constant offset (start-up, the spoken keys hint, output latency) and each cue's error after it.

    Every detected onset is tried as the session's first cue; the offset that
    puts most cues on a detected onset wins.
    """
    best = None
    for d in onsets:
        raw = np.array([_nearest(onsets, e + float(d) - expected[0]) - e for e in expected])
        offset = float(np.median(raw))
        hits = int(np.sum(np.abs(raw - offset) <= TOLERANCE_S))
        if best is None or hits > best[0]:
            best = (hits, offset, raw - offset)
    return best[1], best[2]


def test_cue_onsets_follow_the_timeline(session, pulse: PulseServer, record_property):
    plan, env, timeline = session
    rec = pulse.start_recording()
    run = PlayRun(plan, env)
    rc, err = run.finish()
    samples = rec.stop()
    assert rc == 0, err
    assert "Traceback" not in err
    spoken = [c["text"] for c in timeline["cues"]]
    assert [line for line in run.lines if line in spoken] == spoken  # plain mode: one line per cue, in order
    onsets = np.array(find_onsets(samples, RATE))
    expected = [c["onset_s"] for c in timeline["cues"]]
    offset, errors = _align(expected, onsets)
    p95 = float(np.percentile(np.abs(errors), 95))
    record_property("p95_onset_error_ms", round(p95 * 1000, 2))
    assert np.all(np.abs(errors) <= TOLERANCE_S), list(zip(spoken, np.round(errors * 1000, 1)))
    # The recording holds the whole session, and nothing after it.
    assert len(samples) / RATE >= offset + timeline["duration_s"] - 0.1


def test_pause_shifts_the_rest_of_the_session(session, pulse: PulseServer):
    plan, env, timeline = session
    cues = timeline["cues"]
    hold = next(c for c in cues if c["kind"] == "start")
    rec = pulse.start_recording()
    run = PlayRun(plan, env)
    run.wait_for("Hold.")
    time.sleep(1.0)
    run.key(b" ")
    run.wait_for("Paused. Press space to resume.")
    time.sleep(2.0)
    run.key(b" ")
    rc, err = run.finish()
    samples = rec.stop()
    assert rc == 0, err
    assert "Resuming." in run.lines
    onsets = np.array(find_onsets(samples, RATE))
    before = [c["onset_s"] for c in cues if c["start_s"] <= hold["start_s"]]
    after = [c["onset_s"] for c in cues if c["start_s"] > hold["start_s"] + 2]
    offset, errors = _align(before, onsets)
    assert np.all(np.abs(errors) <= TOLERANCE_S)
    # Every later cue moved by one and the same shift: the pause plus the spoken count-in.
    best = None
    for d in onsets:
        shift = float(d) - (after[0] + offset)
        errs = np.array([_nearest(onsets, e + offset + shift) - (e + offset + shift) for e in after])
        score = int(np.sum(np.abs(errs) <= TOLERANCE_S))
        if best is None or score > best[0]:
            best = (score, shift, errs)
    score, shift, errs = best
    assert score == len(after), np.round(errs * 1000, 1)
    assert shift >= 2.0 + 3.0  # at least the 2 s pause and the 3-second count-in


def test_device_lost_mid_session_saves_the_place(session, tmp_path):
    """The sound server dies during a hold: a clear message, exit code 5, progress saved, no traceback."""
    plan, env, _ = session
    doomed = PulseServer()
    doomed.start()
    try:
        env = dict(env, **doomed.client_env(), VOICECOACH_DATA_DIR=str(tmp_path))
        run = PlayRun(plan, env)
        run.wait_for("Hold.")
        doomed.proc.kill()
        rc, err = run.finish()
    finally:
        doomed.stop()
    assert rc == 5, err
    assert "The session stopped." in err and "--resume" in err
    assert "Traceback" not in err
    assert saved_places(tmp_path) == [(0, "Stretch")]


def test_check_in_answered_with_keys(session, tmp_path):
    """The questions before and after a session, answered on the keyboard, land in the journal."""
    plan, env, _ = session
    env = dict(env, VOICECOACH_DATA_DIR=str(tmp_path))
    run = PlayRun(plan, env, check_in=True)
    run.wait_for(f"{phrases.RED_FLAG_QUESTION} (y or n, s to skip)")
    run.key(b"n")
    run.wait_for(f"{phrases.PAIN_QUESTION} (0-9, t for 10, s to skip)")
    run.key(b"2")
    run.wait_for("Hold.")
    run.wait_for(phrases.PAIN_QUESTION)
    run.key(b"t")
    rc, err = run.finish()
    assert rc == 0, err
    assert run.lines[-2:] == ["Noted: 10.", "Session complete."]
    with sqlite3.connect(tmp_path / "journal.sqlite3") as c:
        assert c.execute("SELECT red_flag, pain_before, pain_after, ended_early FROM sessions").fetchall() == [
            (0, 2, 10, 0)
        ]
        assert c.execute("SELECT name, status FROM exercises").fetchall() == [("Stretch", "done")]


THREE = """\
title: Three
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 3}
exercises:
  - {name: Reach, setup: Sit down and reach for your toes., hold: 20}
  - {name: Lift, setup: Lie on your back and lift one leg., reps: 3, tempo: {lift: 1, lower: 1}}
  - {name: Squeeze, setup: Squeeze a cushion between your knees., hold: 5}
"""


@pytest.mark.slow
def test_a_cold_start_sounds_like_a_warm_one(pulse: PulseServer, tmp_path):
    """The first session on an empty cache speaks while the rest is synthesized: same words, same cue times."""
    plan = tmp_path / "three.yaml"
    plan.write_text(THREE)
    cache = tmp_path / "cache"
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(cache), VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    heard = {}
    for case in ("cold", "warm"):  # the cold run fills the cache the warm one uses
        assert cache.exists() == (case == "warm")
        rec = pulse.start_recording()
        run = PlayRun(plan, env)
        rc, err = run.finish(timeout_s=120)
        samples = rec.stop()
        assert rc == 0 and "Traceback" not in err, err
        heard[case] = (run.lines, np.array(find_onsets(samples, RATE)))
    out = subprocess.run(
        [sys.executable, "-m", "voicecoach", "show", str(plan), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    timeline = json.loads(out.stdout)
    spoken = [c["text"] for c in timeline["cues"]]
    expected = _onsets_of_cues(timeline, plan, cache)
    for case, (lines, onsets) in heard.items():
        assert [line for line in lines if line in spoken] == spoken, case
        assert "One moment." not in lines  # the voice kept ahead of the session
        _, errors = _align(expected, onsets)
        assert np.all(np.abs(errors) <= TOLERANCE_S), (case, list(zip(spoken, np.round(errors * 1000, 1))))


# -- fault injection: the sound server dies mid-session: voicecoach's own message, and no library's lines.
# PortAudio prints its failed expressions from C to file descriptor 2, through a print hook the
# Debian library does not export: without --debug none of it reaches the terminal.


LIBRARY = ("Expression '", "pa_linux_alsa.c", "ALSA lib", "PaAlsa", "snd_pcm")


def _kill_the_server_mid_hold(session, tmp_path, extra: list[str]) -> tuple[int, str]:
    plan, env, _ = session
    doomed = PulseServer()
    doomed.start()
    try:
        env = dict(env, **doomed.client_env(), VOICECOACH_DATA_DIR=str(tmp_path))
        run = PlayRun(plan, env, extra)
        run.wait_for("Hold.")
        doomed.proc.kill()
        return run.finish()
    finally:
        doomed.stop()


def test_no_library_lines_when_the_server_dies(session, tmp_path):
    rc, err = _kill_the_server_mid_hold(session, tmp_path, [])
    assert rc == 5, err
    assert "The session stopped." in err
    assert not [line for line in err.splitlines() if any(mark in line for mark in LIBRARY)], err
    assert err.startswith("voicecoach: error: "), err  # voicecoach's own message comes first, and alone


def test_debug_shows_the_library_lines(session, tmp_path):
    rc, err = _kill_the_server_mid_hold(session, tmp_path, ["--debug"])
    assert rc == 5, err
    assert "The session stopped." in err
    assert any(mark in err for mark in LIBRARY), err
