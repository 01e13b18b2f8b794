"""A self-paced set for real: `voicecoach play --listen` on PulseAudio's null sink waits for "done".

One session of three self-paced sets, each ended by another input: the first after a full
20 s wait by the key ``d`` (and inside it, "how long is left?" by the key ``l``, and the media
player's widget showing the time left), the second by the headset's play button (``playerctl`` on a
private bus), the third by a generated voice saying "Hey Jarvis, done." into the virtual
microphone (the monitor of a second null sink, "the room": see test_play_voice.py). The
later waits are short: what they show (the input) does not need 20 s more each.

Measured on the recording of the speakers: the sink is silent while the coach waits, the
set's stop sounds at "done" (within the output's latency), and every later cue up to the
next set's opening (the rest's countdown), or after the last set the closing words, keeps
its planned offset from that stop (`show --json`), to the onset. The journal holds the
time each set took. The test runs on any xdist worker beside the others (it plays through
the worker's own sound server and bus: see conftest's groups).
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
from helpers.dbus import missing_tools, private_bus
from helpers.play import PlayRun, silent_stretches
from helpers.pulse import RATE, PulseServer, find_onsets
from helpers.room import needs_voice_control
from helpers.speakers import say, write_wav

pytestmark = [pytest.mark.audio, pytest.mark.slow]

REST_S = 4
PLAN = f"""\
title: Own pace
safety: Stop if it hurts.
defaults: {{countdown: 2, get_ready: 2}}
exercises:
  - {{name: Stand, setup: Stand up., reps: 5, sets: 3, rest_between_sets: {REST_S}, pace: self, estimate: 30}}
"""
LONG_WAIT_S = 20.0  # the wait, once
QUIET_S = 2.0  # after the coach's words, before the next input: past the echo gate's reach (listener.WAKE_SPAN_S)
OPENING = "In your own time. Begin."
VOICE_ON = 'Voice control is on: say "Hey Jarvis", then a command ("Hey Jarvis, help" lists them).'


def _openings(run: PlayRun, n: int, timeout_s: float = 30) -> None:
    """Wait until the n-th set's opening words have been printed (they print as they start)."""
    with run.seen:
        ok = run.seen.wait_for(lambda: run.lines.count(OPENING) >= n or run.ended, timeout_s)
    if not (ok and run.lines.count(OPENING) >= n):
        print("\n".join(run.lines))  # pytest shows it on failure: the whole session
    assert ok and run.lines.count(OPENING) >= n, run.lines


def _line_starting(run: PlayRun, start: str, timeout_s: float = 15) -> str:
    """Wait for the first printed line that starts with ``start``; that line."""
    with run.seen:
        run.seen.wait_for(lambda: any(line.startswith(start) for line in run.lines) or run.ended, timeout_s)
    found = [line for line in run.lines if line.startswith(start)]
    assert found, run.lines
    return found[0]


def _said_then_quiet(rec, since_s: float, quiet_s: float, timeout_s: float = 30) -> None:
    """Wait until the speakers have sounded after ``since_s`` (the recording's clock) and then been silent
    (below -60 dBFS) for ``quiet_s``: the words a line announced are over, however late they played.
    Reads only what the recording gained since the last look (the session plays in real time beside it)."""
    deadline = time.monotonic() + timeout_s
    read = max(0, int(since_s * RATE))  # samples looked at so far
    last_loud = None
    while True:
        size = rec.path.stat().st_size // 4
        if size > read:
            x = np.fromfile(rec.path, dtype="<f4", count=size - read, offset=read * 4)
            loud = np.flatnonzero(np.abs(x) > 1e-3)
            if loud.size:
                last_loud = read + int(loud[-1])
            read += x.size
        if last_loud is not None and (read - last_loud) / RATE >= quiet_s:
            return
        assert time.monotonic() < deadline, f"no words then {quiet_s} s of quiet after {since_s:.1f} s"
        time.sleep(0.2)


