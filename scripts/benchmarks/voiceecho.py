"""Barge-in: commands said over the coach, with the echo canceller on (called from scripts/bench voice).

The coach's own session (built-in inner-knee, the session's loudness gain,
as `voicecoach play` mixes it) plays on a simulated clock. What it sends to
the speakers goes, block by block, to the product's :class:`OutputTap` as
the audio callback does (1024 frames at 44.1 kHz, stamped with the moment
they are heard, written ahead by the output latency), with the duck applied
as the player applies it. The microphone hears that output through a room
(reverberation, an acoustic delay plus an error in the latency estimate),
the room's noise, and a generated speaker saying "Hey Jarvis, <command>."
Everything runs through the real :class:`VoiceLogic` with the real engines
and the product's :class:`EchoCanceller` as its first cleaning stage.

Conditions (one continuous session each, so the canceller stays adapted as
it would be):

* **over the coach**: every command starts 0.3 s into a spoken cue of at
  least 1.5 s, the coach's voice as loud at the microphone as the speaker's
  (0 dB); three ways to answer a wake word: nothing, a 20 dB duck, or
  silence (what a pause of the cue sounds like to the microphone);
* **quiet stretches**: commands 0.8 s into stretches of 2.5 s or more;
* **own session**: the whole session fed back, nobody speaking: false
  wakes and false commands, echo return loss enhancement (ERLE), CPU.
* **with music** (benchmarks/voicemusic.py; alone: ``--only music``): the same
  with the product's music bed under the session (own session, commands).

The canceller is chosen here too: speexdsp's (the product's) against WebRTC's
AEC3 (pywebrtc-audio, when installed): ERLE and CPU on the first minutes of
the session, speexdsp's ERLE with the latency estimate off, and commands over
the coach with AEC3 in its place (its suppressor takes the person's voice too).

The simulated echo path is linear and never drifts, unlike real
loudspeakers: the real stack's test (tests/e2e/test_play_voice.py) checks
barge-in end to end.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run alone: the repository, tests/ and scripts/ on the path, as scripts/bench does
    _ROOT = Path(__file__).resolve().parents[2]
    # Not this folder itself: its piper.py would hide the piper package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    sys.path[:0] = [str(_ROOT), str(_ROOT / "tests"), str(_ROOT / "scripts")]

import numpy as np
from benchmarks import voiceset as vs
from benchmarks.common import log
from scipy import signal

T_OVER = 0.85
T_QUIET = 0.95
T_CPU_PCT = 25.0
OUT = 44100
BLOCK = 1024  # the player's block
LATENCY_S = 0.35  # the player's output latency: blocks are handed to the tap this far ahead
ACOUSTIC_S = 0.005  # speakers to microphone
ESTIMATE_ERROR_S = 0.02  # the echo arrives this much later than the latency estimate says
ECHO_DB = 0.0  # the coach's voice at the microphone against the speaker's
NOISE_DB = 30.0  # the room's noise under the speaker's voice
MODES = {"none": 1.0, "duck": 0.1, "pause": 0.0}
SUBSET = ("pause", "next", "repeat", "go back", "help")  # the commands of the comparisons (not the figures)


def session44():
    """The coach's session as `voicecoach play` sends it to the speakers, and its timeline."""
    from voicecoach import programs
    from voicecoach.core.schedule import Options
    from voicecoach.render import mix
    from voicecoach.render.prepare import prepare, session_gain
    from voicecoach.speech.speaker import SpeechSettings

    prepared = prepare(programs.load("inner-knee"), Options(), SpeechSettings(engine=None))
    pcm = np.concatenate(list(mix.blocks(prepared.timeline, prepared.clips, gain=session_gain(prepared))))
    return pcm.astype(np.float32), prepared.timeline, prepared.speaker.describe()


def load_aec3():
    """WebRTC's AEC3 (pip install pywebrtc-audio: not a dependency, only compared here)."""
    from pywebrtc_audio import EchoCanceller as Aec3

    return Aec3(sample_rate=vs.RATE, num_channels=1)


