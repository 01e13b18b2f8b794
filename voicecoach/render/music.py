"""Music files for the bed under the coach: found, checked, measured and decoded as the session goes.

Nothing here loads a file: :func:`playlist` probes each file with ffprobe
(before the session, so bad input is an error with its name before anything
is heard), :func:`measure_lufs` runs ffmpeg's own loudness meter over a
track once, and a :class:`Decoder` streams one track as float32 stereo at
the mix rate through an ffmpeg pipe (``-ss`` to start in its middle), a
block at a time. A three-hour playlist costs the memory of a few blocks.

A track's length is the one ffprobe reports, rounded to the mix rate's
frames: the decoded stream is cut or padded with silence to it, so where
every track sits in the session is known before it is decoded, the same
for a live session and an export.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from voicecoach.core import duck
from voicecoach.errors import MissingDependencyError, MusicError
from voicecoach.speech.clip import MIX_RATE_HZ

#: What a folder's files must end with to be taken as music (a file named on its own may be any format).
AUDIO_SUFFIXES = frozenset(
    [
        ".mp3",
        ".m4a",
        ".m4b",
        ".aac",
        ".mp4",
        ".ogg",
        ".oga",
        ".opus",
        ".flac",
        ".wav",
        ".wave",
        ".aif",
        ".aiff",
        ".wma",
        ".mka",
        ".webm",
        ".ape",
        ".wv",
    ]
)
CHANNELS = 2
_FRAME_BYTES = 4 * CHANNELS
_PROBE_TIMEOUT_S = 30.0
INSTALL_HINT = "Install ffmpeg (it has ffprobe): 'sudo apt-get install ffmpeg' or 'brew install ffmpeg'."


@dataclass(frozen=True)
class MusicRequest:
    """What ``--music`` and its options ask for (``play`` and ``export`` alike)."""

    sources: tuple[str, ...]  # files and folders, in the order given
    shuffle: int | None = None  # a seed: the same seed, the same order
    duck_db: float = duck.DUCK_DB
    volume_db: float = duck.MUSIC_VOLUME_DB  # the bed between cues, against the speech's loudness
    preset: str | None = None  # "accessible": deeper ducks (see voicecoach.core.duck.preset_duck)
    tracks: tuple[Track, ...] = ()  # the files probed, in play order (:meth:`probed`)

    @property
    def duck_in_effect(self) -> float:
        return duck.preset_duck(self.duck_db, self.volume_db, self.preset)

    def probed(self) -> MusicRequest:
        """The same request with its files found and checked (:class:`MusicError` names a bad one)."""
        return replace(self, tracks=tuple(playlist(self.sources, self.shuffle)))


@dataclass(frozen=True)
class Track:
    """One music file and its length in mix-rate frames."""

    path: Path
    frames: int


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise MissingDependencyError(
            f"{name} is needed to play music under the coach but was not found.", hint=INSTALL_HINT
        )
    return found


def files(sources: Sequence[str | os.PathLike[str]], shuffle: int | None = None) -> list[Path]:
    """The files of ``sources`` (files as given, folders' audio files by name, recursively), shuffled by seed."""
    found: list[Path] = []
    for source in sources:
        path = Path(source).expanduser()
        if path.is_dir():
            inside = sorted(
                (p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()),
                key=lambda p: str(p.relative_to(path)).casefold(),
            )
            if not inside:
                raise MusicError(f"music folder {path} has no audio files in it.", hint=_suffix_hint())
            found += inside
        else:
            found.append(path)
    if shuffle is not None:
        random.Random(shuffle).shuffle(found)
    return found


def _suffix_hint() -> str:
    return "Audio files end with one of: " + " ".join(sorted(AUDIO_SUFFIXES))


def probe(path: Path, ffprobe: str | None = None) -> Track:
    """``path`` checked to be a readable file with an audio track, and its length; :class:`MusicError` if not."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise MusicError(f"music file {path} does not exist.") from None
    except OSError as exc:
        raise MusicError(f"cannot read music file {path}: {exc.strerror or exc}.") from None
    if not path.is_file():
        raise MusicError(f"music file {path} is not a regular file.")
    if st.st_size == 0:
        raise MusicError(f"music file {path} is empty.")
    if not os.access(path, os.R_OK):
        raise MusicError(f"cannot read music file {path}: permission denied.")
    cmd = [
        ffprobe or _tool("ffprobe"),
        "-v",
        "error",
        "-show_entries",
        "stream=codec_type:format=duration",
        "-of",
        "json",
        "--",
        str(path),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=_PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise MusicError(f"music file {path} could not be read within {_PROBE_TIMEOUT_S:g} s.") from None
    try:
        info = json.loads(done.stdout or b"{}") if done.returncode == 0 else {}
    except ValueError:
        info = {}
    if done.returncode != 0 or "format" not in info:
        raise MusicError(f"music file {path} is not audio that ffmpeg can read.")
    if not any(s.get("codec_type") == "audio" for s in info.get("streams", [])):
        raise MusicError(f"music file {path} has no audio track.")
    try:
        duration = float(info["format"].get("duration", "nan"))
    except (TypeError, ValueError):
        duration = float("nan")
    frames = int(round(duration * MIX_RATE_HZ)) if duration == duration else 0
    if frames <= 0:
        raise MusicError(f"music file {path} has no length (no sound in it).")
    return Track(path, frames)


def playlist(sources: Sequence[str | os.PathLike[str]], shuffle: int | None = None) -> list[Track]:
    """Every file of ``sources`` probed, in play order: the music is known good before the session starts."""
    ffprobe = _tool("ffprobe")
    _tool("ffmpeg")
    return [probe(path, ffprobe) for path in files(sources, shuffle)]


_INTEGRATED = re.compile(rb"I:\s+(-?[0-9.]+|-inf) LUFS")


def measure_lufs(path: Path) -> float:
    """The track's integrated loudness (EBU R128, as stereo at the mix rate), by ffmpeg's own meter."""
    cmd = [
        _tool("ffmpeg"),
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-i",
        str(path),
        "-vn",
        "-af",
        f"aresample={MIX_RATE_HZ},aformat=channel_layouts=stereo,ebur128=framelog=verbose",
        "-f",
        "null",
        "-",
    ]
    done = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL)
    found = _INTEGRATED.findall(done.stderr)
    if done.returncode != 0 or not found:
        why = _last_line(done.stderr, path) or "it could not be decoded to measure its loudness"
        raise MusicError(f"music file {path} could not be decoded to measure its loudness.", path=path, why=why)
    return float(found[-1])


def _last_line(stderr: bytes, path: Path) -> str:
    """ffmpeg's last line of error, without the file's name it often starts with."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    if not lines:
        return ""
    last = lines[-1].strip()
    return last[len(f"{path}: ") :] if last.startswith(f"{path}: ") else last


LUFS_VERSION = 1  # bump when measure_lufs measures differently


def track_lufs(path: Path, cache_dir: Path | None = None) -> float:
    """:func:`measure_lufs`, kept in the clip cache (``<sha256>.lufs``) by the file's path, size and time.

    Measuring decodes the whole track once more (about a second of CPU for 3 minutes of MP3):
    an export or session that uses the same music again skips it. A file changed since
    (another size or modification time) is measured again; a cache that cannot be read or
    written only costs that second.
    """
    from voicecoach import atomic
    from voicecoach.speech.cache import cache_key, default_clip_dir, read_regular

    try:
        st = path.stat()
        key = cache_key("music-lufs", LUFS_VERSION, str(path.resolve()), st.st_size, st.st_mtime_ns, MIX_RATE_HZ)
    except OSError:
        return measure_lufs(path)
    entry = (cache_dir or default_clip_dir()) / f"{key}.lufs"
    try:
        found = float((read_regular(entry, 64) or b"").decode("ascii"))
        if found == found and found < 10.0:  # not NaN, not absurd: -inf (silence) is a true answer
            return found
    except ValueError:  # UnicodeDecodeError too: no entry, or a damaged one
        pass
    lufs = measure_lufs(path)
    try:
        atomic.write_atomic(entry, repr(lufs))
    except OSError:
        pass
    return lufs


class Decoder:
    """One track from frame ``offset`` on, decoded by ffmpeg as it is read: float32 stereo at the mix rate."""

    def __init__(self, track: Track, offset: int = 0) -> None:
        self.track = track
        cmd = [_tool("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"]
        if offset > 0:
            cmd += ["-ss", f"{offset / MIX_RATE_HZ:.6f}"]
        cmd += ["-i", str(track.path), "-vn", "-f", "f32le", "-ac", str(CHANNELS), "-ar", str(MIX_RATE_HZ), "pipe:1"]
        self._err = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall ffmpeg
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err)
        self._done = False

    def read(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames, (frames, 2); silence past the stream's end. :class:`MusicError` if ffmpeg failed."""
        out = np.zeros((frames, CHANNELS), dtype=np.float32)
        if self._done or frames <= 0:
            return out
        assert self._proc.stdout is not None
        data = self._proc.stdout.read(frames * _FRAME_BYTES)
        got = len(data) // _FRAME_BYTES
        if got:
            out[:got] = np.frombuffer(data, dtype="<f4", count=got * CHANNELS).reshape(got, CHANNELS)
        if got < frames:
            self._done = True
            if self._proc.wait() != 0:
                self._err.seek(0)
                why = _last_line(self._err.read(), self.track.path)
                said = f": {why}" if why else ""
                raise MusicError(
                    f"music file {self.track.path} stopped playing{said}", path=self.track.path, why=why or "it stopped"
                )
        return out

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._err.close()
