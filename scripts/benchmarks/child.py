"""The measured process of scripts/bench (was scripts/bench_lib.py), and the plans both sides use.

Kept apart from the rest of the benchmarks so the measured process imports
nothing but the standard library's basics and voicecoach: its memory is
voicecoach's. Run as ``python scripts/benchmarks/child.py KIND SPEC_JSON`` by
:func:`benchmarks.common.run_child` (KIND: export or live); it writes its
result as JSON to ``SPEC["result"]``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if __name__ == "__main__":
    # Run as a script, this folder is sys.path[0], where piper.py would shadow the piper package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RATE = 44100


# --- plans ---------------------------------------------------------------------


def make_plan(spec: dict):
    """A Plan and Options from ``{"builtin": name, "level": l}`` or ``{"minutes": n}``."""
    from voicecoach.core.schedule import Options
    from voicecoach.programs import load_builtin

    if "builtin" in spec:
        return load_builtin(spec["builtin"]), Options(level=spec.get("level", "low"))
    return synth_plan(spec["minutes"]), Options(level="low")


def synth_plan(minutes: float):
    """A plan of about ``minutes`` (estimated speech lengths): the built-in exercises, cycled.

    Exercises are taken in order from inner-knee then medial-knee, round and
    round, until the scheduled session is as close as it gets to ``minutes``.
    """
    from voicecoach.core.plan import Plan
    from voicecoach.core.schedule import Options, build_timeline
    from voicecoach.programs import load_builtin

    a, b = load_builtin("inner-knee"), load_builtin("medial-knee")
    pool = a.exercises + b.exercises

    def plan_of(n: int) -> Plan:
        return Plan(
            title=f"Benchmark session, {minutes:g} minutes",
            exercises=tuple(pool[i % len(pool)] for i in range(n)),
            description="Built-in exercises repeated to a target length.",
            safety=a.safety,
            equipment=tuple(dict.fromkeys(a.equipment + b.equipment)),
            source=f"bench-{minutes:g}min",
        )

    best, best_err = None, float("inf")
    for n in range(1, 500):
        plan = plan_of(n)
        got = build_timeline(plan, Options(level="low")).duration_s / 60
        err = abs(got - minutes)
        if err < best_err:
            best, best_err = plan, err
        if got >= minutes:
            break
    return best


def plan_label(spec: dict) -> str:
    if "builtin" in spec:
        return f"built-in `{spec['builtin']}` at `--level {spec.get('level', 'low')}`"
    return f"synthetic ({spec['minutes']:g} min target: built-in exercises cycled, `--level low`)"


# --- the measured process ------------------------------------------------------------


def _rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _vmhwm_mb(pid: int | str = "self") -> float | None:
    """Peak RSS of a process's current memory map (``VmHWM``), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class ChildPeak:
    """Polls the VmHWM of this process's child processes (export's ffmpeg).

    Their ru_maxrss is useless here: spawned with vfork from this process,
    they start with this process's high-water RSS (see run_child).
    """

    def __init__(self, interval_s: float = 0.1) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), daemon=True)
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            for task in Path("/proc/self/task").iterdir():
                try:
                    pids = (task / "children").read_text().split()
                except OSError:
                    continue
                for pid in pids:
                    try:  # not yet exec'd (still sharing this process's memory): skip
                        if Path(f"/proc/{pid}/comm").read_text().strip() != "ffmpeg":
                            continue
                    except OSError:
                        continue
                    self.peak = max(self.peak, _vmhwm_mb(pid) or 0.0)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def _cpu_s() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def child_export(spec: dict) -> dict:
    """prepare + export to MP3, timed from the call to prepare; memory at each step."""
    r: dict = {"rss_start_mb": _rss_now_mb()}
    import numpy  # noqa: F401

    r["rss_numpy_mb"] = _rss_now_mb()
    from voicecoach.export.encode import export
    from voicecoach.render.prepare import prepare, session_gain
    from voicecoach.speech.speaker import SpeechSettings

    plan, options = make_plan(spec["plan"])
    r["rss_imports_mb"] = _rss_now_mb()
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    children = ChildPeak() if spec.get("watch_children") else None

    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    prepared = prepare(plan, options, SpeechSettings())
    t1 = time.perf_counter()
    r["rss_prepared_mb"] = _rss_now_mb()
    r["maxrss_prepared_mb"] = _maxrss_mb()
    # As `voicecoach export` does: the session's level (measured once, then cached
    # beside the clips; scipy is imported only to measure), then the encode.
    gain = session_gain(prepared)
    t_level = time.perf_counter()
    r["scipy_loaded"] = "scipy" in sys.modules
    bed = None
    if spec.get("music"):  # as `voicecoach export --music`: the files probed, the bed laid under the cues
        from voicecoach.render.bed import for_session
        from voicecoach.render.music import playlist

        tracks = playlist(spec["music"])
        r["music_tracks"] = len(tracks)
        r["music_s"] = sum(t.frames for t in tracks) / RATE
        bed = for_session(prepared.timeline, tracks, target_lufs=-16.0)
    writer = export
    if spec.get("split"):
        from voicecoach.export.split import export_split as writer
    result = writer(prepared.timeline, prepared.clips, spec["out"], gain=gain, bed=bed)
    t2 = time.perf_counter()
    ffmpeg_peak = children.stop() if children else None
    if profiler:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
    r.update(
        prepare_s=t1 - t0,
        export_s=t2 - t1,
        total_s=t2 - t0,
        cpu_s=_cpu_s() - cpu0,
        measure_s=t_level - t1,
        encode_s=t2 - t_level,
        synthesized=prepared.speaker.synthesized,
        phrases=len(prepared.clips),
        clips_mb=sum(c.samples.nbytes for c in prepared.clips.values()) / 2**20,
        duration_s=result.duration_s,
        gain_db=result.gain_db,
        voice=prepared.speaker.describe(),
        maxrss_mb=_maxrss_mb(),
        vmhwm_mb=_vmhwm_mb(),
        ffmpeg_vmhwm_mb=ffmpeg_peak,
        out_bytes=sum(p.stat().st_size for p in result.path.iterdir()) if result.files else result.path.stat().st_size,
    )
    return r


