"""The voice benchmark's section of docs/benchmarks.md (from :func:`benchmarks.voice.bench_voice`'s results)."""

from __future__ import annotations

from benchmarks.common import noise_text


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f} %" if b else "-"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _live_row(live: dict) -> str:
    from benchmarks.voicelive import T_LATENCY_MS

    if "skipped" in live:
        return f"| end of command in the room -> spoken confirmation on the speakers | skipped: {live['skipped']} | | |"
    runs = ", ".join(f"{x:.0f}" for x in sorted(live["latency_ms"]))
    return (
        f"| end of command in the room -> first sound of the spoken confirmation on the speakers (real stack, "
        f"quiet room, {live['runs']} live sessions, {live['missed']} not obeyed), median | "
        f"**{live['median_ms']:.0f} ms** ({runs}) | < {T_LATENCY_MS:.0f} ms | {_met(live['met'])} |"
    )


def _speaker_table(v: dict) -> list[str]:
    from benchmarks.voice import WEAK_WAKE

    conds = v["conditions"]
    wake = v["wake"]
    lines = [
        '| speaker | set | wake probability, clean "Hey Jarvis" | '
        + " | ".join(c["name"] + ": woke / obeyed / wrong" for c in conds)
        + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in conds) + " |",
    ]
    names = list(dict.fromkeys(r["speaker"] for r in conds[0]["rows"]))
    for name in names:
        cells = []
        for c in conds:
            sel = [r for r in c["rows"] if r["speaker"] == name]
            woke = [r for r in sel if r["woke"]]
            ok = sum(r["got"] == r["action"] for r in woke)
            wrong = sum(r["got"] not in (None, "unknown", r["action"]) for r in woke)
            cells.append(f"{len(woke)}/{len(sel)} / {ok} / {wrong}")
        tuning = conds[0]["rows"][[r["speaker"] for r in conds[0]["rows"]].index(name)]["tuning"]
        p = wake.get(name)
        weak = " (apart: under 0.1)" if p is not None and p < WEAK_WAKE else ""
        lines.append(
            f"| {name} | {'tuning' if tuning else 'held out'}{weak} | {'-' if p is None else f'{p:.2f}'} | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def _condition_rows(v: dict) -> list[str]:
    from benchmarks.voice import T_OBEYED, T_WAKE, T_WRONG, figures

    lines = [
        "| condition (held-out voices the wake model hears) | wake word heard | commands obeyed, given the wake | "
        "wrong commands | Sorry? | nothing | end of command -> handed to the session, median | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for c in v["conditions"]:
        f = figures(c["rows"], v["wake"])
        t = c.get("target", "")
        checks = []
        if t in T_WAKE:
            checks.append(("wake", f["woke"] >= T_WAKE[t] * f["n"], f">= {T_WAKE[t]:.0%}"))
        if t in T_OBEYED:
            checks.append(("obeyed", f["obeyed"] >= T_OBEYED[t] * f["woke"], f">= {T_OBEYED[t]:.0%}"))
        checks.append(("wrong", f["wrong"] <= T_WRONG * f["woke"], f"<= {T_WRONG:.0%}"))
        met = "; ".join(f"{k} {want}: {_met(ok)}" for k, ok, want in checks)
        lat = "-" if f["latency_ms"] is None else f"{f['latency_ms']:.0f} ms"
        lines.append(
            f"| {c['name']} | {f['woke']}/{f['n']} ({_pct(f['woke'], f['n'])}) | **{f['obeyed']}/{f['woke']} "
            f"({_pct(f['obeyed'], f['woke'])})** | {f['wrong']} ({_pct(f['wrong'], f['woke'])}) | {f['sorry']} | "
            f"{f['nothing']} | {lat} | {met} |"
        )
    return lines


def _apart_rows(v: dict) -> list[str]:
    """The tuning voices and the voices the wake model barely hears, each condition in one line."""
    from benchmarks.voice import WEAK_WAKE

    out = []
    for c in v["conditions"]:
        parts = []
        for label, pred in (
            ("tuning voices", lambda r: r["tuning"] and v["wake"].get(r["speaker"], 1.0) >= WEAK_WAKE),
            ("voices under 0.1", lambda r: v["wake"].get(r["speaker"], 1.0) < WEAK_WAKE),
        ):
            sel = [r for r in c["rows"] if pred(r)]
            woke = [r for r in sel if r["woke"]]
            ok = sum(r["got"] == r["action"] for r in woke)
            wrong = sum(r["got"] not in (None, "unknown", r["action"]) for r in woke)
            parts.append(f"{label}: woke {len(woke)}/{len(sel)}, obeyed {ok}, wrong {wrong}")
        out.append(f"* {c['name']}: " + "; ".join(parts))
    return out


def md_voice(v: dict, command: str, when: str) -> str:
    from benchmarks.voice import T_CPU_PCT, T_FALSE_PER_HOUR, summary
    from benchmarks.voiceechomd import summary_row

    s = summary(v)
    u, own = v["unrelated"], v["own"]
    lines = [f"Command: `{command}` ({when}). {noise_text(v['noise'])}.", ""]
    lines += _condition_rows(v)
    lines += ["", "Apart from the figures above (same takes):", ""]
    lines += _apart_rows(v)
    lines += ["", *_speaker_table(v), ""]
    lines += [
        "| figure | measured | target | met |",
        "| --- | --- | --- | --- |",
        f"| false commands, unrelated speech (quiet room) | {u['false_commands']} in {u['audio_s'] / 60:.1f} min "
        f"({u['sentences']} sentences, {u['with_command_words']} with command words; {u['wakes']} wakes, "
        f'{u["sorry"]} "Sorry?") = {s["false_per_hour"]:.1f}/hour | <= 1/hour | '
        f"{_met(s['false_per_hour'] <= T_FALSE_PER_HOUR)} |",
        f"| false commands, own {own['minutes']:.0f}-minute session fed back | {own['gated']['commands']} with the "
        f"echo gate ({own['gated']['ignored']} wakes ignored); {own['ungated']['commands']} without it "
        f'({own["ungated"]["sorry"]} "Sorry?") | 0 | {_met(own["gated"]["commands"] == 0)} |',
        _live_row(v.get("live") or {"skipped": "not run"}),
        summary_row(v.get("echo")),
        f"| CPU while listening, noise suppression on | {s['cpu_pct']:.1f} % of one core | < 25 % | "
        f"{_met(s['cpu_pct'] < T_CPU_PCT)} |",
    ]
    return "\n".join(lines)
