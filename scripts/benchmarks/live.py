"""Live playback: onset accuracy, CPU and first-sound latency, on a private PulseAudio server."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.common import RATE, Noise, log, median, noise_text, plan_label, run_child, warm_cache, warm_misses

from voicecoach.live.player import PREFILL_BLOCKS

T_ONSET_P95_MS = 10.0
T_CPU_PCT = 5.0
T_FIRST_SOUND_S = 1.0
LIVE_PROGRAM, LIVE_LEVEL = "medial-knee", "low"
SILENCE_BEFORE_S = 0.2  # a cue onset counts for the live benchmark only after this much silence


def _live_unavailable() -> str | None:
    try:
        from helpers.pulse import missing_tools
    except ImportError as exc:
        return f"tests/helpers/pulse.py cannot be imported: {exc}"
    missing = missing_tools()
    if missing:
        return (
            f"PulseAudio is not installed ({', '.join(missing)} not found): "
            "sudo apt-get install pulseaudio pulseaudio-utils (or run ./scripts/test once)"
        )
    from voicecoach.errors import MissingDependencyError
    from voicecoach.live import devices

    try:
        devices.import_sounddevice()
    except MissingDependencyError as exc:
        return exc.render().replace("\n", " ")
    return None


def _has_session_gain() -> bool:
    """Whether this voicecoach has ``prepare.session_gain`` (the live loudness gain, newer than this script)."""
    try:
        from voicecoach.render import prepare
    except ImportError:
        return False
    return callable(getattr(prepare, "session_gain", None))


def reference_onsets(prepared, seconds: float) -> tuple[list[float], list[float], int]:
    """Cue starts after >= 200 ms of silence (per the timeline), where the detector finds them in an ideal render.

    Returns (detected onset in the ideal render, cue start) pairs as two lists,
    and how many qualifying cue starts had no detected onset.
    """
    import numpy as np
    from helpers.pulse import find_onsets

    from voicecoach.render import mix
    from voicecoach.render.earcons import earcon

    tl = prepared.timeline
    end = int(round(seconds * RATE))
    pad_s = 0.5  # silence before the session, as in the recording, so a cue at 0 s is an onset too
    pad = int(round(pad_s * RATE))
    ideal = np.concatenate([np.zeros(pad, np.float32), *mix.blocks(tl, prepared.clips)])[: pad + end]
    spans = []  # every sound's [start, end) in frames
    for cue in tl.cues:
        start = int(round(cue.start_s * RATE))
        if cue.text:
            spans.append((start, start + prepared.clips[cue.text].frames))
        if cue.earcon:
            spans.append((start, start + earcon(cue.earcon).frames))
    gap = int(round(SILENCE_BEFORE_S * RATE))
    starts = sorted({s for s, _ in spans if s < end - RATE // 2})
    qualifying = [s for s in starts if not any(a < s and b > s - gap for a, b in spans)]
    detected = [d - pad_s for d in find_onsets(ideal, min_gap_s=SILENCE_BEFORE_S)]
    ref, cue_s, missing = [], [], 0
    for s in qualifying:
        t = s / RATE
        hit = [d for d in detected if t - 0.001 <= d <= t + 0.05]
        if hit:
            ref.append(hit[0])
            cue_s.append(t)
        else:
            missing += 1
    return ref, cue_s, missing


def match_onsets(recorded: list[float], ref: list[float], window_s: float = 0.05):
    """Pair each reference onset with a recorded one after a coarse alignment; (diffs, unmatched)."""
    import numpy as np

    best = None
    for cand in recorded[:8]:  # the first reference onset is one of the first recorded ones
        off = cand - ref[0]
        n = sum(any(abs(d - r - off) < 0.02 for d in recorded) for r in ref)
        if best is None or n > best[0]:
            best = (n, off)
    if best is None:
        return np.array([]), len(ref)
    off = best[1]
    diffs, unmatched = [], 0
    rec = np.asarray(recorded)
    for r in ref:
        j = int(np.argmin(np.abs(rec - r - off)))
        if abs(rec[j] - r - off) <= window_s:
            diffs.append(rec[j] - r)
        else:
            unmatched += 1
    return np.asarray(diffs), unmatched


def warm_live_session(work: Path, name: str) -> tuple[dict, Path, dict]:
    """The live benchmarks' session (plan spec, its clip cache, the warmed session), synthesized once."""
    plan_spec = {"builtin": LIVE_PROGRAM, "level": LIVE_LEVEL}
    cache = work / f"{name}-warm-cache"
    log(f"{name}: warming the clip cache for {LIVE_PROGRAM} --level {LIVE_LEVEL}")
    return plan_spec, cache, warm_cache(cache, plan_spec)


