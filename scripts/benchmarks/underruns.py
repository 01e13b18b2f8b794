"""Live playback on a busy machine: underruns while CPU hogs run, and when they happen.

``scripts/bench underruns`` plays the first ``--underrun-seconds`` (default
300) of the live program through the real ``Player`` (the defaults
``voicecoach play`` uses: 1024-frame blocks, "low" latency, the prefill)
into a private PulseAudio null sink, at normal priority, while ``--hogs``
(default 2) processes spin on the CPU, also at normal priority. The child
records the moment of every underrun (a callback that found no block
ready) and every xrun (PortAudio reporting that the device ran dry).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import Noise, log, noise_text, plan_label, run_child

from voicecoach.live.player import DEFAULT_LATENCY_S, PREFILL_BLOCKS

START_S = 2.0  # "at the very start": gaps within this long after play() began
T_GAPS = 0


def bench_underruns(args, work: Path) -> dict:
    from benchmarks.live import _live_unavailable, warm_live_session

    why = _live_unavailable()
    if why:
        log(f"underruns: skipped: {why}")
        return {"skipped": why}
    from helpers.pulse import PulseError, PulseServer

    noise = Noise()
    plan_spec, cache, session = warm_live_session(work, "underruns")
    session.pop("prepared")
    server = PulseServer()
    try:
        server.start()
    except PulseError as exc:
        server.stop()
        return {"skipped": f"cannot start a private PulseAudio server: {exc}"}
    env = {**server.client_env(), "VOICECOACH_CACHE_DIR": str(cache)}
    runs = []
    try:
        for i in range(args.underrun_runs):
            hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hogs)]
            try:
                time.sleep(1.0)  # the hogs are spinning before the session starts
                log(
                    f"underruns: run {i + 1}/{args.underrun_runs}: {args.underrun_seconds:g} s of play "
                    f"with {args.hogs} CPU hogs"
                )
                r = run_child(
                    "live",
                    {
                        "plan": plan_spec,
                        "mode": "play",
                        "seconds": args.underrun_seconds,
                        "gain": True,
                        "watch_gaps": True,
                    },
                    env=env,
                    timeout_s=args.underrun_seconds + 300,
                )
            finally:
                for h in hogs:
                    h.kill()
                    h.wait()
            runs.append(r)
    finally:
        server.stop()
    res = {
        "session": {**session, "plan": plan_label(plan_spec)},
        "seconds": args.underrun_seconds,
        "hogs": args.hogs,
        "runs": runs,
    }
    total = sum(len(r["gap_times"]["underruns"]) + len(r["gap_times"]["xruns"]) for r in runs)
    res["met"] = total <= T_GAPS
    res["noise"] = noise.done()
    return res


def _times(ts: list[float]) -> str:
    if not ts:
        return "none"
    shown = ", ".join(f"{t:.2f}" for t in ts[:8])
    return shown + (f" ... ({len(ts)} in all)" if len(ts) > 8 else "") + " s"


def md_underruns(res: dict, command: str, when: str) -> str:
    if "skipped" in res:
        return f"Skipped: {res['skipped']}.\n"
    s = res["session"]
    lines = [
        f"Command: `{command}` ({when}). {noise_text(res['noise'])}.",
        "",
        f"Session: the first {res['seconds']:g} s of {s['plan']} ({s['voice']}) with its loudness gain, "
        f"mixed by `mix.blocks` into `voicecoach.live.player.Player` with the defaults `voicecoach play` uses "
        f"(1024-frame blocks, a {DEFAULT_LATENCY_S:g} s device buffer, and that buffer plus {PREFILL_BLOCKS} blocks queued before the stream starts), "
        "PortAudio -> ALSA `pulse` plugin -> a private PulseAudio null sink, each run a fresh process at "
        f"normal priority, while {res['hogs']} CPU hogs (`python -c 'while True: pass'`, normal priority) "
        "spin. An underrun is a callback that found no block ready; an xrun is PortAudio reporting an "
        "output underflow (what ALSA prints as `snd_pcm_recover underrun occurred`).",
        "",
        f"| run | played | underruns | xruns | gaps in the first {START_S:g} s | when (s after play began) |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for i, r in enumerate(res["runs"], 1):
        g = r["gap_times"]
        every = sorted(g["underruns"] + g["xruns"])
        start = sum(1 for t in every if t <= START_S)
        lines.append(
            f"| {i} | {r['play_wall_s']:.0f} s | {len(g['underruns'])} | {len(g['xruns'])} | {start} | "
            f"{_times(every)} |"
        )
    lines += [
        "",
        "| target | met |",
        "| --- | --- |",
        f"| no underrun or xrun in {res['seconds']:g} s of play with {res['hogs']} CPU hogs | "
        f"{'yes' if res['met'] else '**no**'} |",
    ]
    return "\n".join(lines) + "\n"