def child_live(spec: dict) -> dict:
    """Prepare (warm cache) and play the first ``seconds`` of the live program.

    ``first`` mode times prepare -> first block into the Player -> first frames
    handed to the device, nothing pre-imported, and stops soon after. ``play``
    mode imports sounddevice and finds the device first, then measures the
    CPU time of the whole process over the wall time of ``Player.play``.
    """
    from time import perf_counter, process_time

    from voicecoach.live import devices
    from voicecoach.live.player import Player
    from voicecoach.render import mix
    from voicecoach.render.prepare import prepare
    from voicecoach.speech.speaker import SpeechSettings

    plan, options = make_plan(spec["plan"])
    first_mode = spec["mode"] == "first"
    if not first_mode:
        devices.import_sounddevice()
        devices.resolve_device(None)
    stamps: dict[str, float] = {}
    frames_wanted = int(round(spec["seconds"] * RATE))

    def blocks(prepared, gain):
        left = frames_wanted
        for block in mix.blocks(prepared.timeline, prepared.clips, gain=gain):
            stamps.setdefault("first_block", perf_counter())
            if block.shape[0] >= left:
                yield block[:left]
                return
            left -= block.shape[0]
            yield block

    player = Player(latency=spec["latency"]) if "latency" in spec else Player()
    t0 = perf_counter()
    prepared = prepare(plan, options, SpeechSettings())
    t_prepared = perf_counter()
    gain = 1.0
    had_loudness = "voicecoach.render.loudness" in sys.modules
    if spec.get("gain"):  # the session's loudness gain, as the live coach is to apply it
        from voicecoach.render.prepare import session_gain

        gain = session_gain(prepared)
    t_gain = perf_counter()
    watcher = None
    if first_mode:

        def watch() -> None:
            while "first_frames" not in stamps and perf_counter() - t0 < 20:
                if player.position_s > 0:
                    stamps["first_frames"] = perf_counter()
                    time.sleep(0.3)  # a little sound, then stop
                    player.stop()
                    return
                time.sleep(0.0005)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
    gaps: dict[str, list[float]] = {"underruns": [], "xruns": []}  # when each gap happened, s after play()
    watching = threading.Event()
    w0, c0 = perf_counter(), process_time()
    if spec.get("watch_gaps"):

        def watch_gaps() -> None:
            seen = {"underruns": 0, "xruns": 0}
            while not watching.is_set():
                run = player._run
                if run is not None:
                    for kind in seen:
                        now = getattr(run, kind)
                        gaps[kind] += [perf_counter() - w0] * (now - seen[kind])
                        seen[kind] = now
                time.sleep(0.005)

        threading.Thread(target=watch_gaps, daemon=True).start()
    res = player.play(blocks(prepared, gain))
    w1, c1 = perf_counter(), process_time()
    watching.set()
    if watcher:
        watcher.join(5)
    return {
        "prepare_s": t_prepared - t0,
        "gain_s": t_gain - t_prepared,
        "gain_imported_loudness": not had_loudness and "voicecoach.render.loudness" in sys.modules,
        "first_block_s": stamps.get("first_block", float("nan")) - t0,
        "first_frames_s": stamps.get("first_frames", float("nan")) - t0,
        "play_wall_s": w1 - w0,
        "play_cpu_s": c1 - c0,
        "frames_played": res.frames_played,
        "underruns": res.underruns,
        "xruns": res.xruns,
        "latency_s": res.latency_s,
        "stopped_early": res.stopped_early,
        "synthesized": prepared.speaker.synthesized,
        "gap_times": gaps,
    }


def child_main(kind: str, spec_json: str) -> None:
    spec = json.loads(spec_json)
    result = {"export": child_export, "live": child_live}[kind](spec)
    Path(spec["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    child_main(sys.argv[1], sys.argv[2])
