"""Barge-in for real: "hey jarvis, pause" said while the coach speaks, with the coach's voice in the room.

A private PulseAudio server (tests/helpers/pulse.py): the coach plays to the
null sink ``vc_test`` ("the speakers", recorded); the microphone is the
monitor of ``vc_room`` ("the room"), into which a loopback feeds the
speakers (an echo path with its own delay, steady as a sound card's own) and
paplay the generated speaker. The echo canceller takes the coach's voice out
of what the microphone hears, using the samples the coach sent and when. The
null sinks' echo path is linear and never drifts, unlike real loudspeakers.

The command is obeyed, and the session's later cues all move by one and the
same shift (the pause, the spoken confirmations and the count-in): a duck
while the command was heard changed no timing. The coach's own session fed
back firing nothing is tests/e2e/test_play_voice.py's last stretch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers.play import PlayRun
from helpers.pulse import RATE, PulseServer, find_onsets
from helpers.room import listening_room
from helpers.speakers import say, write_wav

pytestmark = [pytest.mark.audio, pytest.mark.slow]

# Loose: the live session's loudness gain is not the offline render's (the words before the session
# count in it), so a soft first sound crosses the detector's threshold some tens of ms apart; a pause
# or a duck that moved the session would shift it by seconds.
TOLERANCE_S = 0.08
PLAN = """\
title: Barge
safety: Stop if it hurts.
defaults: {countdown: 0, get_ready: 2}
exercises:
  - name: Bridge
    setup: Lie on your back with your knees bent and your feet flat on the floor, then lift your hips slowly.
    hold: 12
  - name: Calf raise
    setup: Stand with your hands on the back of a chair and rise onto your toes.
    hold: 6
"""


@pytest.fixture
def barge_env(tmp_path, clip_cache, pulse: PulseServer):
    plan = tmp_path / "barge.yaml"
    plan.write_text(PLAN)
    with listening_room(pulse, clip_cache, tmp_path / "data") as env:
        yield plan, env


def _timeline(plan, env) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "voicecoach", "show", str(plan), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout)


def _ideal_onsets(plan, cache) -> np.ndarray:
    """Where the onset detector fires on the session as `play` mixes it, rendered offline (a cue right
    after another, with no silence between, has no onset of its own)."""
    from voicecoach import programs
    from voicecoach.core.schedule import Options
    from voicecoach.render import mix
    from voicecoach.render.prepare import prepare, session_gain
    from voicecoach.speech.speaker import Speaker, SpeechSettings

    settings = SpeechSettings(engine=None)
    prepared = prepare(programs.load(str(plan)), Options(), settings, speaker=Speaker(settings, cache_dir=cache))
    pcm = np.concatenate(list(mix.blocks(prepared.timeline, prepared.clips, gain=session_gain(prepared))))
    return np.array(find_onsets(pcm, RATE))


def _nearest(onsets: np.ndarray, t: float) -> float:
    return float(onsets[np.argmin(np.abs(onsets - t))])


def _one_shift(onsets: np.ndarray, expected: list[float]) -> tuple[int, float]:
    """The shift that puts most of ``expected`` on a detected onset, and how many it puts there."""
    best = (0, 0.0)
    for d in onsets:
        shift = float(d) - expected[0]
        hits = sum(abs(_nearest(onsets, e + shift) - (e + shift)) <= TOLERANCE_S for e in expected)
        if hits > best[0]:
            best = (hits, shift)
    return best


def test_pause_said_over_the_coach_is_obeyed_and_later_cues_shift_only_by_the_pause(
    barge_env, pulse: PulseServer, tmp_path, clip_cache
):
    plan, env = barge_env
    timeline = _timeline(plan, env)
    # The second exercise's instruction: the canceller has heard the coach for a while (it adapts over
    # the first seconds of speech, as it would have in a real session by then).
    setup = [c for c in timeline["cues"] if c["kind"] == "setup"][1]
    pause = write_wav(tmp_path / "pause.wav", say("Hey Jarvis, pause.", pitch=0.93, pace=1.05))
    # The coach's voice reaches the microphone all along, some 10 dB under the person speaking (at peaks:
    # the session's loudness against the speaker's -6 dBFS). Louder than that the canceller's residue
    # drowns the wake word too often (docs/benchmarks.md, "Barge-in").
    loop = pulse.loop_speakers_into_room(steady=True, gain_db=-10.0)
    try:
        rec = pulse.start_recording()
        t0 = time.monotonic()
        run = PlayRun(plan, env, extra=["--listen"])
        run.wait_for(
            'Voice control is on: say "Hey Jarvis", then a command ("Hey Jarvis, help" lists them).', timeout_s=180
        )
        run.wait_for(setup["text"], timeout_s=60)
        time.sleep(0.5)  # into the coach's sentence: the command ends before it does
        said_at = time.monotonic() - t0
        pulse.play_into_room(pause)
        run.wait_for("Heard: pause.", timeout_s=10)
        run.wait_for("Paused (voice). Say the wake word, then resume.")
        time.sleep(4.0)
        run.key(b" ")
        run.wait_for("Resuming.", timeout_s=10)
        rc, err = run.finish(timeout_s=90)
        samples = rec.stop()
    finally:
        pulse.unload(loop)
    assert rc == 0, err
    assert "Traceback" not in err
    heard = [line for line in run.lines if line.startswith(("Heard", "Sorry"))]
    assert heard == ["Heard: pause."], run.lines  # the coach's own voice in the room fired nothing
    # The cues after the paused one (the setup said again from its start, and on) all moved by
    # one shift: the pause and the words around it, nothing else (a duck keeps the timing).
    onsets = np.array(find_onsets(samples, RATE))
    ideal = _ideal_onsets(plan, clip_cache)
    later = []  # each later cue's onset, where it has one (a cue right after another has none of its own)
    for cue in timeline["cues"]:
        near = ideal[(ideal >= cue["start_s"] - 0.002) & (ideal <= cue["start_s"] + 0.1)]
        if cue["start_s"] >= setup["start_s"] and near.size:
            later.append(float(near[0]))
    hits, shift = _one_shift(onsets[onsets > said_at], later)
    assert hits == len(later), (hits, len(later), shift, np.round(onsets, 2))
    assert shift > said_at - setup["start_s"] + 4.0  # it did wait for the key