def _artist(env: dict[str, str]) -> str:
    """What the desktop's media widget shows under the exercise (a headset has no button to ask)."""
    out = subprocess.run(
        ["playerctl", "-p", "voicecoach", "metadata", "xesam:artist"], env=env, capture_output=True, text=True
    )
    return out.stdout.strip()


def test_the_coach_waits_then_done_by_key_by_headset_and_by_voice(tmp_path, clip_cache, pulse: PulseServer):
    missing = missing_tools()
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (./scripts/test installs them)")
    needs_voice_control()
    plan = tmp_path / "own-pace.yaml"
    plan.write_text(PLAN)
    data = tmp_path / "data"
    done_said = write_wav(tmp_path / "done.wav", say("Hey Jarvis, done.", pitch=0.93, pace=1.05))
    longer_said = write_wav(tmp_path / "longer.wav", say("Hey Jarvis, how much longer?", pitch=0.93, pace=1.05))
    room = pulse.add_room()
    try:
        with private_bus() as bus:
            env = dict(
                os.environ,
                VOICECOACH_CACHE_DIR=str(clip_cache),
                VOICECOACH_DATA_DIR=str(data),
                DBUS_SESSION_BUS_ADDRESS=bus.address,
            )
            rec = pulse.start_recording()
            run = PlayRun(plan, env, extra=["--listen"])
            run.wait_for(VOICE_ON, timeout_s=180)  # a cold clip cache: the session is synthesized first
            dones = []  # the recording's clock at each "done" (or, for the voice, when it was obeyed)
            # Set 1: a full 20 s wait, then done by key. Inside it, "how long is left?" by key (said as
            # repeat is, then the wait goes on), and the media player's widget shows the time left.
            # Each step waits for the words before it to be over on the speakers (under load they lag the
            # printed line), so the waits are real silences.
            _openings(run, 1)
            opened, heard_at = time.monotonic(), rec.recorded_s()
            _said_then_quiet(rec, heard_at - 0.5, QUIET_S)
            artists = [_artist(env)]
            asked_at = rec.recorded_s()
            run.key(b"l")
            answer = _line_starting(run, "About 2 minutes left.")
            _said_then_quiet(rec, asked_at, QUIET_S)
            time.sleep(max(0.0, opened + LONG_WAIT_S - time.monotonic()))
            dones.append(rec.recorded_s())
            run.key(b"d")
            run.wait_for("Done.")
            # Set 2: the headset's play button means done while the coach waits.
            _openings(run, 2)
            _said_then_quiet(rec, rec.recorded_s() - 0.5, QUIET_S)
            dones.append(rec.recorded_s())
            subprocess.run(["playerctl", "-p", "voicecoach", "play-pause"], env=env, timeout=10, check=True)
            run.wait_for("Done (headset).")
            # Set 3: "Hey Jarvis, how much longer?" then "Hey Jarvis, done." said into the room.
            _openings(run, 3)
            _said_then_quiet(rec, rec.recorded_s() - 0.5, QUIET_S)
            artists.append(_artist(env))
            asked_at = rec.recorded_s()
            pulse.play_into_room(longer_said)
            run.wait_for("Heard: how much longer.", timeout_s=10)
            spoken_answer = _line_starting(run, "Less than a minute left (voice).")
            _said_then_quiet(rec, asked_at, QUIET_S)  # the answer's words (synthesized when asked), then quiet
            for _ in range(2):  # said again after "Sorry?", as a person would (the benchmark measures how often)
                said_at, before = rec.recorded_s(), len(run.lines)
                pulse.play_into_room(done_said)
                with run.seen:
                    run.seen.wait_for(
                        lambda before=before: (
                            any(x == "Heard: done." or x.startswith("Sorry") for x in run.lines[before:]) or run.ended
                        ),
                        10,
                    )
                if "Heard: done." in run.lines:
                    break
                _said_then_quiet(rec, rec.recorded_s() - 0.5, QUIET_S)
            run.wait_for("Heard: done.", timeout_s=10)
            run.wait_for("Done (voice).")
            dones.append(rec.recorded_s())  # a little after the coach obeyed: the line is read as it comes
            rc, err = run.finish()
            print(err)  # shown on failure: an underrun under load is said there
            samples = rec.stop()
    finally:
        pulse.unload(room)
    assert rc == 0, err
    assert "Traceback" not in err
    assert run.lines.count("Stop. Relax.") == 3
    heard = [line for line in run.lines if line.startswith("Heard") or line.startswith("Sorry")]
    sorry = [line for line in heard if line.startswith("Sorry")]
    assert [line for line in heard if line not in sorry] == ["Heard: how much longer.", "Heard: done."], run.lines
    assert len(sorry) <= 1, run.lines  # never a wrong command: at most one "Sorry?", then done
    # How long is left: answered in the wait, by key and by voice; the widget's line carries it and is updated.
    assert answer == "About 2 minutes left. Exercise 1 of 1. This set: at your own pace.", answer
    assert spoken_answer == "Less than a minute left (voice). Exercise 1 of 1. This set: at your own pace."
    assert artists == ["voicecoach, about 2 min left", "voicecoach, less than a minute left"], artists
    # The sink is silent while the coach waits: from the opening words' end (they take about 2 s
    # with the output's latency) up to "done" (for the voice: up to when it was said).
    gaps = silent_stretches(samples, 1.0)
    for done in (dones[0], dones[1], said_at):
        assert any(a <= done - 1.0 and b >= done - 0.1 for a, b in gaps), (done, gaps)
    assert any(a <= dones[0] - 5.0 and b >= dones[0] - 0.1 for a, b in gaps), (dones[0], gaps)  # after the answer
    # After each "done": the set's stop ("Stop. Relax.") within the output's latency; then every later
    # cue up to the next set's opening (the rest's countdown), or after the last set the closing words,
    # keeps its planned offset from that stop (show --json), to the onset.
    shown = subprocess.run(
        [sys.executable, "-m", "voicecoach", "show", str(plan), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    cues = json.loads(shown.stdout)["cues"]
    stops = [i for i, c in enumerate(cues) if c["kind"] == "stop"]
    assert len(stops) == 3, cues
    onsets = np.array(find_onsets(samples, RATE))
    for n, (done, i) in enumerate(zip(dones, stops)):
        stop = onsets[(onsets > (said_at if n == 2 else done)) & (onsets < done + 1.0)]
        assert stop.size >= 1, (n, done, onsets)
        planned = []
        for c in cues[i + 1 :]:
            planned.append(c["start_s"] - cues[i]["start_s"])
            if c["kind"] == "start":
                break
        assert len(planned) >= 2, cues[i:]
        later = onsets[onsets > stop[0] + 0.05] - stop[0]
        for offset in planned:
            assert np.min(np.abs(later - offset)) < 0.05, (n, offset, planned, later[:8], err)
    # The journal holds the time each set took, from its opening words to "done".
    with sqlite3.connect(Path(data) / "journal.sqlite3") as c:
        rows = c.execute('SELECT exercise, "set", seconds FROM paced_sets ORDER BY id').fetchall()
    assert [(name, set_) for name, set_, _ in rows] == [("Stand", 1), ("Stand", 2), ("Stand", 3)]
    seconds = [s for _, _, s in rows]
    assert LONG_WAIT_S - 0.5 < seconds[0] < LONG_WAIT_S + 3.0, rows  # give or take the output latency
    assert QUIET_S < seconds[1] < QUIET_S + 5.0, rows  # the opening words, the quiet, then the button
    assert 2 * QUIET_S + 3.0 < seconds[2] < 40.0, rows  # and the question, its answer and "done", said
