"""`voicecoach play --listen` for real: a generated speaker talks into "the room", the coach obeys.

A private PulseAudio server with two null sinks: the coach plays to
``vc_test`` ("the speakers", recorded), and the default input is the monitor
of ``vc_room`` ("the room"). The test plays "hey jarvis, pause" into the room
with paplay during a hold, checks that the session paused (the --plain line,
and the speakers' recording goes silent), then "hey jarvis, resume"; then it
feeds the speakers back into the room for a stretch of the session and
checks that the coach never obeys itself. The voice is the Piper voice
shifted in pitch (deterministic: see helpers/speakers.py), which the
recognizer's settings were not chosen on.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers.play import PlayRun, silent_stretches
from helpers.pulse import PulseServer
from helpers.room import listening_room
from helpers.speakers import say, write_wav

pytestmark = [pytest.mark.audio, pytest.mark.slow]

PLAN = """\
title: Voice
safety: Stop if it hurts.
defaults: {countdown: 3, get_ready: 4, rest_between_exercises: 5}
exercises:
  - {name: Bridge, setup: Lie on your back., hold: 30}
  - {name: Wall slide, setup: Stand against a wall., hold: 30}
"""


@pytest.fixture
def voice_env(tmp_path, clip_cache, pulse: PulseServer):
    plan = tmp_path / "voice.yaml"
    plan.write_text(PLAN)
    with listening_room(pulse, clip_cache, tmp_path / "data") as env:
        yield plan, env


def spoken(tmp_path, text: str):
    return write_wav(tmp_path / (text.replace(" ", "_").strip(",.") + ".wav"), say(text, pitch=0.93, pace=1.05))


def test_voice_pauses_and_resumes_and_never_obeys_the_coach(voice_env, pulse: PulseServer, tmp_path):
    plan, env = voice_env
    pause, resume = spoken(tmp_path, "Hey Jarvis, pause."), spoken(tmp_path, "Hey Jarvis, resume.")
    rec = pulse.start_recording()
    t0 = time.monotonic()
    run = PlayRun(plan, env, extra=["--listen"])
    # The first run of the module synthesizes the session (cold clip cache): allow for it.
    run.wait_for(
        'Voice control is on: say "Hey Jarvis", then a command ("Hey Jarvis, help" lists them).', timeout_s=180
    )
    run.wait_for("Hold.")
    time.sleep(1.5)  # past "Hold." and its echo: a quiet moment of the hold
    pulse.play_into_room(pause)
    run.wait_for("Heard: pause.", timeout_s=10)
    run.wait_for("Paused (voice). Say the wake word, then resume.")
    time.sleep(5.0)  # the spoken "Paused..." ends; then the speakers must be silent
    resumed_at = time.monotonic() - t0
    pulse.play_into_room(resume)
    run.wait_for("Heard: resume.", timeout_s=10)
    run.wait_for("Resuming (voice).")

    # The coach's own voice in the room, for the rest of this exercise and into the next: nothing fires.
    loop = pulse.loop_speakers_into_room()
    try:
        run.wait_for("Exercise 2 of 2: Wall slide. 1 set, hold 30 seconds.", timeout_s=60)
        run.wait_for("Hold.", timeout_s=30)
        time.sleep(3.0)
    finally:
        pulse.unload(loop)
    run.key(b"q")
    rc, err = run.finish()
    samples = rec.stop()
    assert rc == 0, err
    assert "Traceback" not in err
    heard = [line for line in run.lines if line.startswith("Heard") or line.startswith("Sorry")]
    assert heard == ["Heard: pause.", "Heard: resume."], run.lines
    assert "Stopped. Your place is saved: continue with --resume." in run.lines
    # The pause silenced the speakers until "resume" was said (give or take the output latency).
    gaps = silent_stretches(samples, 1.5)
    assert any(a <= resumed_at - 1.0 and b >= resumed_at - 0.3 for a, b in gaps), (resumed_at, gaps)


def test_without_a_microphone_the_session_goes_on_with_keys(voice_env, pulse: PulseServer):
    plan, env = voice_env
    env = dict(env, PULSE_SOURCE="no_such_source")  # the default input does not exist
    run = PlayRun(plan, env, extra=["--listen"])
    run.wait_for("Hold.")
    run.key(b"q")
    rc, err = run.finish()
    assert rc == 0, err
    notes = [line for line in run.lines if line.startswith("Voice control is off")]
    assert len(notes) == 1 and notes[0].startswith("Voice control is off: "), run.lines
    assert "Stopped. Your place is saved: continue with --resume." in run.lines


PLAN3 = PLAN + "  - {name: Calf raise, setup: Hold a chair., hold: 30}\n"


def _count(run: PlayRun, text: str, n: int, timeout_s: float = 10) -> None:
    """Wait until ``text`` has been printed ``n`` times."""
    with run.seen:
        ok = run.seen.wait_for(lambda: run.lines.count(text) >= n or run.ended, timeout_s)
    assert ok and run.lines.count(text) >= n, (text, n, run.lines)


@pytest.mark.parametrize(("pitch", "pace"), [(1.08, 0.92), (0.9, 1.08)], ids=["higher-slower", "lower-faster"])
def test_voice_next_repeat_back_and_stop_from_unseen_speakers(voice_env, pulse: PulseServer, tmp_path, pitch, pace):
    """Two speakers the recognizer was not tuned on (benchmarks/voiceset.py has the tuning set) drive a session."""
    plan, env = voice_env
    plan.write_text(PLAN3)
    said = {
        w: write_wav(tmp_path / f"{w}.wav", say(f"Hey Jarvis, {w}.", pitch=pitch, pace=pace))
        for w in ("next", "repeat", "back", "stop")
    }
    run = PlayRun(plan, env, extra=["--listen"])
    run.wait_for(
        'Voice control is on: say "Hey Jarvis", then a command ("Hey Jarvis, help" lists them).', timeout_s=180
    )
    run.wait_for("Hold.")
    time.sleep(3.0)  # a quiet moment of the first hold (past the echo gate's reach: listener.WAKE_SPAN_S)
    pulse.play_into_room(said["next"])
    run.wait_for("Heard: next.", timeout_s=10)
    run.wait_for("Next exercise (voice).")
    run.wait_for("Exercise 2 of 3: Wall slide. 1 set, hold 30 seconds.", timeout_s=15)
    _count(run, "Hold.", 2, timeout_s=30)
    time.sleep(3.0)
    pulse.play_into_room(said["repeat"])
    run.wait_for("Heard: repeat.", timeout_s=10)
    run.wait_for("Stand against a wall (voice).")  # the instruction, said again
    time.sleep(3.0)  # the repeated instruction and its echo are over
    pulse.play_into_room(said["back"])
    run.wait_for("Heard: back.", timeout_s=10)
    run.wait_for("Back to the start of this exercise (voice).")
    _count(run, "Exercise 2 of 3: Wall slide. 1 set, hold 30 seconds.", 2, timeout_s=15)
    _count(run, "Hold.", 3, timeout_s=30)
    time.sleep(3.0)
    pulse.play_into_room(said["stop"])
    run.wait_for("Heard: stop.", timeout_s=10)
    rc, err = run.finish()
    assert rc == 0, err
    assert "Traceback" not in err
    heard = [line for line in run.lines if line.startswith("Heard") or line.startswith("Sorry")]
    assert heard == ["Heard: next.", "Heard: repeat.", "Heard: back.", "Heard: stop."], run.lines
    assert run.lines[-1] == "Stopped (voice). Your place is saved: continue with --resume.", run.lines[-4:]
    assert not any(line.startswith("Exercise 3 of 3") for line in run.lines), run.lines


def _fan(n: int, seed: int = 7) -> np.ndarray:
    """A room fan: pink noise from 60 Hz to 7 kHz and the blades' 90 Hz hum (as benchmarks/voiceset.py's)."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / 16000)
    spectrum *= np.where((f >= 60) & (f <= 7000), 1 / np.sqrt(np.maximum(f, 60.0)), 0.0)
    z = np.fft.irfft(spectrum, n)
    z /= np.sqrt(np.mean(z**2))
    hum = sum(np.sin(2 * np.pi * 90 * k * np.arange(n) / 16000) / k for k in (1, 2, 3))
    return z + 0.3 * hum / np.sqrt(np.mean(hum**2))


