"""Barge-in with music playing: the coach's output with a bed under it, as `voicecoach play --listen --music` sends it.

The bed is the product's (:func:`voicecoach.render.bed.for_session`: the
default --music-volume -20 and --duck 14, ducked under every cue and earcon)
mixed under the session's speech as :func:`voicecoach.render.mix.blocks`
mixes it (the export and a live session are the same samples); the echo
canceller's tap takes the first channel of what is sent to the speakers, so
that channel is the echo and the reference. At a wake word the player ducks
its whole output, the music with it (the simulation's duck).

The music is generated here with ffmpeg (no song ships with the repository):
a chord progression (A, F, C, G, two seconds each) with its bass, an
arpeggio in sixteenths, a kick on every beat and a noise hi-hat between
(120 bpm), encoded to MP3; the bed loops it with its crossfade. Its level
under the coach's voice is the product's, whatever the echo's level is.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from benchmarks.common import log
from benchmarks.voiceecho import OUT, SUBSET, commands, own_session

from voicecoach.render.mix import STEREO_SPEECH

SONG_S = 150  # the generated song's length: the bed loops it over the session
_ROOT = "if(lt(mod(t,8),2),110,if(lt(mod(t,8),4),87.31,if(lt(mod(t,8),6),130.81,98)))"  # A, F, C, G
_STEP = "floor(mod(t*4,4))"
_SONG = (
    f"0.12*sin(2*PI*{_ROOT}*t)"  # bass
    f"+0.05*(sin(4*PI*{_ROOT}*t)+sin(4*1.26*PI*{_ROOT}*t)+sin(6*PI*{_ROOT}*t))"  # the chord
    f"+0.08*sin(8*PI*{_ROOT}*t*(1+0.25*eq({_STEP},1)+0.5*eq({_STEP},2)+eq({_STEP},3)))*exp(-6*mod(t,0.25))"
    "+0.3*sin(2*PI*55*mod(t,0.5))*exp(-18*mod(t,0.5))"  # kick
    "+0.06*(2*random({seed})-1)*exp(-50*mod(t+0.25,0.5))"  # hi-hat, off the beat
)
SONG_TEXT = "a generated song (chords A-F-C-G, bass, arpeggio, kick and hi-hat at 120 bpm; MP3)"


def make_song(folder: Path, seconds: int = SONG_S) -> Path:
    """A music-like MP3 in ``folder`` (see the module's docstring), made by ffmpeg."""
    path = folder / "song.mp3"
    exprs = f"{_SONG.format(seed=0)}|{_SONG.format(seed=1)}"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
        + [f"aevalsrc=exprs='{exprs}':s=44100:d={seconds}", "-c:a", "libmp3lame", "-b:a", "160k", str(path)],
        check=True,
    )
    return path


def session44_music(song: Path, volume_db: float | None = None) -> tuple[np.ndarray, np.ndarray, object]:
    """The session with the bed under it (its first channel: what the tap takes), without it, and its timeline.

    ``volume_db``: --music-volume (the product's default when None); --duck stays the default.
    """
    from voicecoach import programs
    from voicecoach.core.configrules import DEFAULT_LOUDNESS_LUFS
    from voicecoach.core.schedule import Options
    from voicecoach.render import mix, music
    from voicecoach.render.bed import for_session
    from voicecoach.render.prepare import prepare, session_gain
    from voicecoach.speech.speaker import SpeechSettings

    prepared = prepare(programs.load("inner-knee"), Options(), SpeechSettings(engine=None))
    request = music.MusicRequest((str(song),)).probed()  # the defaults: --duck 14, --music-volume -20
    bed = for_session(
        prepared.timeline,
        request.tracks,
        target_lufs=DEFAULT_LOUDNESS_LUFS,
        volume_db=request.volume_db if volume_db is None else volume_db,
        duck_db=request.duck_in_effect,
    )
    gain = session_gain(prepared)
    first = [b[:, 0] for b in mix.blocks(prepared.timeline, prepared.clips, gain=gain, bed=bed)]
    plain = np.concatenate(list(mix.blocks(prepared.timeline, prepared.clips, gain=gain)))
    return np.concatenate(first).astype(np.float32), plain.astype(np.float32), prepared.timeline