class Sim:
    """The coach's output, the tap, the room and the microphone on one simulated clock."""

    def __init__(self, out44: np.ndarray, echo16: np.ndarray, logic, tap, duck_gain: float, error_s=ESTIMATE_ERROR_S):
        self.out44, self.echo16, self.logic, self.tap = out44, echo16, logic, tap
        self.duck_gain = duck_gain
        self.t0 = 1000.0
        self.delay16 = int(round((ACOUSTIC_S + error_s) * vs.RATE))
        self.k = 0  # output samples handed to the tap
        self.gain, self.target = 1.0, 1.0
        self.block_gain = np.ones(len(out44) // BLOCK + 2, np.float32)  # the gain each block was played at
        self.i16 = 0  # microphone samples so far
        self.cpu_s = 0.0
        self.commands: list[tuple[float, object]] = []
        self.wakes = 0
        logic.on_listening = self._listening

    def _listening(self, on: bool) -> None:
        self.wakes += on
        self.target = self.duck_gain if on else 1.0

    def _write_until(self, t: float) -> None:
        from voicecoach.live.realtime import DUCK_RAMP_S

        step = BLOCK / (DUCK_RAMP_S * OUT)
        while self.k < len(self.out44) and self.t0 + self.k / OUT < t:
            block = self.out44[self.k : self.k + BLOCK]
            if self.gain != self.target:  # the player's ramp, to the block (its shape does not matter here)
                self.gain = (
                    min(self.target, self.gain + step)
                    if self.target > self.gain
                    else max(self.target, self.gain - step)
                )
            self.block_gain[self.k // BLOCK] = self.gain
            self.tap.write((block * self.gain).astype(np.float32), self.t0 + self.k / OUT)
            self.k += BLOCK

    def feed(self, extra16: np.ndarray) -> None:
        """Advance by ``len(extra16)`` microphone samples: the echo plus ``extra16`` (speech and noise)."""
        from voicecoach.control.voice.listener import CHUNK

        for a in range(0, len(extra16), CHUNK):
            part = extra16[a : a + CHUNK]
            n = len(part)
            t_end = self.t0 + (self.i16 + n) / vs.RATE
            self._write_until(t_end + LATENCY_S)
            idx = np.arange(self.i16, self.i16 + n) - self.delay16
            ok = (idx >= 0) & (idx < len(self.echo16))
            echo = np.zeros(n, np.float32)
            echo[ok] = self.echo16[idx[ok]]
            played_at = np.clip((idx * OUT // vs.RATE) // BLOCK, 0, len(self.block_gain) - 1)
            mic = echo * self.block_gain[played_at] + part
            self.i16 += n
            c0 = time.process_time()
            command = self.logic.feed(vs.to_int16(mic), t_end)
            self.cpu_s += time.process_time() - c0
            if command is not None:
                self.commands.append((t_end, command))


def _logic(engine=None):
    from voicecoach.control.voice.echo import EchoCanceller, OutputTap
    from voicecoach.control.voice.listener import VoiceLogic
    from voicecoach.control.voice.micro import MicroWakeWordDetector
    from voicecoach.control.voice.sphinx import SphinxCommands

    det = MicroWakeWordDetector()
    tap = OutputTap()
    canceller = EchoCanceller(tap, engine)
    return VoiceLogic(det, SphinxCommands(det.phrase), cleaners=(canceller,)), tap, canceller


def _echo16(out44, room: vs.Room, speech_level: float, echo_db: float = ECHO_DB, voice44=None) -> np.ndarray:
    """The output as the microphone hears it; the coach's voice (``voice44``: alone, if music plays) at ``echo_db``."""
    x16 = signal.resample_poly(out44, 160, 441).astype(np.float32)
    wet = room.reverb(x16)[: len(x16)]
    if voice44 is not None:  # the music is not speech: the level is the voice's, measured without it
        wet_voice = room.reverb(signal.resample_poly(voice44, 160, 441).astype(np.float32))
        level = vs.speech_level(wet_voice[: len(x16)]) or 1.0
    else:
        level = vs.speech_level(wet) or 1.0
    return (wet * (speech_level * 10 ** (echo_db / 20) / level)).astype(np.float32)


def _points(timeline, over: bool, spacing_s: float = 7.0) -> list[float]:
    """Where commands start on the session's clock: 0.3 s into a long spoken cue, or 0.8 s into a quiet stretch."""
    cues = sorted(timeline.cues, key=lambda c: c.start_s)
    out: list[float] = []
    if over:
        cands = [c.start_s + 0.3 for c in cues if c.end_s - c.start_s >= 1.5]
    else:
        ends = [c.end_s for c in cues]
        cands = [e + 0.8 for e, nxt in zip(ends, cues[1:], strict=False) if nxt.start_s - e >= 2.5]
    for t in cands:
        if not out or t - out[-1] >= spacing_s:
            out.append(t)
    return out


def commands(
    out44,
    timeline,
    speakers,
    *,
    over: bool,
    mode: str,
    words: tuple[str, ...] | None = None,
    engine=None,
    cutoff: float | None = None,
    echo_db: float = 0.0,
    voice44=None,
) -> dict:
    """Every speaker says every command at points of the session; what the coach did with each."""
    from voicecoach.control.voice import VOCABULARY

    room = vs.Room(21)
    takes = [(s, w, a) for s in speakers for w, a in VOCABULARY.items() if words is None or w in words]
    points = _points(timeline, over)
    rows = []
    level = 0.25  # about the generated speakers' level after the room (peak 0.5)
    echo16 = _echo16(out44, room, level, echo_db, voice44)
    logic, tap, _ = _logic(engine)
    if cutoff is not None:  # a more sensitive wake word (what a sensitivity setting would do)
        logic.detector._model.probability_cutoff = cutoff
    sim = Sim(out44, echo16, logic, tap, MODES[mode])
    session_s = len(out44) / OUT
    points = [p for p in _points(timeline, over) if p + 6.0 <= session_s]
    j = 0
    while j < len(takes):
        for p in points:
            if j >= len(takes):
                break
            now = sim.i16 / vs.RATE
            if p < now:
                continue  # the last command ran past this point
            s, said, action = takes[j]
            j += 1
            sim.feed(room.noise(int((p - now) * vs.RATE), level / 10 ** (NOISE_DB / 20)))
            speech = room.reverb(vs.say(s, f"Hey Jarvis, {said}."))
            speech *= level / (vs.speech_level(speech) or 1.0)
            take = np.concatenate([speech, np.zeros(int(3.5 * vs.RATE), np.float32)])
            take += room.noise(len(take), level / 10 ** (NOISE_DB / 20))
            before, wakes = len(sim.commands), sim.wakes
            sim.feed(take.astype(np.float32))
            got = [str(c.action) for _, c in sim.commands[before:]]
            rows.append({"speaker": s.name, "words": said, "action": action, "got": got, "woke": sim.wakes > wakes})
        # Out of points: the session again from its start, on a later clock (the canceller stays adapted).
        sim.k, sim.i16 = 0, 0
        sim.t0 += 10_000.0
    ok = sum(r["got"][:1] == [r["action"]] for r in rows)
    wrong = sum(bool(r["got"]) and r["got"][0] not in ("unknown", r["action"]) for r in rows)
    sorry = sum(r["got"][:1] == ["unknown"] for r in rows)
    woke = sum(r["woke"] for r in rows)
    return {"rows": rows, "ok": ok, "n": len(rows), "wrong": wrong, "sorry": sorry, "woke": woke, "mode": mode}


def own_session(out44, voice44=None) -> dict:
    """The whole session fed back, nobody speaking: false wakes and commands, ERLE, CPU."""
    room = vs.Room(22)
    echo16 = _echo16(out44, room, 0.25, voice44=voice44)
    logic, tap, canceller = _logic()
    powers: list[tuple[float, float]] = []
    process = canceller.process

    def measured(pcm, t_end):
        out = process(pcm, t_end)
        powers.append((float(np.mean(pcm.astype(np.float64) ** 2)), float(np.mean(out.astype(np.float64) ** 2))))
        return out

    canceller.process = measured  # type: ignore[method-assign]
    sim = Sim(out44, echo16, logic, tap, MODES["duck"])
    n = len(echo16) + sim.delay16
    sim.feed(room.noise(n, 0.25 / 10 ** (NOISE_DB / 20)))
    audio_s = n / vs.RATE
    return {
        "minutes": audio_s / 60,
        "wakes": sim.wakes,
        "commands": len([c for _, c in sim.commands if c.action != "unknown"]),
        "sorry": len([c for _, c in sim.commands if c.action == "unknown"]),
        "erle_db": _erle(powers),
        "cpu_pct": 100 * sim.cpu_s / audio_s,
    }


def _erle(powers: list[tuple[float, float]], skip: int = 125) -> float:
    """Echo return loss enhancement over the chunks where the echo is loud (after 10 s to adapt), in dB."""
    p = np.array(powers[skip:])
    if p.size == 0:
        return float("nan")
    loud = p[:, 0] > (32768 * 10 ** (-35 / 20)) ** 2
    return float(10 * np.log10(p[loud, 0].sum() / max(p[loud, 1].sum(), 1e-9)))


def engines(out44, minutes: float = 3.0) -> dict:
    """AEC3 against speexdsp on the first minutes of the session fed back: ERLE and CPU of the canceller alone."""
    from voicecoach.control.voice.echo import EchoCanceller, OutputTap, SpeexEcho

    room = vs.Room(23)
    part = out44[: int(minutes * 60 * OUT)]
    echo16 = _echo16(part, room, 0.25)
    out = {}
    trials = [("speexdsp", ESTIMATE_ERROR_S), ("aec3", ESTIMATE_ERROR_S)]
    trials += [("speexdsp", e) for e in (-0.08, 0.1, 0.25)]
    for name, err in trials:
        try:
            engine = load_aec3() if name == "aec3" else SpeexEcho()
        except (ImportError, OSError) as exc:
            out[f"{name} {err:+.2f}"] = {"skipped": str(exc)}
            continue
        tap = OutputTap()
        canceller = EchoCanceller(tap, engine)
        powers: list[tuple[float, float]] = []

        class Probe:
            on_listening = None

            def __init__(self, canceller, powers) -> None:
                self.canceller, self.powers, self.cpu = canceller, powers, 0.0

            def feed(self, pcm, t_end):
                c0 = time.process_time()
                cleaned = self.canceller.process(pcm, t_end)
                self.cpu += time.process_time() - c0
                self.powers.append(
                    (float(np.mean(pcm.astype(np.float64) ** 2)), float(np.mean(cleaned.astype(np.float64) ** 2)))
                )

        probe = Probe(canceller, powers)
        sim = Sim(part, echo16, probe, tap, 1.0, error_s=err)
        sim.feed(room.noise(len(echo16), 0.25 / 10 ** (NOISE_DB / 20)))
        out[f"{name} {err:+.2f}"] = {
            "engine": name,
            "error_s": err,
            "erle_db": _erle(powers),
            "cpu_pct": 100 * probe.cpu / (len(echo16) / vs.RATE),
        }
    return out


def bench_echo(speakers) -> dict:
    """Every condition; ``speakers`` are the held-out generated speakers."""
    from voicecoach.control.voice.echo import EchoUnavailable, SpeexEcho

    try:
        SpeexEcho()
    except EchoUnavailable as exc:
        return {"skipped": f"{exc.message}; {exc.hint}"}
    out44, timeline, voice = session44()
    res: dict = {"voice": voice, "session_min": len(out44) / OUT / 60, "speakers": [s.name for s in speakers]}
    log("voice echo: AEC3 against speexdsp")
    res["engines"] = engines(out44)
    for mode in MODES:
        log(f"voice echo: commands over the coach ({mode})")
        res[f"over_{mode}"] = commands(out44, timeline, speakers, over=True, mode=mode)
    log("voice echo: commands over the coach (duck), the coach 10 dB under the speaker at the microphone")
    res["over_duck_m10"] = commands(out44, timeline, speakers, over=True, mode="duck", echo_db=-10.0)
    log("voice echo: commands over the coach (duck), the wake word's cutoff at 0.5 instead of 0.97")
    res["over_duck_cut50"] = commands(out44, timeline, speakers, over=True, mode="duck", words=SUBSET, cutoff=0.5)
    try:
        aec3 = load_aec3()
    except ImportError:
        aec3 = None
    if aec3 is not None:
        log("voice echo: commands over the coach (duck), AEC3 in place of speexdsp")
        res["over_duck_aec3"] = commands(out44, timeline, speakers, over=True, mode="duck", words=SUBSET, engine=aec3)
    log("voice echo: commands in quiet stretches")
    res["quiet"] = commands(out44, timeline, speakers, over=False, mode="duck")
    log("voice echo: the whole session fed back")
    res["own"] = own_session(out44)
    from benchmarks.voicemusic import bench_music

    res["music"] = bench_music(speakers)
    return res


def main(argv: list[str]) -> int:
    """``.venv/bin/python scripts/benchmarks/voiceecho.py [--write-doc] [--json FILE]``: this benchmark alone."""
    import argparse
    import json
    import shlex
    from datetime import datetime, timezone

    from benchmarks.common import DOC, update_doc

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-doc", action="store_true", help="update the Barge-in section of docs/benchmarks.md")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--only", choices=["music"], help="only the conditions with music (printed, not written)")
    args = ap.parse_args(argv)
    held_out = [s for s in vs.speakers() if s in vs.HELD_OUT]
    if args.only == "music":
        from benchmarks.voicemusic import main_music

        return main_music(held_out, args.json)
    res = bench_echo(held_out)
    command = "scripts/benchmarks/voiceecho.py " + " ".join(shlex.quote(a) for a in argv)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, default=str)
    from benchmarks.voiceechomd import md_echo

    text = md_echo(res, command.strip(), when)
    print(text)
    if args.write_doc:
        update_doc(DOC, {"voiceecho": text})
    return 3 if "skipped" in res else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
