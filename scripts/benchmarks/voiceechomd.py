"""The barge-in benchmark's text: its row in the voice table and its own section of docs/benchmarks.md."""

from __future__ import annotations

from benchmarks.voiceecho import ECHO_DB, ESTIMATE_ERROR_S, NOISE_DB, SUBSET, T_CPU_PCT, T_OVER, T_QUIET


def summary_row(e: dict | None) -> str:
    """The one row scripts/bench voice's table shows (the figures are in their own section)."""
    if not e or "skipped" in e:
        return f"| commands over the coach, echo canceller on | skipped: {(e or {}).get('skipped', 'not run')} | | |"
    o = e["over_duck"]
    pct = 100 * o["ok"] / max(1, o["n"])
    return (
        f"| commands obeyed while the coach speaks, echo canceller on ([barge-in](#barge-in)) | {o['ok']}/{o['n']} "
        f"({pct:.0f} %); false commands on the own session {e['own']['commands']} | >= 85 %; 0 | "
        f"{'met' if pct >= 100 * T_OVER and e['own']['commands'] == 0 else 'MISSED'} |"
    )


def md_echo(e: dict, command: str, when: str) -> str:
    """The Barge-in subsection of docs/benchmarks.md."""
    if "skipped" in e:
        return f"Skipped: {e['skipped']}."
    lines = [
        f"Command: `{command}` ({when}). Session: built-in inner-knee ({e['session_min']:.0f} min, {e['voice']}); "
        f"held-out speakers: {', '.join(e['speakers'])}. The coach at the microphone as loud as the speaker "
        f"({ECHO_DB:+.0f} dB), room noise {NOISE_DB:.0f} dB under the speaker, the echo {1000 * ESTIMATE_ERROR_S:.0f} ms "
        f"later than the latency estimate says. The simulated echo path is linear and never drifts, unlike real "
        f"loudspeakers.",
        "",
        "| canceller (the latency estimate's error) | ERLE, first 3 min | CPU of the canceller |",
        "| --- | ---: | ---: |",
    ]
    for name, r in e["engines"].items():
        if "skipped" in r:
            lines.append(f"| {name} | skipped: {r['skipped']} | |")
        else:
            lines.append(
                f"| {r['engine']} ({1000 * r['error_s']:+.0f} ms) | {r['erle_db']:.1f} dB | {r['cpu_pct']:.1f} % |"
            )
    lines += [
        "",
        "| condition | woke | obeyed | wrong | Sorry? | target | met |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for key, label, target in (
        ("over_none", "over the coach, no duck", None),
        ("over_duck", "over the coach, 20 dB duck at the wake word (as shipped)", T_OVER),
        ("over_pause", "over the coach, silence at the wake word (a pause)", None),
        ("over_duck_m10", "over the coach, duck, the coach 10 dB under the speaker at the microphone", None),
        ("over_duck_aec3", f"over the coach, duck, WebRTC AEC3 in place of speexdsp ({', '.join(SUBSET)})", None),
        ("over_duck_cut50", f"over the coach, duck, wake cutoff 0.5 instead of 0.97 ({', '.join(SUBSET)})", None),
        ("quiet", "in quiet stretches (duck)", T_QUIET),
    ):
        r = e.get(key)
        if r is None:
            continue
        pct = 100 * r["ok"] / max(1, r["n"])
        met = "-" if target is None else ("met" if pct >= 100 * target else "MISSED")
        lines.append(
            f"| {label} | {r['woke']}/{r['n']} | **{r['ok']}/{r['n']} ({pct:.0f} %)** | {r['wrong']} | {r['sorry']} | "
            f"{'-' if target is None else f'>= {100 * target:.0f} %'} | {met} |"
        )
    lines += [
        "",
        "| speaker | over the coach (duck): woke, obeyed | in quiet stretches: woke, obeyed |",
        "| --- | ---: | ---: |",
    ]
    for name in e["speakers"]:
        cells = []
        for key in ("over_duck", "quiet"):
            rows = [r for r in e[key]["rows"] if r["speaker"] == name]
            ok = sum(r["got"][:1] == [r["action"]] for r in rows)
            cells.append(f"{sum(r['woke'] for r in rows)}, {ok} of {len(rows)}")
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    own = e["own"]
    lines += [
        "",
        f"Own session fed back ({own['minutes']:.0f} min, nobody speaking): **{own['commands']} false commands** "
        f"(target 0: {'met' if own['commands'] == 0 else 'MISSED'}), {own['wakes']} false wakes, {own['sorry']} "
        f'"Sorry?"; ERLE {own["erle_db"]:.1f} dB; CPU of listening (canceller, wake word, recognizer) '
        f"**{own['cpu_pct']:.1f} %** of one core (target <= {T_CPU_PCT:.0f} %: "
        f"{'met' if own['cpu_pct'] <= T_CPU_PCT else 'MISSED'}).",
    ]
    if "music" in e:
        from benchmarks.voicemusic import md_music

        lines += md_music(e["music"])
    return "\n".join(lines)
