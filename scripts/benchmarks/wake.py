"""scripts/bench wake: the wake word's sensitivity: wake rate and false wakes per hour for each cutoff.

Every take is scored once by the real detector (microWakeWord through
``MicroWakeWordDetector.trace``): its probability after every 10 ms feature
window. A take wakes the coach at a cutoff when that probability goes above
it, so one pass gives the wake rate of every cutoff (the levels of
``--wake-sensitivity`` and the grid a personal cutoff is chosen from).

* Wake takes: each of the four shipped wake words said alone ("Hey Jarvis.")
  by the generated speakers of benchmarks/voiceset.py (tuning and held-out
  voices, chosen there before this was tuned), ``--wake-takes`` takes each
  (Piper says a phrase a little differently every time; espeak-ng's one
  rendering is shifted in time instead, which moves the audio front end's
  10 ms grid). Conditions: clean (no room), a quiet room (reverberation,
  fan-like noise at 30 dB SNR), and that noise at 20, 10 and 5 dB SNR. And the
  clean takes at lower input levels, for the microphone check's "too quiet".
* False wakes: the source articles (/work/shared/seeds) read sentence by
  sentence by the held-out speakers in the room at 20 dB SNR, one unbroken
  stream (as benchmarks/voice.py does), through all four models. A wake is
  counted when the probability goes above the cutoff; after one, nothing
  is counted for :data:`REFRACTORY_S` (the listener hears the command then
  and starts the detector afresh).

The default level is chosen by :func:`choose` from the tuning speakers only;
the figures reported are the held-out speakers'.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
from benchmarks import voiceset as vs
from benchmarks.common import Noise, log, noise_text

PHRASES = {"hey jarvis": "Hey Jarvis.", "okay nabu": "Okay Nabu.", "hey mycroft": "Hey Mycroft.", "alexa": "Alexa."}
CONDITIONS = {"quiet": 30.0, "20 dB": 20.0, "10 dB": 10.0, "5 dB": 5.0}  # fan-like noise, SNR to the speech
LEVELS_DBFS = (-30.0, -40.0, -50.0, -60.0)  # speech level (louder half of 20 ms frames), clean takes
GRID = tuple(round(0.5 + 0.01 * i, 2) for i in range(50))  # 0.50 .. 0.99
REFRACTORY_S = 2.0
T_QUIET, T_NOISY, T_FALSE_PER_HOUR = 0.95, 0.90, 1.0
HEARD_CLEAN = 0.1  # a voice the model scores above this when clean is one it can hear (the issue's rule)
SEEDS = Path("/work/shared/seeds")


def _detector(word: str):
    from voicecoach.control.voice.micro import MicroWakeWordDetector

    return MicroWakeWordDetector(word, sensitivity="low")


def _peak(det, pcm16: np.ndarray) -> float:
    det.reset()
    trace = det.trace(pcm16)
    return float(trace.max()) if trace.size else 0.0


def _pad(x: np.ndarray, lead_s: float, tail_s: float = 0.6) -> np.ndarray:
    return np.concatenate([np.zeros(int(lead_s * vs.RATE), np.float32), x, np.zeros(int(tail_s * vs.RATE), np.float32)])


def wake_takes(speakers, takes: int, seed: int = 5) -> list[dict]:
    """One row per take: speaker, word, take, and its peak probability per condition (and per input level)."""
    rng = np.random.default_rng(seed)
    rows = []
    for word, text in PHRASES.items():
        det = _detector(word)
        for s in speakers:
            rendering = None
            for k in range(takes):
                if s.engine == "piper" or rendering is None:
                    rendering = vs.say(s, text)
                lead = 0.4 + float(rng.uniform(0.0, 0.08))  # a different place on the front end's 10 ms grid
                dry = _pad(rendering, lead)
                row = {"speaker": s.name, "engine": s.engine, "tuning": s in vs.TUNING, "word": word, "take": k}
                row["clean"] = _peak(det, vs.to_int16(dry))
                room = vs.Room(100 + 7 * k + len(rows))
                wet = room.reverb(dry)[: len(dry)]
                for name, snr in CONDITIONS.items():
                    row[name] = _peak(det, vs.to_int16(vs.mix_at_snr(wet, room.noise(len(wet), 1.0), snr)))
                if word == "hey jarvis":
                    level = vs.speech_level(dry)
                    for dbfs in LEVELS_DBFS:
                        row[f"{dbfs:g} dBFS"] = _peak(det, vs.to_int16(dry * (10 ** (dbfs / 20) / level)))
                rows.append(row)
        log(f"wake: {word}: {len(speakers)} speakers x {takes} takes scored")
    return rows


COMMAND_LEVELS_DBFS = (-25.0, -35.0, -45.0, -55.0, -65.0)
COMMAND_WORDS = ("pause", "next", "stop", "go back")


def command_levels(speakers) -> dict:
    """ "Hey Jarvis, <command>." through the session's VoiceLogic at lower input levels (the check's "too quiet").

    Clean takes scaled to each speech level, over a -80 dBFS hiss (a microphone's own noise); obeyed =
    the right action. The wake word is heard at every level here (the wake takes above); the command
    recognizer's voice activity detector is what fails first.
    """
    from voicecoach.control.voice import VOCABULARY
    from voicecoach.control.voice.listener import CHUNK, VoiceLogic
    from voicecoach.control.voice.micro import MicroWakeWordDetector
    from voicecoach.control.voice.sphinx import SphinxCommands

    rng = np.random.default_rng(8)
    out: dict[str, list[int]] = {f"{d:g} dBFS": [0, 0] for d in COMMAND_LEVELS_DBFS}
    for s in speakers:
        for words in COMMAND_WORDS:
            x = _pad(vs.say(s, f"Hey Jarvis, {words}."), 0.5, 2.5)
            level = vs.speech_level(x)
            for dbfs in COMMAND_LEVELS_DBFS:
                y = x * (10 ** (dbfs / 20) / level) + rng.standard_normal(len(x)).astype(np.float32) * 1e-4
                det = MicroWakeWordDetector()
                logic = VoiceLogic(det, SphinxCommands(det.phrase))
                pcm, got = vs.to_int16(y), None
                for i in range(0, len(pcm), CHUNK):
                    c = logic.feed(pcm[i : i + CHUNK], 1000.0 + i / vs.RATE)
                    if c is not None and got is None:
                        got = str(c.action)
                cell = out[f"{dbfs:g} dBFS"]
                cell[0] += got == VOCABULARY[words]
                cell[1] += 1
    log(f"wake: commands at lower input levels, {len(speakers)} speakers")
    return out


def _sentences() -> list[str]:
    from benchmarks.voice import _sentences as sentences

    return sentences()


def false_wake_traces(speakers, seconds: float) -> dict:
    """Every model's probability trace over ``seconds`` of unrelated speech in the room (one stream)."""
    room = vs.Room(12)
    sentences = _sentences()
    dets = {word: _detector(word) for word in PHRASES}
    traces: dict[str, list[np.ndarray]] = {word: [] for word in PHRASES}
    audio_s, i = 0.0, 0
    while audio_s < seconds and i < len(sentences) * len(speakers):
        s = speakers[i % len(speakers)]
        sentence = sentences[(i * 7) % len(sentences)]
        i += 1
        x = _pad(vs.say(s, sentence), 0.3, 0.3)
        take = vs.to_int16(vs.mix_at_snr(room.reverb(x)[: len(x)], room.noise(len(x), 1.0), 20.0))
        for word, det in dets.items():
            traces[word].append(det.trace(take))
        audio_s += len(take) / vs.RATE
        if i % 100 == 0:
            log(f"wake: unrelated speech, {audio_s / 60:.0f} of {seconds / 60:.0f} min")
    return {
        "audio_s": audio_s,
        "sentences": i,
        "traces": {w: np.concatenate(t) if t else np.zeros(0, np.float32) for w, t in traces.items()},
    }


def own_session_traces() -> dict:
    """Every model's trace over the coach's own inner-knee session fed back through the room (30 dB SNR),
    with no echo gate: what the models hear once the coach's voice is no longer ignored (barge-in)."""
    from scipy import signal

    from voicecoach import programs
    from voicecoach.core.schedule import Options
    from voicecoach.render import mix
    from voicecoach.render.prepare import prepare, session_gain
    from voicecoach.speech.speaker import SpeechSettings

    prepared = prepare(programs.load("inner-knee"), Options(), SpeechSettings(engine=None))
    pcm = np.concatenate(list(mix.blocks(prepared.timeline, prepared.clips, gain=session_gain(prepared))))
    x16 = signal.resample_poly(pcm, 160, 441).astype(np.float32)
    room = vs.Room(13)
    take = vs.to_int16(vs.mix_at_snr(room.reverb(x16)[: len(x16)], room.noise(len(x16), 1.0), 30.0))
    return {
        "audio_s": len(take) / vs.RATE,
        "voice": prepared.speaker.describe(),
        "traces": {word: _detector(word).trace(take) for word in PHRASES},
    }


def false_wakes(trace: np.ndarray, cutoff: float, step_s: float = 0.01) -> int:
    """Wakes in one probability trace at ``cutoff``: above it, then nothing for :data:`REFRACTORY_S`."""
    n, skip_until = 0, -1
    hold = int(round(REFRACTORY_S / step_s))
    for idx in np.flatnonzero(trace > cutoff):
        if idx >= skip_until:
            n += 1
            skip_until = idx + hold
    return n


def _rate(rows, cond: str, cutoff: float) -> tuple[int, int]:
    return sum(r[cond] > cutoff for r in rows), len(rows)


def heard_voices(rows, word: str) -> set[str]:
    """The speakers whose median clean take the model scores above :data:`HEARD_CLEAN`."""
    names = dict.fromkeys(r["speaker"] for r in rows if r["word"] == word)
    return {
        n
        for n in names
        if statistics.median(r["clean"] for r in rows if r["word"] == word and r["speaker"] == n) > HEARD_CLEAN
    }


def level_cutoffs(model_cutoff: float) -> dict[str, float]:
    from voicecoach.core import wake

    return {level: wake.cutoff(level, model_cutoff) for level in wake.LEVELS}


def evaluate(rows, fw: dict, word: str, model_cutoff: float) -> dict:
    """Per level and per grid cutoff: wake rates (tuning and held-out, heard voices) and false wakes per hour."""
    heard = heard_voices(rows, word)
    mine = [r for r in rows if r["word"] == word and r["speaker"] in heard]
    hours = fw["audio_s"] / 3600
    out: dict = {"heard": sorted(heard), "levels": {}, "grid": {}}
    own = fw.get("own")
    cutoffs = {**{f"{c:.2f}": c for c in GRID}, **{lv: c for lv, c in level_cutoffs(model_cutoff).items()}}
    for key, c in cutoffs.items():
        entry = {"cutoff": c, "false": false_wakes(fw["traces"][word], c), "hours": hours}
        entry["own"] = false_wakes(own["traces"][word], c) if own else None
        for group, sel in (
            ("tuning", [r for r in mine if r["tuning"]]),
            ("held", [r for r in mine if not r["tuning"]]),
        ):
            entry[group] = {cond: _rate(sel, cond, c) for cond in ("clean", *CONDITIONS)}
        (out["grid"] if key[0].isdigit() else out["levels"])[key] = entry
    return out


def _pct(pair: tuple[int, int]) -> float:
    ok, n = pair
    return 100.0 * ok / n if n else float("nan")


def meets(entry: dict, group: str) -> bool:
    g = entry[group]
    per_hour = entry["false"] / entry["hours"] if entry["hours"] else float("inf")
    return _pct(g["quiet"]) >= 100 * T_QUIET and _pct(g["10 dB"]) >= 100 * T_NOISY and per_hour <= T_FALSE_PER_HOUR


def _within_budget(entry: dict) -> bool:
    return entry["false"] / entry["hours"] <= T_FALSE_PER_HOUR and not entry["own"]


def choose(levels: dict) -> str:
    """The default level: the most sensitive one within the false-wake budget (at most 1 per hour of
    unrelated speech, none in the coach's own session) that meets the targets on the tuning speakers;
    else, within the budget, the one with the best tuning wake rate at 10 dB; else the strictest.

    The most sensitive, not the strictest: the issue asks to use the room the false-wake budget
    leaves, and the "clean" takes (as a sound server hands them over, with no room noise at all)
    score lower than the room's."""
    order = sorted(levels, key=lambda lv: levels[lv]["cutoff"])  # most sensitive first
    within = [lv for lv in order if _within_budget(levels[lv])]
    for lv in within:
        if meets(levels[lv], "tuning"):
            return lv
    if within:
        return max(within, key=lambda lv: _pct(levels[lv]["tuning"]["10 dB"]))
    return order[-1]


def lowest_safe_cutoff(grid: dict) -> float | None:
    """The lowest grid cutoff with at most :data:`T_FALSE_PER_HOUR` false wakes per hour (and every higher one too)."""
    safe = None
    for key in sorted(grid, key=float, reverse=True):
        e = grid[key]
        if not _within_budget(e):
            break
        safe = e["cutoff"]
    return safe


def bench_wake(args, work: Path) -> dict:
    try:
        import pymicro_wakeword  # noqa: F401
    except ImportError as exc:
        return {"skipped": f"the listen extra is not installed ({exc})"}
    from voicecoach.core import wake

    noise = Noise()
    speakers = vs.speakers()
    log(f"wake: {len(PHRASES)} wake words x {len(speakers)} speakers x {args.wake_takes} takes")
    rows = wake_takes(speakers, args.wake_takes)
    log(f"wake: unrelated speech, {args.wake_seconds:.0f} s, through the four models")
    fw = false_wake_traces([s for s in speakers if s in vs.HELD_OUT], args.wake_seconds)
    commands = command_levels([s for s in speakers if s in vs.HELD_OUT and s.name != "espeak-us-m3-low"])
    log("wake: the coach's own session fed back (no echo gate), through the four models")
    fw["own"] = own_session_traces()
    models = {}
    for word in PHRASES:
        det = _detector(word)
        ev = evaluate(rows, fw, word, det.model_cutoff)
        ev["model_cutoff"] = det.model_cutoff
        ev["chosen"] = choose(ev["levels"])
        ev["safe_floor"] = lowest_safe_cutoff(ev["grid"])
        models[word] = ev
    return {
        "rows": rows,
        "commands": commands,
        "audio_s": fw["audio_s"],
        "sentences": fw["sentences"],
        "own_minutes": fw["own"]["audio_s"] / 60,
        "own_voice": fw["own"]["voice"],
        "models": models,
        "default": wake.DEFAULT,
        "noise": noise.done(),
    }


def summary(w: dict) -> str:
    jarvis = w["models"]["hey jarvis"]
    d = jarvis["levels"][w["default"]]
    return (
        f"wake: hey jarvis at {w['default']} ({d['cutoff']:.2f}): held-out quiet {_pct(d['held']['quiet']):.0f} %, "
        f"10 dB {_pct(d['held']['10 dB']):.0f} %, false wakes {d['false']} in {d['hours'] * 60:.0f} min; measured "
        f"choice {jarvis['chosen']}"
    )


def md_wake(w: dict, command: str, when: str) -> str:
    mins = w["audio_s"] / 60
    lines = [
        f"Command: `{command}` ({when}). {noise_text(w['noise'])}. Unrelated speech: {mins:.0f} min "
        f"({w['sentences']} sentences) read by the held-out speakers. Own session: the built-in inner-knee "
        f"program, {w['own_minutes']:.0f} min ({w['own_voice']}), fed back with no echo gate.",
        "",
        "Wake rate of the held-out speakers the model hears (clean score above 0.1), per level; false wakes on the "
        "unrelated speech and on the own session. The last column: the tuning speakers' quiet / 10 dB rates "
        "(the default is chosen on them and the false wakes).",
        "",
        "| wake word | level | cutoff | clean | quiet | 20 dB | 10 dB | 5 dB | false wakes | per hour | own session "
        "| tuning |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for word, ev in w["models"].items():
        for lv, e in sorted(ev["levels"].items(), key=lambda kv: -kv[1]["cutoff"]):
            h, t = e["held"], e["tuning"]
            mark = " (default)" if lv == w["default"] else ""
            cells = " | ".join(f"{_pct(h[c]):.0f} %" for c in ("clean", *CONDITIONS))
            tun = f"{_pct(t['quiet']):.0f} / {_pct(t['10 dB']):.0f} %" if t["quiet"][1] else "-"
            lines.append(
                f"| {word} | {lv}{mark} | {e['cutoff']:.2f} | {cells} | {e['false']} | "
                f"{e['false'] / e['hours']:.1f} | {e['own']} | {tun} |"
            )
    lines += ["", "Held-out takes per level and condition, and the voices each model hears:", ""]
    for word, ev in w["models"].items():
        n = ev["levels"]["low"]["held"]["quiet"][1]
        heard = ", ".join(v for v in ev["heard"]) or "none"
        floor = f"{ev['safe_floor']:.2f}" if ev["safe_floor"] is not None else "none"
        lines.append(
            f"* {word} (model cutoff {ev['model_cutoff']:.2f}): {n} held-out takes; heard: {heard}; lowest cutoff "
            f"with at most 1 false wake per hour and none in the own session: {floor}; measured choice of level: "
            f"{ev['chosen']}."
        )
    lines += ["", '"Hey Jarvis" per held-out voice at the default level (takes woken):', ""]
    lines.append("| voice | clean score (median) | clean | quiet | 10 dB | 5 dB |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    from voicecoach.core import wake

    c = wake.cutoff(w["default"], w["models"]["hey jarvis"]["model_cutoff"])
    rows = [r for r in w["rows"] if r["word"] == "hey jarvis" and not r["tuning"]]
    for name in dict.fromkeys(r["speaker"] for r in rows):
        sel = [r for r in rows if r["speaker"] == name]
        med = statistics.median(r["clean"] for r in sel)
        cells = " | ".join(f"{sum(r[k] > c for r in sel)}/{len(sel)}" for k in ("clean", "quiet", "10 dB", "5 dB"))
        lines.append(f"| {name} | {med:.2f} | {cells} |")
    lines += ["", f'"Hey Jarvis" at lower input levels (clean takes, all voices the model hears, cutoff {c:.2f}):', ""]
    heard = set(w["models"]["hey jarvis"]["heard"])
    sel = [r for r in w["rows"] if r["word"] == "hey jarvis" and r["speaker"] in heard]
    cells = ", ".join(f"{k}: {sum(r[k] > c for r in sel)}/{len(sel)}" for k in (f"{d:g} dBFS" for d in LEVELS_DBFS))
    lines.append(f"speech level {cells}.")
    cmd = w.get("commands") or {}
    if cmd:
        cells = ", ".join(f"{k}: {ok}/{n}" for k, (ok, n) in cmd.items())
        lines += [
            "",
            '"Hey Jarvis, <command>." obeyed at lower input levels (the session\'s VoiceLogic; the held-out voices '
            "the model hears, 4 commands each, over a -80 dBFS hiss):",
            "",
            f"speech level {cells}.",
        ]
    return "\n".join(lines)
