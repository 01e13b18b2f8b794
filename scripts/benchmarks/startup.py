"""Instant start: first sound of `voicecoach play` on a cold clip cache, and a cold export against a warm one.

First sound is measured from outside, as a user hears it: `voicecoach play
inner-knee` is started as a user would start it (a fresh process, stdin a
terminal so single keys are on) with a private, empty clip cache, playing to a
private PulseAudio null sink (tests/helpers/pulse.py). The sink's monitor is
recorded by ``parec`` into a pipe read here, each chunk timestamped as it
arrives: the first non-silent sample's time, less the time just before the
process was started, is the first sound. It includes the interpreter's start,
imports, loading the voice, the first synthesis, opening the sound device and
the output latency (the recording's own latency, about 10 ms, too).

Cold export: `voicecoach export inner-knee -o x.mp3` in a fresh process, with an
empty clip cache and with a warm one (the clips and the level of an earlier
export), the two interleaved; wall time of the whole process.
"""

from __future__ import annotations

import os
import pty
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import ROOT, Noise, log, median, noise_text

T_FIRST_PIPER_S = 2.0
T_FIRST_SYSTEM_S = 0.5
T_COLD_EXPORT_RATIO = 2.0
PROGRAM = "inner-knee"
SILENT = 1e-6  # a float32 null sink gives exact zeros for silence; any sample above this is sound
GIVE_UP_S = 60.0


def engines_here() -> list[str]:
    from voicecoach.speech import piper

    return ["system", "piper"] if piper.available() else ["system"]


class _Monitor:
    """The null sink's monitor, read from ``parec``'s stdout with arrival times."""

    def __init__(self, server) -> None:
        from helpers.pulse import RATE

        self.rate = RATE
        self.proc = subprocess.Popen(
            [
                "parec",
                "--server",
                server.server,
                f"--device={server.monitor}",
                "--format=float32le",
                f"--rate={RATE}",
                "--channels=1",
                "--raw",
                "--latency-msec=5",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **server.client_env()},
        )
        self.frames = 0
        self.first: float | None = None  # monotonic time of the first non-silent sample
        self.armed = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        import numpy as np

        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 4 * 441)  # at most 10 ms at a time
            now = time.monotonic()
            if not data:
                return
            x = np.frombuffer(data[: len(data) // 4 * 4], "<f4")
            with self.lock:
                if self.armed and self.first is None:
                    loud = np.flatnonzero(np.abs(x) > SILENT)
                    if loud.size:
                        # The chunk's last sample arrived now: step back to the first loud one.
                        self.first = now - (x.size - loud[0]) / self.rate
                self.frames += x.size

    def arm(self) -> None:
        with self.lock:
            self.armed, self.first = True, None

    def disarm(self) -> None:
        with self.lock:
            self.armed = False

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)


def first_sound(monitor: _Monitor, env: dict, engine: str, cwd: Path, terminal: bool = True) -> dict:
    """Start `voicecoach play` (in ``cwd``: not a checkout, whose voicecoach would come first) and time its
    first non-silent sample; then stop it."""
    cmd = [sys.executable, "-m", "voicecoach", "play", PROGRAM, "--engine", engine, "--plain"]
    master = slave = None
    if terminal:
        master, slave = pty.openpty()
    time.sleep(0.3)  # silence before, so nothing earlier is taken for the first sound
    monitor.arm()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=slave if terminal else subprocess.DEVNULL,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    if slave is not None:
        os.close(slave)
    try:
        while monitor.first is None and time.monotonic() - t0 < GIVE_UP_S and proc.poll() is None:
            time.sleep(0.005)
        first = monitor.first
        time.sleep(0.2)
    finally:
        monitor.disarm()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        if master is not None:
            os.close(master)
    if first is None:
        raise RuntimeError(f"no sound from `{' '.join(cmd)}` within {GIVE_UP_S:g} s:\n{err.decode()[-2000:]}")
    return {"engine": engine, "first_sound_s": first - t0}


def level_rows(work: Path, engines: list[str]) -> list[dict]:
    """The level a cold `play` starts at (estimated from the keys hint and the introduction, the peak taken as
    full scale) against the session's measured level, for the built-in programs (this checkout's code)."""
    import math

    from voicecoach import programs
    from voicecoach.core.parts import part_start, parts
    from voicecoach.core.phrases import KEYS_HINT
    from voicecoach.core.schedule import Options
    from voicecoach.core.timeline import Cue, Timeline
    from voicecoach.render.level import estimated_gain
    from voicecoach.render.prepare import prepare, session_gain
    from voicecoach.speech.speaker import Speaker, SpeechSettings

    rows = []
    for engine in engines:
        settings = SpeechSettings(engine=engine)
        speaker = Speaker(settings, cache_dir=work / f"levels-{engine}")
        for name in ("inner-knee", "medial-knee"):
            log(f"startup: level of {name} with {engine}, measured and estimated")
            p = prepare(programs.load(name), Options(), settings, speaker=speaker)
            n = speaker.length_s(KEYS_HINT)
            said = Timeline("", n + 0.25, (Cue(0.0, n, "intro", KEYS_HINT),))
            intro_end = part_start(p.timeline, parts(p.plan, p.options)[1])
            est = estimated_gain([(said, p.clips_for(said), said.duration_s), (p.timeline, p.clips, intro_end)])
            db = 20 * math.log10(session_gain(p))
            rows.append(
                {
                    "engine": engine,
                    "program": name,
                    "measured_db": db,
                    "estimated_db": 20 * math.log10(est),
                    "diff_db": 20 * math.log10(est) - db,
                }
            )
    return rows


def export_run(env: dict, engine: str, out: Path) -> float:
    cmd = [sys.executable, "-m", "voicecoach", "export", PROGRAM, "-o", str(out), "--engine", engine]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=out.parent)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed:\n{done.stderr[-2000:]}")
    return wall


