"""A content-addressed disk cache of processed speech clips.

One file per phrase, ``<sha256>.clip``: an 8-byte magic, the sample rate,
the frame count and the sha256 of the payload, then 16-bit little-endian
PCM. Truncated or corrupt files fail the length or checksum test and count
as misses (the caller re-makes them). Writes go to a temporary file first,
then ``os.replace``, so readers never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from pathlib import Path

import numpy as np

from voicecoach.atomic import write_atomic

# Bump when anything changes the audio we store (processing, format).
CACHE_FORMAT_VERSION = 1
ENV_VAR = "VOICECOACH_CACHE_DIR"

_MAGIC = b"VCCLIP\x00\x01"
_HEADER = struct.Struct("<8sIQ32s")  # magic, rate, frames, sha256(payload)
_log = logging.getLogger(__name__)


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


class ClipCache:
    """int16 mono clips by key in one directory. Disk trouble never fails a session."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._warned = False

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.clip"

    def load(self, key: str, rate: int) -> np.ndarray | None:
        """The stored int16 samples, or None when missing, truncated, corrupt or at another rate."""
        try:
            data = self.path(key).read_bytes()
        except OSError:
            return None
        if len(data) < _HEADER.size:
            return None
        magic, stored_rate, frames, digest = _HEADER.unpack_from(data)
        payload = data[_HEADER.size:]
        if (magic != _MAGIC or stored_rate != rate or len(payload) != 2 * frames
                or hashlib.sha256(payload).digest() != digest):
            return None
        return np.frombuffer(payload, "<i2")

    def store(self, key: str, pcm: np.ndarray, rate: int) -> bool:
        """Write ``pcm`` (int16) atomically; on failure log a warning once, carry on and return False."""
        payload = np.ascontiguousarray(pcm, "<i2").tobytes()
        header = _HEADER.pack(_MAGIC, rate, len(payload) // 2, hashlib.sha256(payload).digest())
        try:
            write_atomic(self.path(key), header + payload)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                _log.warning("cannot write the speech cache in %s: %s", self.directory, exc)
            return False
        return True