def bench_live(args, work: Path) -> dict:
    why = _live_unavailable()
    if why:
        log(f"live: skipped: {why}")
        return {"skipped": why}
    import numpy as np
    from helpers.pulse import PulseError, PulseServer, find_onsets

    noise = Noise()
    plan_spec, cache, session = warm_live_session(work, "live")
    prepared = session.pop("prepared")
    ref, cue_s, ref_missing = reference_onsets(prepared, args.live_seconds)
    bias_ms = 1000 * (np.asarray(ref) - np.asarray(cue_s))
    del prepared

    server = PulseServer()
    try:
        server.start()
    except PulseError as exc:
        server.stop()
        return {"skipped": f"cannot start a private PulseAudio server: {exc}"}
    env = {**server.client_env(), "VOICECOACH_CACHE_DIR": str(cache)}
    plays, firsts = [], []
    gain_firsts: dict[bool, list] = {False: [], True: []}
    try:
        for i in range(args.live_runs):
            log(f"live: run {i + 1}/{args.live_runs}: playing {args.live_seconds:g} s while recording the monitor")
            rec = server.start_recording()
            time.sleep(0.3)
            try:
                r = run_child("live", {"plan": plan_spec, "mode": "play", "seconds": args.live_seconds}, env=env)
            finally:
                time.sleep(0.3)
                samples = rec.stop()
            recorded = find_onsets(samples, min_gap_s=SILENCE_BEFORE_S)
            diffs, unmatched = match_onsets(recorded, ref)
            offset = float(np.median(diffs)) if diffs.size else float("nan")
            errors_ms = (diffs - offset) * 1000
            r.update(
                errors_ms=errors_ms.tolist(),
                offset_ms=offset * 1000,
                unmatched=unmatched,
                recorded_onsets=len(recorded),
                cpu_pct=100 * r["play_cpu_s"] / r["play_wall_s"],
            )
            plays.append(r)
        for i in range(args.first_runs):
            log(f"live: first-sound latency run {i + 1}/{args.first_runs}")
            firsts.append(run_child("live", {"plan": plan_spec, "mode": "first", "seconds": 5.0}, env=env))
        if _has_session_gain():
            for cached in (False, True):
                for i in range(3):
                    log(
                        f"live: first-sound latency with session_gain, level {'cached' if cached else 'not cached'}, "
                        f"run {i + 1}/3"
                    )
                    if not cached:
                        for level in cache.glob("*.level"):
                            level.unlink()
                    gain_firsts[cached].append(
                        run_child("live", {"plan": plan_spec, "mode": "first", "seconds": 5.0, "gain": True}, env=env)
                    )
    finally:
        server.stop()

    pooled = np.abs(np.concatenate([np.asarray(p["errors_ms"]) for p in plays])) if plays else np.array([])

    def stats(a) -> dict:
        a = np.abs(np.asarray(a))
        if a.size == 0:
            return {"n": 0, "p50": float("nan"), "p95": float("nan"), "max": float("nan")}
        return {
            "n": int(a.size),
            "p50": float(np.percentile(a, 50)),
            "p95": float(np.percentile(a, 95)),
            "max": float(a.max()),
        }

    res = {
        "session": {**session, "plan": plan_label(plan_spec)},
        "seconds": args.live_seconds,
        "reference": {
            "n": len(ref),
            "missing": ref_missing,
            "bias_ms_median": float(np.median(bias_ms)) if len(ref) else None,
            "bias_ms_max": float(np.max(np.abs(bias_ms))) if len(ref) else None,
        },
        "plays": plays,
        "firsts": firsts,
        "pooled": stats(pooled),
        "per_run": [stats(p["errors_ms"]) for p in plays],
        "cpu_pct_median": median([p["cpu_pct"] for p in plays]),
        "first_block_s_median": median([f["first_block_s"] for f in firsts]),
        "first_frames_s_median": median([f["first_frames_s"] for f in firsts]),
        "gain_firsts": {"uncached": gain_firsts[False], "cached": gain_firsts[True]},
    }
    res["met"] = {
        "onsets": res["pooled"]["p95"] <= T_ONSET_P95_MS,
        "cpu": res["cpu_pct_median"] <= T_CPU_PCT,
        "first": res["first_block_s_median"] < T_FIRST_SOUND_S,
    }
    res["noise"] = noise.done()
    return res


