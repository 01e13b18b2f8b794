"""CPU of a live session with music: `voicecoach play` without and with `--music`, on a private null sink.

Run from the repository: `.venv/bin/python scripts/benchmarks/live_music_cpu.py`. A session of
about 20 s (tests/helpers/plans.py SHORT, espeak-ng, the clip cache and the level warmed by an
export first), each run a fresh process; the CPU is the process's and its children's (user + system:
Python's start, the mixer, PortAudio, and with music the ffmpeg decoder and the loudness measure of
the file), medians of 3. The music is a 4-minute stereo MP3 made by ffmpeg.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from helpers.plans import SHORT  # noqa: E402
from helpers.pulse import PulseServer  # noqa: E402


def _cpu(cmd: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    d = Path(tempfile.mkdtemp())
    plan = d / "short.yaml"
    plan.write_text(SHORT)
    song = d / "song.mp3"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=220:d=240", "-ac", "2", str(song)],
        check=True,
    )
    server = PulseServer()
    server.start()
    try:
        env = dict(
            os.environ,
            **server.client_env(),
            VOICECOACH_CACHE_DIR=str(d / "cache"),
            VOICECOACH_DATA_DIR=str(d / "data"),
            VOICECOACH_CONFIG=str(d / "none.toml"),
        )
        vc = [sys.executable, "-m", "voicecoach"]
        common = [str(plan), "--engine", "system", "--level", "low"]
        subprocess.run([*vc, "export", *common, "-o", str(d / "x.wav")], env=env, check=True, capture_output=True)
        play = [*vc, "play", *common, "--plain", "--no-check-in", "--no-mpris"]
        load = os.getloadavg()[0]
        for case, extra in (("without music", []), ("with --music (a 4-minute MP3)", ["--music", str(song)])):
            runs = [_cpu([*play, *extra], env) for _ in range(3)]
            print(f"{case}: {[round(r, 2) for r in runs]} s, median {statistics.median(runs):.2f} s")
        print(f"1-minute load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
