"""Fault injection, the clip cache: an entry that is huge, or not a regular file, is damaged and made again.

A clip entry or a session level replaced by a 2 GB (sparse) file or a symlink
to /dev/zero must never be read into memory: the export runs under a 1.5 GB
address-space limit, succeeds, and leaves real clips in their place.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from helpers.plans import TINY

from voicecoach.speech.cache import ClipCache

LIMIT = 1536 * 1024 * 1024


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


@contextlib.contextmanager
def _at_most_1gb_more() -> Iterator[None]:
    """This process may grow by 1 GB at most while the block runs: a fault is a MemoryError, not the OOM killer."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        size = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (size + 1024**3, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _damage(path: Path, kind: str) -> None:
    path.unlink()
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        with open(path, "wb") as f:
            f.truncate(2 * 1024**3)


@pytest.mark.audio
@pytest.mark.parametrize("kind", ["dev-zero", "huge"])
def test_damaged_entries_are_made_again_without_reading_them(tmp_path, kind):
    plan = tmp_path / "tiny.yaml"
    plan.write_text(TINY)
    cache = tmp_path / "cache"
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(cache))
    cmd = [sys.executable, "-m", "voicecoach", "export", str(plan), "--engine", "system", "-o", str(tmp_path / "s.wav")]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    entries = sorted(p for p in cache.iterdir() if p.suffix in (".clip", ".level"))
    assert any(p.suffix == ".level" for p in entries)
    for p in entries:
        _damage(p, kind)
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, preexec_fn=_limited)
    assert again.returncode == 0, again.stderr
    assert "error" not in again.stderr
    for p in entries:
        assert not p.is_symlink() and p.stat().st_size < 10_000_000, p  # made again, a real clip


def test_read_regular_refuses_without_reading(tmp_path):
    from voicecoach.speech.cache import read_regular

    (tmp_path / "zero").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo")
    with open(tmp_path / "huge", "wb") as f:
        f.truncate(2 * 1024**3)
    (tmp_path / "small").write_bytes(b"12345")
    with _at_most_1gb_more():
        assert read_regular(tmp_path / "zero", 100) is None
        assert read_regular(tmp_path / "fifo", 100) is None  # and it does not block
        assert read_regular(tmp_path / "huge", 10**6) is None
    assert read_regular(tmp_path / "small", 100) == b"12345"
    assert read_regular(tmp_path / "small", 100, header=6) is None
    assert read_regular(tmp_path / "missing", 100) is None


def test_a_damaged_clip_is_a_miss_and_is_replaced(tmp_path):
    cache = ClipCache(tmp_path)
    pcm = np.arange(100, dtype=np.int16)
    cache.store("a" * 64, pcm, 44100)
    _damage(cache.path("a" * 64), "dev-zero")
    with _at_most_1gb_more():
        assert cache.load("a" * 64, 44100) is None
    cache.store("a" * 64, pcm, 44100)
    assert not cache.path("a" * 64).is_symlink()
    assert np.array_equal(cache.load("a" * 64, 44100), pcm)
