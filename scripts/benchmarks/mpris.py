"""Media-button latency: `playerctl play-pause` to the spoken confirmation on the sink, over a private bus.

A real `voicecoach play` runs on a private PulseAudio null sink with a private
session bus. During a silent stretch of a hold, `playerctl -p voicecoach
play-pause` is sent; the latency is from that moment to the first sound of
the spoken "Paused..." on the sink. The session's own audio stops before the
confirmation starts, so this is an upper bound on "command to silence".

"That moment" is read off the recording itself: the monitor is recorded by
parec with 10 ms fragments into a file, and the file's length when the
command is sent is the recording's "now" (within a fragment). The D-Bus round
trip alone (`playerctl status`) is measured too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import RATE, PlayProcess, log, median

T_LATENCY_MS = 150.0
PLAN = """\
title: Buttons
safety: Stop if it hurts.
defaults: {countdown: 0, get_ready: 2}
exercises:
  - {name: Stretch, setup: Sit down., hold: 40}
"""


def _unavailable() -> str | None:
    missing = [t for t in ("dbus-daemon", "playerctl", "pulseaudio", "parec") if shutil.which(t) is None]
    if missing:
        return f"{', '.join(missing)} not found (./scripts/test installs them)"
    try:
        import jeepney  # noqa: F401
    except ImportError:
        return "jeepney is not installed (a voicecoach dependency on Linux)"
    return None


def bench_mpris(args, work: Path) -> dict:
    why = _unavailable()
    if why:
        return {"skipped": why}
    from helpers.dbus import private_bus
    from helpers.pulse import PulseServer, find_onsets

    plan = work / "buttons.yaml"
    plan.write_text(PLAN)
    cache = work / "mpris-cache"
    latencies, dbus_ms = [], []
    server = PulseServer()
    server.start()
    try:
        with private_bus() as bus:
            env = dict(
                os.environ,
                **server.client_env(),
                DBUS_SESSION_BUS_ADDRESS=bus.address,
                VOICECOACH_CACHE_DIR=str(cache),
                VOICECOACH_DATA_DIR=str(work / "mpris-data"),
            )
            subprocess.run(
                [sys.executable, "-m", "voicecoach", "show", str(plan)], env=env, check=True, capture_output=True
            )  # a warm cache: every run starts at once
            for i in range(args.mpris_runs):
                rec = server.start_recording()
                play = PlayProcess(plan, env)
                play.wait_for("Hold.")
                time.sleep(2.0)  # inside the silent part of the hold
                t = time.monotonic()
                subprocess.run(["playerctl", "-p", "voicecoach", "status"], env=env, capture_output=True)
                dbus_ms.append((time.monotonic() - t) * 1000)
                time.sleep(0.5)
                sent_at = rec.recorded_s()
                subprocess.run(["playerctl", "-p", "voicecoach", "play-pause"], env=env, capture_output=True)
                play.wait_for("Paused (headset).")
                time.sleep(3.0)
                subprocess.run(["playerctl", "-p", "voicecoach", "stop"], env=env, capture_output=True)
                play.proc.wait(timeout=60)
                samples = rec.stop()
                after = [o for o in find_onsets(samples, RATE) if o >= sent_at - 0.005]
                if not after:
                    log(f"mpris run {i + 1}: no confirmation found in the recording")
                    continue
                latencies.append((after[0] - sent_at) * 1000)
                log(
                    f"mpris run {i + 1}: play-pause -> confirmation {latencies[-1]:.0f} ms, "
                    f"D-Bus round trip {dbus_ms[-1]:.0f} ms"
                )
    finally:
        server.stop()
    if not latencies:
        return {"skipped": "no run produced a measurement"}
    med = median(latencies)
    return {
        "runs": len(latencies),
        "latency_ms": latencies,
        "median_ms": med,
        "dbus_ms": dbus_ms,
        "dbus_median_ms": median(dbus_ms),
        "met": med < T_LATENCY_MS,
    }


def md_mpris(res: dict, command: str, when: str) -> str:
    lat = ", ".join(f"{x:.0f}" for x in sorted(res["latency_ms"]))
    return (
        f"Measured by `{command}` on {when}: {res['runs']} runs of a real `voicecoach play` on a private "
        f"PulseAudio null sink with a private session bus.\n\n"
        f"| measure | median | all runs (ms) | target |\n| --- | --- | --- | --- |\n"
        f"| `playerctl play-pause` to the first sound of the spoken confirmation | "
        f"{res['median_ms']:.0f} ms | {lat} | < {T_LATENCY_MS:.0f} ms: "
        f"{'met' if res['met'] else 'MISSED'} |\n"
        f"| `playerctl status` round trip (the D-Bus hop alone, playerctl's start-up included) | "
        f"{res['dbus_median_ms']:.0f} ms | | |\n"
    )
