"""Export speed: a warm and a cold MP3 export against bare ffmpeg encoding the same PCM."""

from __future__ import annotations

import io
import pstats
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    MUSIC_FILE_S,
    MUSIC_FILES,
    RATE,
    Noise,
    _met,
    log,
    make_music,
    median,
    noise_text,
    plan_label,
    run_child,
    verdict,
    warm_cache,
    warm_misses,
)

T_WARM_RATIO = 1.3
T_COLD_RATIO = 2.0
T_MUSIC_RATIO = 1.5  # warm, with --music, against the same warm export without it
EXPORT_PROGRAM, EXPORT_LEVEL = "inner-knee", "mid"  # ~45 minutes with the default espeak-ng voice


def ffmpeg_bare_cmd(src: str, out: str) -> list[str]:
    return [
        "ffmpeg",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "s16le",
        "-ar",
        str(RATE),
        "-ac",
        "1",
        "-i",
        src,
        "-c:a",
        "libmp3lame",
        "-b:a",
        "96k",
        out,
    ]


def time_ffmpeg(raw: Path, out: Path, pipe: bool) -> dict:
    """Encode ``raw`` with ffmpeg alone: from the file, or fed through its stdin."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    if pipe:
        proc = subprocess.Popen(ffmpeg_bare_cmd("pipe:0", str(out)), stdin=subprocess.PIPE)
        with open(raw, "rb") as f:
            while chunk := f.read(1 << 17):  # 64 Ki frames, as export writes
                proc.stdin.write(chunk)
        proc.stdin.close()
        rc = proc.wait()
    else:
        rc = subprocess.run(ffmpeg_bare_cmd(str(raw), str(out))).returncode
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        raise RuntimeError(f"bare ffmpeg failed with exit {rc}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"total_s": wall, "cpu_s": cpu, "out_bytes": out.stat().st_size}


def top_profile(path: str, n: int = 14) -> str:
    buf = io.StringIO()
    st = pstats.Stats(path, stream=buf)
    st.strip_dirs().sort_stats("tottime").print_stats(n)
    lines = buf.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    head = next((line.strip() for line in lines if "function calls" in line), "")
    return "\n".join([head, *lines[start:]]).rstrip()


def bench_export(args, work: Path) -> dict:
    if shutil.which("ffmpeg") is None:
        return {"skipped": "ffmpeg not found (sudo apt-get install ffmpeg)"}
    from voicecoach.render import loudness, mix
    from voicecoach.speech.clip import pcm16_bytes

    noise = Noise()
    plan_spec = {"builtin": EXPORT_PROGRAM, "level": EXPORT_LEVEL}
    warm = work / "export-warm-cache"
    log(f"export: warming the clip cache for {EXPORT_PROGRAM} --level {EXPORT_LEVEL}")
    session = warm_cache(warm, plan_spec)
    p = session.pop("prepared")
    minutes = session["duration_s"] / 60
    log(f"export: session is {minutes:.1f} min; rendering the mix to raw s16le (not timed)")
    frames = 1 << 16  # export's own block size
    gain = loudness.gain_for(mix.blocks(p.timeline, p.clips, block_frames=frames))
    raw = work / "session.s16le"
    with open(raw, "wb") as f:
        for block in mix.blocks(p.timeline, p.clips, gain=gain, block_frames=frames):
            f.write(pcm16_bytes(block))
    del p

    songs = make_music(work / "music")  # a three-hour playlist: the session hears its first quarter
    log(f"export: {MUSIC_FILES} music files of {MUSIC_FILE_S / 60:g} minutes in {songs}")
    cases: dict[str, list[dict]] = {
        "bare_file": [],
        "bare_pipe": [],
        "warm": [],
        "cold": [],
        "music": [],
        "music_new": [],
    }
    out = work / "out.mp3"
    for i in range(args.runs):
        order = list(cases)
        order = order[i % len(order) :] + order[: i % len(order)]  # rotate: no case always runs first
        for case in order:
            log(f"export: run {i + 1}/{args.runs}: {case}")
            if case.startswith("bare"):
                r = time_ffmpeg(raw, out, pipe=case == "bare_pipe")
            else:
                if case != "cold":
                    cache = warm
                else:
                    cache = Path(tempfile.mkdtemp(prefix="cold-cache-", dir=work))
                if case == "music_new":  # music never heard before: each track's loudness is measured
                    for known in warm.glob("*.lufs"):
                        known.unlink()
                spec = {"plan": plan_spec, "out": str(out), **({"music": [str(songs)]} if "music" in case else {})}
                r = run_child("export", spec, env={"VOICECOACH_CACHE_DIR": str(cache)})
                if case == "cold":
                    shutil.rmtree(cache, ignore_errors=True)
            out.unlink(missing_ok=True)
            cases[case].append(r)
    raw.unlink(missing_ok=True)

    med = {c: median([r["total_s"] for r in rs]) for c, rs in cases.items()}
    per_round = {
        c: [cases[c][i]["total_s"] / cases["bare_file"][i]["total_s"] for i in range(args.runs)]
        for c in ("warm", "cold", "bare_pipe")
    }
    for c in ("music", "music_new"):  # against the warm export without music of the same round
        per_round[c] = [cases[c][i]["total_s"] / cases["warm"][i]["total_s"] for i in range(args.runs)]
    res = {
        "session": {**session, "plan": plan_label(plan_spec), "minutes": minutes},
        "runs": args.runs,
        "cases": cases,
        "median_s": med,
        "per_round_ratio": per_round,
        "ratio": {
            "warm_bare": med["warm"] / med["bare_file"],
            "cold_bare": med["cold"] / med["bare_file"],
            "warm_pipe": med["warm"] / med["bare_pipe"],
            "cold_pipe": med["cold"] / med["bare_pipe"],
            "music_warm": med["music"] / med["warm"],
            "music_new_warm": med["music_new"] / med["warm"],
        },
    }
    res["paired"] = {c: median(per_round[c]) for c in ("warm", "cold", "music", "music_new")}
    res["met"] = {
        c: verdict(res["ratio"][f"{c}_bare"], res["paired"][c], t)
        for c, t in (("warm", T_WARM_RATIO), ("cold", T_COLD_RATIO))
    }
    res["met"]["music"] = verdict(res["ratio"]["music_warm"], res["paired"]["music"], T_MUSIC_RATIO)
    if args.profile or any(v != "yes" for v in res["met"].values()):
        which = (
            "music"
            if res["met"]["music"] != "yes"
            else "warm"
            if res["met"]["warm"] != "yes" or res["met"]["cold"] == "yes"
            else "cold"
        )
        log(f"export: profiling one {which}-cache run with cProfile (not counted in the medians)")
        prof = work / "export.prof"
        cache = warm if which != "cold" else Path(tempfile.mkdtemp(prefix="cold-cache-", dir=work))
        spec = {"plan": plan_spec, "out": str(out), "profile": str(prof)}
        r = run_child(
            "export",
            {**spec, **({"music": [str(songs)]} if which == "music" else {})},
            env={"VOICECOACH_CACHE_DIR": str(cache)},
        )
        out.unlink(missing_ok=True)
        res["profile"] = {"case": which, "total_s": r["total_s"], "top": top_profile(str(prof))}
    res["noise"] = noise.done()
    return res


def md_export(res: dict, command: str, when: str) -> str:
    if "skipped" in res:
        return f"Skipped: {res['skipped']}.\n"
    s, c, med, ratio = res["session"], res["cases"], res["median_s"], res["ratio"]
    real_s = s["duration_s"]

    def row(name: str, key: str, extra: str = "") -> str:
        runs = ", ".join(f"{r['total_s']:.2f}" for r in c[key])
        cpu = median([r["cpu_s"] for r in c[key]])
        return (
            f"| {name} | **{med[key]:.2f}** | {runs} | {cpu:.2f} | {real_s / med[key]:.0f}x | "
            f"{med[key] / med['bare_file']:.2f} | {med[key] / med['bare_pipe']:.2f} | {extra} |"
        )

    def rng(key: str) -> str:
        xs = res["per_round_ratio"][key]
        return f"{min(xs):.2f}-{max(xs):.2f}"

    warm, cold = c["warm"], c["cold"]
    lines = [
        f"Command: `{command}` ({when}). {noise_text(res['noise'])}.",
        "",
        f"Session: {s['plan']}, {s['minutes']:.1f} min ({s['exercises']} exercises, {s['cues']} cues, "
        f"{s['phrases']} distinct phrases), {s['voice']}; MP3, libmp3lame CBR 96 kb/s, mono 44.1 kHz. "
        f"Medians of {res['runs']} runs, the cases interleaved in each round.",
        "",
        "| case | median s | runs s | CPU s (median) | speed vs real time | / bare ffmpeg (file) "
        "| / bare ffmpeg (pipe) | notes |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
        row("bare ffmpeg, raw PCM file input", "bare_file", "the baseline"),
        row("bare ffmpeg, raw PCM through a pipe", "bare_pipe", "Python writes the same file to ffmpeg's stdin"),
        row(
            "voicecoach, warm clip cache",
            "warm",
            f"prepare {median([r['prepare_s'] for r in warm]):.2f} s + loudness pass "
            f"{median([r['measure_s'] for r in warm]):.2f} s + encode pass {median([r['encode_s'] for r in warm]):.2f} s",
        ),
        row(
            "voicecoach, cold clip cache",
            "cold",
            f"prepare (synthesis of {median([r['synthesized'] for r in cold]):.0f} phrases) "
            f"{median([r['prepare_s'] for r in cold]):.2f} s + export {median([r['export_s'] for r in cold]):.2f} s "
            f"(loudness pass {median([r['measure_s'] for r in cold]):.2f} s)",
        ),
        "",
        "voicecoach times run from the call to `session.prepare` to the return of `export.export` "
        "(the loudness pass, the encode pass through ffmpeg, the ID3 fix-up and the fsync), in a fresh "
        "process with its modules imported; whole-process wall times including interpreter start and "
        f"imports: warm {median([r['process_wall_s'] for r in warm]):.2f} s, cold "
        f"{median([r['process_wall_s'] for r in cold]):.2f} s. The bare ffmpeg times include ffmpeg's start. "
        "CPU is user+system time of the process and its ffmpeg child: with 2 cores the Python mixer and "
        "ffmpeg's encoder overlap, so CPU may exceed wall time.",
        "",
        "Targets, against the file-input baseline: the ratio of the medians, and the median of the "
        "per-round ratios (each voicecoach run over the bare ffmpeg run of the same round, which cancels "
        'slow drifts in the machine\'s speed). "Borderline" means the two disagree: the result is '
        "within the noise of the target.",
        "",
        "| target | ratio of medians | median of per-round ratios (range) | vs the pipe baseline | met |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| warm <= {T_WARM_RATIO}x bare ffmpeg | {ratio['warm_bare']:.2f}x | {res['paired']['warm']:.2f}x ({rng('warm')}) "
        f"| {ratio['warm_pipe']:.2f}x | {_met(res['met']['warm'])} |",
        f"| cold <= {T_COLD_RATIO}x bare ffmpeg | {ratio['cold_bare']:.2f}x | {res['paired']['cold']:.2f}x ({rng('cold')}) "
        f"| {ratio['cold_pipe']:.2f}x | {_met(res['met']['cold'])} |",
    ]

    def runs(key: str) -> str:
        return ", ".join(f"{r['total_s']:.2f}" for r in c[key])

    heard = s["duration_s"] / MUSIC_FILE_S
    lines += [
        "",
        f"With music: the same warm export with `--music` on a folder of {MUSIC_FILES} MP3 files of "
        f"{MUSIC_FILE_S / 60:g} minutes each (stereo, 128 kb/s, a tone over pink noise; the session hears about "
        f"{heard:.0f} of them), so the file is stereo. These cases ran in the same rounds as those above; "
        "the ratios are against the warm export without music of the same round.",
        "",
        "| case | median s | runs s | CPU s (median) | / warm without music (ratio of medians) "
        "| median of per-round ratios (range) |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
        f"| warm, with music (each track's loudness cached by an earlier export) | **{med['music']:.2f}** "
        f"| {runs('music')} | {median([r['cpu_s'] for r in c['music']]):.2f} | {ratio['music_warm']:.2f}x "
        f"| {res['paired']['music']:.2f}x ({rng('music')}) |",
        f"| warm, with music never heard before (each track's loudness measured) | **{med['music_new']:.2f}** "
        f"| {runs('music_new')} | {median([r['cpu_s'] for r in c['music_new']]):.2f} "
        f"| {ratio['music_new_warm']:.2f}x | {res['paired']['music_new']:.2f}x ({rng('music_new')}) |",
        "",
        "| target | ratio of medians | median of per-round ratios | met |",
        "| --- | ---: | ---: | --- |",
        f"| warm with music <= {T_MUSIC_RATIO}x warm without | {ratio['music_warm']:.2f}x "
        f"| {res['paired']['music']:.2f}x | {_met(res['met']['music'])} |",
    ]
    if warm_misses(c["warm"]):
        lines.append(warm_misses(c["warm"]))
    if "profile" in res:
        pr = res["profile"]
        lines += [
            "",
            f"cProfile of one {pr['case']}-cache run ({pr['total_s']:.2f} s under the profiler), "
            "top functions by own time (`write` is time blocked writing to ffmpeg's stdin, i.e. waiting for the "
            "encoder; `sosfilt` and `feed` are the loudness pass):",
            "",
            "```",
            pr["top"],
            "```",
        ]
    return "\n".join(lines) + "\n"