def md_live(res: dict, command: str, when: str) -> str:
    if "skipped" in res:
        return f"Skipped: {res['skipped']}.\n"
    s, ref = res["session"], res["reference"]
    lines = [
        f"Command: `{command}` ({when}). {noise_text(res['noise'])}.",
        "",
        f"Session: the first {res['seconds']:g} s of {s['plan']} ({s['voice']}), real speech from "
        "`prepare.prepare` on a warm clip cache, `mix.blocks` into `voicecoach.live.player.Player` "
        "(default device: PortAudio -> ALSA `pulse` plugin -> a private PulseAudio null sink, "
        "`tests/helpers/pulse.py`), its monitor recorded with `parec`. Each run is a fresh process.",
        "",
        f"Onsets: the cue starts that follow at least {SILENCE_BEFORE_S * 1000:.0f} ms of silence in the "
        f"timeline ({ref['n']} in the first {res['seconds']:g} s; {ref['missing']} without a detectable onset) "
        "are located with `pulse.find_onsets` in an ideal render of the same mix (they sit "
        f"{ref['bias_ms_median']:.2f} ms after the cue start, at most {ref['bias_ms_max']:.2f} ms: the detector's "
        "threshold crossing), and paired with the onsets found in the recording. The error is the "
        "recorded-minus-planned time less the run's median (the offset removed: from the start of the "
        "recording to the start of playback, which includes the child process's start, `prepare` and the "
        "output latency). The null sink is clocked by the system timer, so this measures the software "
        "path (mixer, player, PortAudio, ALSA plugin, PulseAudio), not a sound card's clock.",
        "",
        "| run | cues matched | p50 error | p95 error | max error | offset removed | CPU of the playing process "
        "| underruns / xruns |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for i, (p, st) in enumerate(zip(res["plays"], res["per_run"]), 1):
        lines.append(
            f"| {i} | {st['n']} of {ref['n']} | {st['p50']:.2f} ms | {st['p95']:.2f} ms | {st['max']:.2f} ms | "
            f"{p['offset_ms']:.1f} ms | {p['cpu_pct']:.2f} % | {p['underruns']} / {p['xruns']} |"
        )
    po = res["pooled"]
    lines.append(
        f"| all runs | {po['n']} | **{po['p50']:.2f} ms** | **{po['p95']:.2f} ms** | **{po['max']:.2f} ms** | | "
        f"**{res['cpu_pct_median']:.2f} %** (median) | |"
    )
    fb = ", ".join(f"{f['first_block_s'] * 1000:.0f}" for f in res["firsts"])
    ff = ", ".join(f"{f['first_frames_s'] * 1000:.0f}" for f in res["firsts"])
    prep = median([f["prepare_s"] for f in res["firsts"]])
    lines += [
        "",
        "CPU is `time.process_time()` (all threads of the process: producer/mixer, PortAudio callback, "
        "the ALSA pulse plugin) over the wall time of `Player.play`, in % of one core.",
        "",
        f"First sound on a warm cache ({len(res['firsts'])} fresh processes, nothing pre-imported): from calling "
        f"`prepare` to the first block reaching the player (its producer pulling the first mixed block) "
        f"**{res['first_block_s_median'] * 1000:.0f} ms** median (runs: {fb} ms; `prepare` alone {prep * 1000:.0f} ms); "
        f"to the first frames handed to the device (after the {PREFILL_BLOCKS}-block prefill and opening the stream) "
        f"{res['first_frames_s_median'] * 1000:.0f} ms median (runs: {ff} ms).",
    ]
    gf = res.get("gain_firsts") or {}
    if gf.get("uncached"):

        def med_ms(rows: list, key: str) -> str:
            return f"{median([r[key] for r in rows]) * 1000:.0f} ms"

        def imported(rows: list) -> str:
            n = sum(bool(r.get("gain_imported_loudness")) for r in rows)
            return f"it imported `voicecoach.render.loudness` (scipy.signal) in {n} of {len(rows)} runs"

        lines += [
            "",
            "With the session's loudness gain (`prepare.session_gain`, which `voicecoach play` applies so "
            "that live sounds like the export; the same path plus that call; 3 runs each): with the level not "
            f"yet cached beside the clips, first block **{med_ms(gf['uncached'], 'first_block_s')}**, of which "
            f"`session_gain` {med_ms(gf['uncached'], 'gain_s')} (a loudness pass over this "
            f"{s['duration_s'] / 60:.0f}-minute session, which grows with its length; {imported(gf['uncached'])}); "
            f"with the level cached, first block **{med_ms(gf['cached'], 'first_block_s')}**, of which "
            f"`session_gain` {med_ms(gf['cached'], 'gain_s')} ({imported(gf['cached'])}).",
        ]
    lines += [
        "",
        "| target | result | met |",
        "| --- | --- | --- |",
        f"| onset error p95 <= {T_ONSET_P95_MS:.0f} ms | {po['p95']:.2f} ms (p50 {po['p50']:.2f}, max {po['max']:.2f}) "
        f"| {'yes' if res['met']['onsets'] else '**no**'} |",
        f"| CPU <= {T_CPU_PCT:.0f} % of a core | {res['cpu_pct_median']:.2f} % | {'yes' if res['met']['cpu'] else '**no**'} |",
        f"| first sound < {T_FIRST_SOUND_S:.0f} s (warm cache) | {res['first_block_s_median'] * 1000:.0f} ms "
        f"| {'yes' if res['met']['first'] else '**no**'} |",
        warm_misses(res["plays"] + res["firsts"]),
    ]
    return "\n".join(lines) + "\n"