def bench_startup(args, work: Path) -> dict:
    from benchmarks.live import _live_unavailable

    why = _live_unavailable()
    if why:
        log(f"startup: skipped: {why}")
        return {"skipped": why}
    from helpers.pulse import PulseError, PulseServer

    noise = Noise()
    engines = engines_here()
    server = PulseServer()
    try:
        server.start()
    except PulseError as exc:
        server.stop()
        return {"skipped": f"cannot start a private PulseAudio server: {exc}"}
    firsts: dict[str, list[dict]] = {e: [] for e in engines}
    warm_firsts: dict[str, list[dict]] = {e: [] for e in engines}
    monitor = _Monitor(server)
    # This checkout's voicecoach (or --startup-source's), whatever the interpreter has installed.
    source = getattr(args, "startup_source", None) or ROOT
    path = os.pathsep.join(p for p in (str(source), os.environ.get("PYTHONPATH", "")) if p)
    base_env = {
        **os.environ,
        **server.client_env(),
        "PYTHONPATH": path,
        "VOICECOACH_DATA_DIR": str(work / "data"),
        "VOICECOACH_CONFIG": str(work / "absent-config"),
    }
    base_env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no media-player registration on the desktop's bus
    only = getattr(args, "startup_only", None)
    try:
        for i in range(args.startup_runs if only != "export" else 0):
            for engine in engines:
                cache = Path(tempfile.mkdtemp(prefix="cold-", dir=work))
                log(f"startup: run {i + 1}/{args.startup_runs}: first sound, {engine}, cold cache")
                r = first_sound(monitor, {**base_env, "VOICECOACH_CACHE_DIR": str(cache)}, engine, work)
                firsts[engine].append(r)
                log(f"startup:   {r['first_sound_s'] * 1000:.0f} ms")
                shutil.rmtree(cache, ignore_errors=True)
        for engine in engines if only != "export" else []:  # a reference: the same with every clip cached
            cache = work / f"warm-{engine}"
            subprocess.run(
                [sys.executable, "-m", "voicecoach", "show", PROGRAM, "--engine", engine],
                cwd=work,
                env={**base_env, "VOICECOACH_CACHE_DIR": str(cache)},
                check=True,
                capture_output=True,
            )
            for i in range(args.startup_runs):
                log(f"startup: run {i + 1}/{args.startup_runs}: first sound, {engine}, warm cache")
                r = first_sound(monitor, {**base_env, "VOICECOACH_CACHE_DIR": str(cache)}, engine, work)
                warm_firsts[engine].append(r)
                log(f"startup:   {r['first_sound_s'] * 1000:.0f} ms")
    finally:
        monitor.close()
        server.stop()

    exports: dict[str, list[float]] = {"cold": [], "warm": []}
    export_engine = "piper" if "piper" in engines else "system"
    warm_cache = work / "export-warm"
    if only != "first":
        export_run({**base_env, "VOICECOACH_CACHE_DIR": str(warm_cache)}, export_engine, work / "x.mp3")
    for i in range(args.startup_runs if only != "first" else 0):
        for case in ("cold", "warm") if i % 2 == 0 else ("warm", "cold"):
            cache = warm_cache if case == "warm" else Path(tempfile.mkdtemp(prefix="cold-", dir=work))
            log(f"startup: run {i + 1}/{args.startup_runs}: export {PROGRAM}, {export_engine}, {case} cache")
            wall = export_run({**base_env, "VOICECOACH_CACHE_DIR": str(cache)}, export_engine, work / "x.mp3")
            exports[case].append(wall)
            log(f"startup:   {wall:.2f} s")
            if case == "cold":
                shutil.rmtree(cache, ignore_errors=True)

    levels = level_rows(work, engines) if only != "export" and source == ROOT else []
    med = {e: median([r["first_sound_s"] for r in firsts[e]]) for e in engines}
    warm_med = {e: median([r["first_sound_s"] for r in warm_firsts[e]]) for e in engines}
    export_med = {c: median(v) for c, v in exports.items()}
    per_round = [c / w for c, w in zip(exports["cold"], exports["warm"])]
    res = {
        "source": str(source),
        "runs": args.startup_runs,
        "engines": engines,
        "firsts": firsts,
        "warm_firsts": warm_firsts,
        "first_median_s": med,
        "warm_first_median_s": warm_med,
        "levels": levels,
        "export_engine": export_engine,
        "exports": exports,
        "export_median_s": export_med,
        "export_ratio": export_med["cold"] / export_med["warm"],
        "export_per_round": per_round,
    }
    targets = {"system": T_FIRST_SYSTEM_S, "piper": T_FIRST_PIPER_S}
    res["met"] = {e: med[e] <= targets[e] for e in engines}
    res["met"]["export"] = res["export_ratio"] <= T_COLD_EXPORT_RATIO
    res["noise"] = noise.done()
    return res


