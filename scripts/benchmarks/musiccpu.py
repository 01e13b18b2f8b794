"""Where the CPU of an export with music goes: this process against its ffmpeg children, WAV and MP3.

Usage: ``.venv/bin/python scripts/benchmarks/musiccpu.py MUSIC_FOLDER [CACHE_DIR]``

One process, the clip cache warmed first (not measured): the built-in
``inner-knee`` at ``--level mid`` exported with ``export.export`` to WAV and to
MP3, each without and with the music, printing wall time and CPU time
(``getrusage``) of this process (the mixer, the bed, the limiter, the int16
conversion) and of its children (ffmpeg: the encoder, and with music the
decoders and the loudness meter of tracks not measured before). WAV's
encoder does next to nothing, so the MP3 rows less the WAV rows are LAME's.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent.parent), str(HERE.parent)]


def _cpu() -> tuple[float, float]:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


def main(music: str, cache: str) -> None:
    os.environ["VOICECOACH_CACHE_DIR"] = cache
    from benchmarks.child import make_plan

    from voicecoach.export.encode import export
    from voicecoach.render.bed import for_session
    from voicecoach.render.music import playlist
    from voicecoach.render.prepare import prepare, session_gain
    from voicecoach.speech.speaker import SpeechSettings

    plan, options = make_plan({"builtin": "inner-knee", "level": "mid"})
    prepared = prepare(plan, options, SpeechSettings())
    gain = session_gain(prepared)
    tracks = playlist([music])
    print(f"session {prepared.timeline.duration_s / 60:.1f} min; {len(tracks)} music files; load {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as out:
        for ext in (".wav", ".mp3"):
            for with_music in (False, True):
                bed = for_session(prepared.timeline, tracks, target_lufs=-16.0) if with_music else None
                (s0, c0), t0 = _cpu(), time.perf_counter()
                export(prepared.timeline, prepared.clips, Path(out) / f"x{ext}", gain=gain, bed=bed)
                (s1, c1), wall = _cpu(), time.perf_counter() - t0
                print(
                    f"{ext} {'with' if with_music else 'without'} music: wall {wall:.1f} s, this process "
                    f"{s1 - s0:.1f} s CPU, ffmpeg children {c1 - c0:.1f} s CPU",
                    flush=True,
                )
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="vc-musiccpu-"))