def bed_levels(out44: np.ndarray, voice44: np.ndarray, timeline) -> dict:
    """The music's RMS between cues and under them, in dB against the coach's voice (its louder half)."""
    from benchmarks import voiceset as vs

    bed = out44 - voice44  # (the limiter's few touches count as music)
    under = np.zeros(len(bed), bool)
    for c in timeline.cues:
        under[int(c.start_s * OUT) : int(c.end_s * OUT)] = True
    voice = vs.speech_level(voice44) or 1.0

    def db(x: np.ndarray) -> float:
        return float(20 * np.log10(max(1e-9, float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))) / voice))

    return {"between_db": db(bed[~under]), "under_db": db(bed[under])}


def bench_music(speakers, *, over: bool = True, save: Callable[[dict], None] | None = None) -> dict:
    """The music conditions: the own session fed back, commands in quiet stretches (and over the coach).

    At the default --music-volume (-20), and the own session and quiet stretches again with the music
    10 dB louder (--music-volume -10); the same commands without music, to compare.
    """
    res: dict = {"song": SONG_TEXT, "words": list(SUBSET)}
    with tempfile.TemporaryDirectory(prefix="voicemusic-") as tmp:
        log("voice echo, music: generating the song (ffmpeg)")
        song = make_song(Path(tmp))
        log("voice echo, music: mixing the session with the bed")
        out44, plain44, timeline = session44_music(song)
        loud44 = session44_music(song, -10.0)[0]
    voice44 = plain44 * STEREO_SPEECH  # the coach's voice alone in the first channel: the echo's level is its
    res["session_min"] = len(out44) / OUT / 60
    res["bed"] = bed_levels(out44, voice44, timeline)
    res["bed_loud"] = bed_levels(loud44, voice44, timeline)

    def run(out, **kw):
        return lambda: commands(out, timeline, speakers, mode="duck", words=SUBSET, **kw)

    steps = [
        ("own", lambda: own_session(out44, voice44)),
        ("quiet", run(out44, over=False, voice44=voice44)),
        ("quiet_plain", run(plain44, over=False)),
        ("own_loud", lambda: own_session(loud44, voice44)),
        ("quiet_loud", run(loud44, over=False, voice44=voice44)),
    ]
    if over:
        steps += [("over", run(out44, over=True, voice44=voice44)), ("over_plain", run(plain44, over=True))]
    for key, step in steps:
        log(f"voice echo, music: {key}")
        res[key] = step()
        if save is not None:
            save(res)
    return res


def md_music(m: dict) -> list[str]:
    """The music conditions' lines for the Barge-in subsection."""
    lines = [
        "",
        f"With music ({m['song']}, under the session as `play --music` mixes it: --music-volume -20, --duck 14; "
        f"the tap takes the first channel): commands {', '.join(m['words'])}.",
        "",
        "| condition, music playing | woke | obeyed | wrong | Sorry? |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, label in (
        ("quiet", "in quiet stretches (duck), music under"),
        ("quiet_loud", "in quiet stretches (duck), music 10 dB louder (--music-volume -10)"),
        ("quiet_plain", "the same commands in quiet stretches, no music (to compare)"),
        ("over", "over the coach (duck), music under"),
        ("over_plain", "the same commands over the coach (duck), no music (to compare)"),
    ):
        r = m.get(key)
        if r is not None:
            pct = 100 * r["ok"] / max(1, r["n"])
            lines.append(
                f"| {label} | {r['woke']}/{r['n']} | **{r['ok']}/{r['n']} ({pct:.0f} %)** | {r['wrong']} | "
                f"{r['sorry']} |"
            )
    for key, bed, what in (("own", "bed", "default"), ("own_loud", "bed_loud", "10 dB louder")):
        own, lv = m.get(key), m.get(bed, {})
        if own is None:
            continue
        lines += [
            "",
            f"Own session with music fed back ({what}: the music {lv.get('between_db', float('nan')):.0f} dB "
            f"between cues and {lv.get('under_db', float('nan')):.0f} dB under them against the coach's voice; "
            f"{own['minutes']:.0f} min, nobody speaking): **{own['commands']} false commands** "
            f"(target 0: {'met' if own['commands'] == 0 else 'MISSED'}), {own['wakes']} false wakes, "
            f'{own["sorry"]} "Sorry?"; ERLE {own["erle_db"]:.1f} dB; CPU of listening {own["cpu_pct"]:.1f} % of one core.',
        ]
    return lines


def main_music(speakers, json_path: str | None) -> int:
    """``voiceecho.py --only music [--json FILE]``: the music conditions alone, printed (the JSON kept after each)."""
    import json

    def save(res: dict) -> None:
        if json_path:
            with open(json_path, "w") as f:
                json.dump(res, f, indent=1, default=str)

    res = bench_music(speakers, save=save)
    print("\n".join(md_music(res)))
    return 0
