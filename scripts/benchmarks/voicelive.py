"""Voice-command latency on the real stack: the end of "hey jarvis, pause" in the room to the coach's answer.

A real `voicecoach play --listen` runs on a private PulseAudio server with
two null sinks (tests/helpers/pulse.py): it plays to "the speakers" and
listens to the monitor of "the room". During a quiet stretch of a hold a
generated speaker (the Piper voice, deterministic, shifted in pitch: a voice
the recognizer was not tuned on) says "Hey Jarvis, pause." into the room with
paplay. Both monitors are recorded by parec at once; the two recordings are
put on one clock by their lengths read at the same moment (10 ms fragments:
within about 10 ms). The latency is from the last sound of the command in
the room to the first sound of the spoken "Paused..." on the speakers: the
listener's end-pointing and decoding, the command's way to the controller,
the confirmation's mix and the output latency, all of it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from benchmarks.common import RATE, log, median

T_LATENCY_MS = 700.0
PLAN = """\
title: Voice
safety: Stop if it hurts.
defaults: {countdown: 0, get_ready: 2}
exercises:
  - {name: Stretch, setup: Sit down., hold: 60}
"""


def _last_sound_end(x: np.ndarray, threshold_db: float = -40.0, window_s: float = 0.005) -> float | None:
    """Where the last stretch of sound in ``x`` ends (s): the envelope's last frame above the threshold."""
    w = int(window_s * RATE)
    n = len(x) // w
    if n == 0:
        return None
    power = np.mean(x[: n * w].reshape(n, w).astype(np.float64) ** 2, axis=1)
    loud = np.flatnonzero(power > 10 ** (threshold_db / 10))
    return None if loud.size == 0 else float((loud[-1] + 1) * w / RATE)


def bench_voicelive(args, work: Path) -> dict:
    try:
        import pocketsphinx  # noqa: F401
        import pymicro_wakeword  # noqa: F401
    except ImportError as exc:
        return {"skipped": f"the listen extra is not installed ({exc})"}
    from helpers.pulse import PulseServer, find_onsets, missing_tools
    from helpers.speakers import piper_available, say, write_wav

    if missing_tools():
        return {"skipped": f"{', '.join(missing_tools())} not found (./scripts/test installs them)"}
    if not piper_available():
        return {"skipped": "the generated speaker is the Piper voice (the neural extra)"}
    from benchmarks.common import PlayProcess as _Play

    plan = work / "voice.yaml"
    plan.write_text(PLAN)
    wav = write_wav(work / "pause.wav", say("Hey Jarvis, pause.", pitch=0.95, pace=1.05))
    latencies: list[float] = []
    missed = 0
    server = PulseServer()
    server.start()
    try:
        server.add_room()
        env = dict(
            os.environ,
            **server.client_env(),
            VOICECOACH_CACHE_DIR=str(work / "voice-cache"),
            VOICECOACH_DATA_DIR=str(work / "voice-data"),
        )
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        subprocess.run(
            [sys.executable, "-m", "voicecoach", "show", str(plan)], env=env, check=True, capture_output=True
        )  # a warm cache: every run starts at once
        for i in range(args.voicelive_runs):
            speakers = server.start_recording()
            room = server.start_recording(server.room_monitor)
            offset = speakers.recorded_s() - room.recorded_s()  # room time + offset = speakers time
            play = _Play(plan, env, extra=["--listen", "--no-check-in"])
            play.wait_for("Hold.")
            time.sleep(3.0)  # a quiet stretch of the hold
            server.play_into_room(wav)
            ok = True
            try:
                play.wait_for("Paused (voice).", timeout_s=10)
            except RuntimeError:
                ok = False
            time.sleep(2.5)
            # SIGTERM, not SIGINT: started in the background from a script, the bench (and so the
            # session) inherits an ignored SIGINT, and voicecoach keeps an inherited "ignore".
            play.proc.send_signal(signal.SIGTERM)
            try:
                play.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # say what it was doing; the run counts as missed
                play.proc.kill()
                play.proc.wait()
                err = play.proc.stderr.read() if play.proc.stderr else ""
                log(
                    f"voice live run {i + 1}: SIGTERM did not end the session in 30 s; last lines "
                    f"{play.lines[-4:]}; stderr {err[-500:]!r}"
                )
                ok = False
            spk, rm = speakers.stop(), room.stop()
            end = _last_sound_end(rm)
            if not ok or end is None:
                missed += 1
                log(f"voice live run {i + 1}: the command was not obeyed")
                continue
            end_on_speakers = end + offset
            after = [o for o in find_onsets(spk, RATE) if o >= end_on_speakers - 0.05]
            if not after:
                missed += 1
                log(f"voice live run {i + 1}: no confirmation found on the speakers")
                continue
            latencies.append((after[0] - end_on_speakers) * 1000)
            log(f"voice live run {i + 1}: end of the command -> spoken confirmation {latencies[-1]:.0f} ms")
    finally:
        server.stop()
    if not latencies:
        return {"skipped": f"no run produced a measurement ({missed} missed)"}
    med = median(latencies)
    return {
        "runs": len(latencies),
        "missed": missed,
        "latency_ms": latencies,
        "median_ms": med,
        "met": med < T_LATENCY_MS,
    }


def md_voicelive(res: dict, command: str, when: str) -> str:
    lat = ", ".join(f"{x:.0f}" for x in sorted(res["latency_ms"]))
    return (
        f"Command: `{command}` ({when}): {res['runs']} runs of a real `voicecoach play --listen` on a private "
        f"PulseAudio server (speakers and room null sinks); {res['missed']} runs where the command was not obeyed.\n\n"
        f"| measure | median | all runs (ms) | target |\n| --- | --- | --- | --- |\n"
        f'| end of "Hey Jarvis, pause." in the room -> first sound of the spoken confirmation on the speakers | '
        f"**{res['median_ms']:.0f} ms** | {lat} | < {T_LATENCY_MS:.0f} ms: {'met' if res['met'] else 'MISSED'} |\n"
    )