def summary(res: dict) -> str:
    if "skipped" in res:
        return f"startup: skipped: {res['skipped']}"
    parts = [
        f"{e} {res['first_median_s'][e] * 1000:.0f} ms (warm {res['warm_first_median_s'][e] * 1000:.0f} ms; "
        f"{'met' if res['met'][e] else 'MISSED'})"
        for e in res["engines"]
    ]
    m = res["export_median_s"]
    return (
        f"startup: first sound on a cold cache, median of {res['runs']}: {', '.join(parts)}; "
        f"export {PROGRAM} ({res['export_engine']}) cold {m['cold']:.2f} s / warm {m['warm']:.2f} s = "
        f"{res['export_ratio']:.2f}x ({'met' if res['met']['export'] else 'MISSED'})"
    )


def md_startup(res: dict, command: str, when: str) -> str:
    if "skipped" in res:
        return f"Skipped: {res['skipped']}.\n"
    runs = res["runs"]
    lines = [
        f"Command: `{command}` ({when}). {noise_text(res['noise'])}.",
        "",
        f"First sound: `voicecoach play {PROGRAM} --engine ENGINE --plain` started as a user starts it (a fresh "
        "process; stdin a terminal, so keys are on and the first words are the keys hint), playing to a private "
        "PulseAudio null sink whose monitor is read through `parec` (5 ms fragments) and timestamped as it "
        "arrives. The time is from just before the process is started to the first non-silent sample of the "
        "recording: it includes the interpreter's start, imports, loading the voice, the first synthesis, "
        f"opening the device and the output latency. Cold: an empty clip cache; warm: every clip cached. "
        f"{runs} runs each, the engines interleaved.",
        "",
        "| engine | cold cache: median | runs | warm cache: median | target (cold) | met |",
        "| --- | ---: | --- | ---: | ---: | --- |",
    ]
    targets = {"system": T_FIRST_SYSTEM_S, "piper": T_FIRST_PIPER_S}
    for e in res["engines"]:
        cold = ", ".join(f"{r['first_sound_s'] * 1000:.0f}" for r in res["firsts"][e])
        lines.append(
            f"| {e} | **{res['first_median_s'][e] * 1000:.0f} ms** | {cold} ms | "
            f"{res['warm_first_median_s'][e] * 1000:.0f} ms | <= {targets[e] * 1000:.0f} ms | "
            f"{'yes' if res['met'][e] else '**no**'} |"
        )
    if res.get("levels"):
        lines += [
            "",
            "Level: where a cold `play` cannot use the session's measured level (not cached yet), it starts at one "
            "estimated from the keys hint and the introduction (their loudness, numpy only; the peak taken as full "
            "scale) and keeps it. Against the level an export measures (`session_gain`, -16 LUFS, peak ceiling "
            "-1 dBFS):",
            "",
            "| engine | program | measured gain | estimated gain | estimate - measured |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {r['engine']} | {r['program']} | {r['measured_db']:+.2f} dB | {r['estimated_db']:+.2f} dB | "
            f"{r['diff_db']:+.2f} dB |"
            for r in res["levels"]
        ]
    m, ex = res["export_median_s"], res["exports"]
    per = ", ".join(f"{r:.2f}" for r in res["export_per_round"])
    lines += [
        "",
        f"Export: `voicecoach export {PROGRAM} -o x.mp3 --engine {res['export_engine']}`, wall time of the whole "
        f"process, {runs} runs each, cold (empty clip cache) and warm (the clips and level of an earlier export) "
        "alternating.",
        "",
        "| case | median | runs |",
        "| --- | ---: | --- |",
        f"| cold | **{m['cold']:.2f} s** | {', '.join(f'{x:.2f}' for x in ex['cold'])} s |",
        f"| warm | **{m['warm']:.2f} s** | {', '.join(f'{x:.2f}' for x in ex['warm'])} s |",
        "",
        f"Cold / warm: **{res['export_ratio']:.2f}x** (ratio of medians; per round {per}); target at most "
        f"{T_COLD_EXPORT_RATIO:g}x: {'met' if res['met']['export'] else '**missed**'}.",
    ]
    return "\n".join(lines) + "\n"
