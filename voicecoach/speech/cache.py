"""A content-addressed disk cache of processed speech clips.

One file per phrase, ``<sha256>.clip``: an 8-byte magic, the sample rate,
the frame count and the sha256 of the payload, then 16-bit little-endian
PCM. Truncated or corrupt files fail the length or checksum test and count
as misses (the caller re-makes them). So does an entry that is not a regular
file (a symlink to ``/dev/zero``, a FIFO) or whose size is not what its header
says, or which says more than :data:`MAX_CLIP_S` of audio: it is never read
into memory, only replaced when the clip is made again. Writes go to a
temporary file first, then ``os.replace``, so readers never see half a file.

The cache has a size limit, kept by :meth:`ClipCache.trim` after a session
is prepared (not on every write): least recently used entries go first,
never one the running session needs. "Used" is the file's modification
time, set again when a clip is loaded (once per clip per run), because
access times are unreliable (``relatime``, ``noatime``). The session
levels (``<sha256>.level``, written by :mod:`voicecoach.render.prepare`)
and the loudness of music tracks (``<sha256>.lufs``, :mod:`voicecoach.render.music`)
live here too and follow the same rules. Only these three kinds of file, and
their stale part files, are ever removed: anything else in the folder is
left alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import struct
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.atomic import remove_stale_parts_in, write_atomic

# Bump when anything changes the audio we store (processing, format).
CACHE_FORMAT_VERSION = 1
ENV_VAR = "VOICECOACH_CACHE_DIR"

_MAGIC = b"VCCLIP\x00\x01"
_HEADER = struct.Struct("<8sIQ32s")  # magic, rate, frames, sha256(payload)
_log = logging.getLogger(__name__)
#: The longest clip an entry may hold. A phrase is at most a few plan texts of 1000 characters
#: (planfile.MAX_TEXT_CHARS): about 3000 characters, 7.5 minutes at the slowest rate (80 words a
#: minute); twice that. 15 minutes at 44.1 kHz are 79 MB: a bigger entry is damaged, never read.
MAX_CLIP_S = 15 * 60
# The cache's own files: a sha256 key and a known suffix. Nothing else is ever removed.
_OWN = re.compile(r"([0-9a-f]{64})\.(clip|level|lufs)\Z")  # lufs: a music track's loudness (render.music)


def default_clip_dir() -> Path:
    """``$VOICECOACH_CACHE_DIR`` if set, else ``<user cache dir>/voicecoach/clips``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs  # only needed here

    return Path(platformdirs.user_cache_dir("voicecoach")) / "clips"