def test_a_fan_at_10_db_snr_still_obeys_pause(voice_env, pulse: PulseServer, tmp_path):
    """The fan runs in the room from before the session; "hey jarvis, pause" is said 10 dB over it."""
    plan, env = voice_env
    words = say("Hey Jarvis, pause.", pitch=0.93, pace=1.05).astype(np.float64)
    frames = words[: len(words) // 320 * 320].reshape(-1, 320)
    level = np.sqrt(np.mean(np.sort(np.sqrt(np.mean(frames**2, axis=1)))[len(frames) // 2 :] ** 2))  # louder half
    lead, tail = 3 * 16000, 2 * 16000  # the noise suppressor has the fan's measure before the words
    fan = _fan(lead + len(words) + tail) * level / 10 ** (10 / 20)  # 10 dB SNR
    take = fan.copy()
    take[lead : lead + len(words)] += words
    wav = write_wav(tmp_path / "pause_over_fan.wav", np.clip(take, -32768, 32767).astype(np.int16), lead_s=0.0)
    run = PlayRun(plan, env, extra=["--listen"])
    run.wait_for(
        'Voice control is on: say "Hey Jarvis", then a command ("Hey Jarvis, help" lists them).', timeout_s=180
    )
    run.wait_for("Hold.")
    time.sleep(1.5)  # past "Hold." and its echo
    # Said at most twice, as a person would after "Sorry?" or silence (the benchmark measures the rate:
    # one try in five or so is missed by a voice like this one at 10 dB); never a wrong command.
    for _ in range(2):
        pulse.play_into_room(wav)
        with run.seen:
            if run.seen.wait_for(lambda: "Heard: pause." in run.lines or run.ended, 10):
                break
    run.wait_for("Paused (voice). Say the wake word, then resume.")
    run.key(b"q")
    rc, err = run.finish()
    assert rc == 0, err
    heard = [line for line in run.lines if line.startswith("Heard") or line.startswith("Sorry")]
    assert heard[-1:] == ["Heard: pause."], run.lines
    assert all(line == "Heard: pause." or line.startswith("Sorry") for line in heard), run.lines
