"""Export memory: peak RSS of warm exports of sessions of growing length, and with a three-hour playlist."""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.common import (
    MUSIC_FILE_S,
    MUSIC_FILES,
    Noise,
    log,
    make_music,
    noise_text,
    run_child,
    warm_cache,
    warm_misses,
)

T_RSS_MB = 150.0
T_RSS_FLAT_MB = 5.0
MEMORY_MINUTES = (15, 45, 120)
# With music: a session that hears a quarter of the playlist, and one longer than it (every file opened, then a loop).
MUSIC_MINUTES = (45, 190)


def bench_memory(args, work: Path) -> dict:
    if shutil.which("ffmpeg") is None:
        return {"skipped": "ffmpeg not found (sudo apt-get install ffmpeg)"}
    noise = Noise()
    cache = work / "memory-warm-cache"

    def measure(minutes: int, music: Path | None = None) -> dict:
        """One warm export of a ``minutes``-long session (with ``music`` under it) in a fresh process."""
        spec = {"minutes": minutes}
        log(f"memory: warming the clip cache for a {minutes}-minute session")
        session = warm_cache(cache, spec)
        session.pop("prepared")
        with_music = f" with {MUSIC_FILES} music files" if music else ""
        log(f"memory: {minutes}-minute warm export{with_music} in a fresh process")
        out = work / "mem.mp3"
        child = {"plan": spec, "out": str(out), "watch_children": True, **({"music": [str(music)]} if music else {})}
        r = run_child("export", child, env={"VOICECOACH_CACHE_DIR": str(cache)})
        out.unlink(missing_ok=True)
        return {"minutes": minutes, "session": session, **r}

    rows = [measure(minutes) for minutes in args.memory_minutes]
    peaks = [r["maxrss_mb"] for r in rows]
    songs = make_music(work / "music")
    music_rows = [measure(minutes, songs) for minutes in MUSIC_MINUTES]
    music_peak = max(r["maxrss_mb"] for r in music_rows)
    res = {"rows": rows, "spread_mb": max(peaks) - min(peaks), "max_mb": max(peaks), "music_rows": music_rows}
    # The size target is compared in MB (10^6 bytes), the stricter reading.
    res["met"] = {
        "under": res["max_mb"] * 2**20 / 1e6 < T_RSS_MB,
        "flat": res["spread_mb"] <= T_RSS_FLAT_MB,
        "music": music_peak * 2**20 / 1e6 < T_RSS_MB,
    }
    res["music_max_mb"] = music_peak
    res["noise"] = noise.done()
    return res


def md_memory(res: dict, command: str, when: str) -> str:
    if "skipped" in res:
        return f"Skipped: {res['skipped']}.\n"
    lines = [
        f"Command: `{command}` ({when}). {noise_text(res['noise'])}.",
        "",
        "One fresh process per size: warm clip cache, `session.prepare` then `export.export` to MP3. "
        "Sessions are synthetic (the built-in exercises cycled to the target length, `--level low`). "
        "Peak RSS is `ru_maxrss` of that process (`resource.getrusage`, cross-checked with `VmHWM`); "
        "the steps are its RSS (`/proc/self/statm`) after each import and after `prepare`. "
        "All in MiB. ffmpeg runs in its own process, shown apart (its `VmHWM`, polled). "
        "The child is started through a forking `sh`: a process spawned straight from the "
        "benchmark would inherit the benchmark's own high-water RSS in its `ru_maxrss`.",
        "",
        "| session | exercises | distinct phrases | clip samples (read lazily, not held) | RSS: +numpy / +voicecoach "
        "| RSS after prepare | scipy loaded | **peak RSS** | ffmpeg peak RSS | prepare + export |",
        "| --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for r in res["rows"]:
        s = r["session"]
        ff = "n/a" if r.get("ffmpeg_vmhwm_mb") is None else f"{r['ffmpeg_vmhwm_mb']:.0f} MiB"
        lines.append(
            f"| {r['minutes']} min target, {r['duration_s'] / 60:.1f} min real | {s['exercises']} | {r['phrases']} | "
            f"{r['clips_mb']:.1f} MiB | {r['rss_numpy_mb']:.0f} / {r['rss_imports_mb']:.0f} MiB | "
            f"{r['rss_prepared_mb']:.0f} MiB | {'yes' if r.get('scipy_loaded') else 'no'} | **{r['maxrss_mb']:.1f} MiB** (VmHWM {r['vmhwm_mb']:.1f}) | {ff} | "
            f"{r['total_s']:.1f} s |"
        )
    m = res["met"]
    lines += [
        "",
        "| target | result | met |",
        "| --- | --- | --- |",
        f"| peak RSS < {T_RSS_MB:.0f} MB | {res['max_mb']:.1f} MiB = {res['max_mb'] * 1.048576:.1f} MB (largest) | {'yes' if m['under'] else '**no**'} |",
        f"| flat from {res['rows'][0]['minutes']} to {res['rows'][-1]['minutes']} min (within {T_RSS_FLAT_MB:.0f} MB) "
        f"| spread {res['spread_mb']:.1f} MiB | {'yes' if m['flat'] else '**no**'} |",
        warm_misses(res["rows"]),
    ]
    if res.get("music_rows"):
        lines += [
            "",
            f"With music (`--music` on a folder of {MUSIC_FILES} MP3 files of {MUSIC_FILE_S / 60:g} minutes, "
            "stereo 128 kb/s: a three-hour playlist; the file is then stereo). The longer session hears every "
            "file, then loops to the first. The ffmpeg column is the largest ffmpeg child seen (the encoder, or "
            "one of the music's decoders, one or two of which run at a time).",
            "",
            "| session | music files (length) | **peak RSS** | ffmpeg peak RSS | prepare + export |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for r in res["music_rows"]:
            ff = "n/a" if r.get("ffmpeg_vmhwm_mb") is None else f"{r['ffmpeg_vmhwm_mb']:.0f} MiB"
            lines.append(
                f"| {r['minutes']} min target, {r['duration_s'] / 60:.1f} min real | {r['music_tracks']} "
                f"({r['music_s'] / 3600:.1f} h) | **{r['maxrss_mb']:.1f} MiB** (VmHWM {r['vmhwm_mb']:.1f}) | {ff} "
                f"| {r['total_s']:.1f} s |"
            )
        mb = res["music_max_mb"] * 1.048576
        lines += [
            "",
            "| target | result | met |",
            "| --- | --- | --- |",
            f"| peak RSS < {T_RSS_MB:.0f} MB with a three-hour playlist | {res['music_max_mb']:.1f} MiB = {mb:.1f} MB "
            f"| {'yes' if res['met']['music'] else '**no**'} |",
        ]
    return "\n".join(lines) + "\n"