def cache_key(*parts: object) -> str:
    """A stable hex key for ``parts`` (JSON-serialisable values) and the format version."""
    blob = json.dumps([CACHE_FORMAT_VERSION, *parts], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One file of the cache: a clip or a session level."""

    path: Path
    key: str
    size: int  # bytes
    used: float  # modification time: when it was last written or loaded


@dataclass(frozen=True)
class Usage:
    """What is in the cache (or what was removed from it)."""

    clips: int
    files: int  # clips and session levels
    size: int  # bytes


class ClipCache:
    """int16 mono clips by key in one directory. Disk trouble never fails a session."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._warned = False
        self._touched: set[str] = set()  # paths whose time of use is already fresh in this run

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.clip"

    def load(self, key: str, rate: int) -> np.ndarray | None:
        """The stored int16 samples, or None when missing, truncated, corrupt or at another rate.

        Only a regular file whose size is the one its header gives, at most
        :data:`MAX_CLIP_S` long, is read whole.
        """
        data = read_regular(self.path(key), _HEADER.size + 2 * MAX_CLIP_S * rate, header=_HEADER.size)
        if data is None:
            return None
        magic, stored_rate, frames, digest = _HEADER.unpack_from(data)
        payload = data[_HEADER.size :]
        if (
            magic != _MAGIC
            or stored_rate != rate
            or len(payload) != 2 * frames
            or hashlib.sha256(payload).digest() != digest
        ):
            return None
        self.touch(self.path(key))
        return np.frombuffer(payload, "<i2")

    def touch(self, path: Path) -> None:
        """Mark the cache file ``path`` as just used (once per run: a second time changes nothing)."""
        name = str(path)
        if name in self._touched:
            return
        self._touched.add(name)
        try:
            os.utime(path)
        except OSError:
            pass  # a read-only cache still works; it only trims less well

    def store(self, key: str, pcm: np.ndarray, rate: int) -> bool:
        """Write ``pcm`` (int16) atomically; on failure warn once, carry on and return False."""
        payload = np.ascontiguousarray(pcm, "<i2").tobytes()
        header = _HEADER.pack(_MAGIC, rate, len(payload) // 2, hashlib.sha256(payload).digest())
        try:
            write_atomic(self.path(key), header + payload)
            self._touched.add(str(self.path(key)))  # just written: fresh already
        except OSError as exc:
            if not self._warned:
                self._warned = True
                # Straight to the real stderr: the system voice swaps sys.stderr for a buffer while it
                # speaks (on another thread), and a warning logged then was lost at random.
                stream = sys.__stderr__
                if stream is not None:
                    stream.write(
                        f"voicecoach: note: cannot write the speech cache in {self.directory} "
                        f"({exc.strerror or exc}): voices will be made again next time.\n"
                    )
                    stream.flush()
            return False
        return True

    # -- size ------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """The cache's own files (clips and session levels); an unreadable folder has none."""
        found: list[Entry] = []
        try:
            listing = list(os.scandir(self.directory))
        except OSError:
            return found
        for item in listing:
            m = _OWN.match(item.name)
            if m is None:
                continue
            try:
                if not item.is_file(follow_symlinks=False):
                    continue
                st = item.stat(follow_symlinks=False)
            except OSError:
                continue  # removed meanwhile
            found.append(Entry(Path(item.path), m.group(1), st.st_size, st.st_mtime))
        return found

    def usage(self) -> Usage:
        """How many clips, and how many bytes the cache's own files take."""
        return _usage(self.entries())

    def trim(self, limit_bytes: int, protect: Collection[str] = ()) -> Usage:
        """Remove least recently used entries until the cache fits ``limit_bytes``; returns what went.

        Entries whose key is in ``protect`` (the running session's clips) are
        never removed, even if the cache stays over the limit. Part files of
        writers that were killed are removed too.
        """
        remove_stale_parts_in(self.directory, _owns)
        entries = self.entries()
        total = sum(e.size for e in entries)
        gone: list[Entry] = []
        for entry in sorted(entries, key=lambda e: e.used):
            if total <= limit_bytes:
                break
            if entry.key in protect:
                continue
            if _remove(entry.path):
                gone.append(entry)
                total -= entry.size
        return _usage(gone)

    def clear(self) -> Usage:
        """Remove every clip and session level, and stale part files; nothing else in the folder."""
        remove_stale_parts_in(self.directory, _owns)
        return _usage([e for e in self.entries() if _remove(e.path)])


def read_regular(path: Path, limit: int, *, header: int = 0) -> bytes | None:
    """The whole of ``path`` if it is a regular file (not a symlink) of at most ``limit`` bytes, else None.

    Checked on the open descriptor before anything is read: a symlink (to
    ``/dev/zero``...), a FIFO or a huge file costs one ``fstat``. With
    ``header``, a file shorter than that is None too. For the cache's own
    entries, which it only ever writes as regular files of known size.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not header <= st.st_size <= limit:
            return None
        with open(fd, "rb", closefd=False) as f:
            data = f.read(st.st_size + 1)
        return data if len(data) == st.st_size else None  # changed while read: as damaged
    except OSError:
        return None
    finally:
        os.close(fd)


def _owns(name: str) -> bool:
    return _OWN.match(name) is not None


def _remove(path: Path) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False  # another run removed it first
    except OSError as exc:
        _log.warning("cannot remove %s from the speech cache: %s", path, exc)
        return False


def _usage(entries: list[Entry]) -> Usage:
    return Usage(
        clips=sum(e.path.suffix == ".clip" for e in entries), files=len(entries), size=sum(e.size for e in entries)
    )
