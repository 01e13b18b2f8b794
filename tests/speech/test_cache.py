"""The clip cache's size limit (least recently used first, the running session protected) and its commands."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from voicecoach.cli.settings import format_size
from voicecoach.speech.cache import ClipCache, Usage, cache_key
from voicecoach.speech.clip import MIX_RATE_HZ

FRAMES = 5000
CLIP_BYTES = 52 + 2 * FRAMES  # header + int16 samples
DAY = 86400.0


def fill(cache: ClipCache, n: int) -> list[str]:
    """``n`` clips, the first the least recently used (a day apart)."""
    keys = [cache_key("test", i) for i in range(n)]
    now = time.time()
    for i, key in enumerate(keys):
        cache.store(key, np.full(FRAMES, i, np.int16), MIX_RATE_HZ)
        os.utime(cache.path(key), (now - (n - i) * DAY, now - (n - i) * DAY))
    return keys


def left(cache: ClipCache, keys: list[str]) -> list[int]:
    return [i for i, key in enumerate(keys) if cache.path(key).exists()]


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_trim_removes_the_least_recently_used_first(tmp_path):
    cache = ClipCache(tmp_path)
    keys = fill(cache, 5)
    assert cache.usage() == Usage(clips=5, files=5, size=5 * CLIP_BYTES)
    gone = cache.trim(3 * CLIP_BYTES)
    assert gone == Usage(clips=2, files=2, size=2 * CLIP_BYTES)
    assert left(cache, keys) == [2, 3, 4]
    assert cache.trim(3 * CLIP_BYTES) == Usage(0, 0, 0)  # within the limit: nothing more goes


def test_a_protected_clip_survives_though_it_is_the_oldest(tmp_path):
    cache = ClipCache(tmp_path)
    keys = fill(cache, 5)
    cache.trim(3 * CLIP_BYTES, protect={keys[0]})
    assert left(cache, keys) == [0, 3, 4]


def test_protected_clips_stay_even_over_the_limit(tmp_path):
    cache = ClipCache(tmp_path)
    keys = fill(cache, 4)
    cache.trim(0, protect={keys[1], keys[2]})
    assert left(cache, keys) == [1, 2]


def test_loading_a_clip_makes_it_recently_used_once_per_run(tmp_path):
    keys = fill(ClipCache(tmp_path), 4)
    cache = ClipCache(tmp_path)  # a new run
    old = cache.path(keys[0]).stat().st_mtime
    assert cache.load(keys[0], MIX_RATE_HZ) is not None
    assert cache.path(keys[0]).stat().st_mtime > old + DAY
    os.utime(cache.path(keys[0]), (old, old))
    cache.load(keys[0], MIX_RATE_HZ)  # the second load in a run does not touch the file again
    assert cache.path(keys[0]).stat().st_mtime == old
    ClipCache(tmp_path).load(keys[0], MIX_RATE_HZ)
    ClipCache(tmp_path).trim(2 * CLIP_BYTES)
    assert left(cache, keys) == [0, 3]


def test_session_levels_count_and_go_by_age_too(tmp_path):
    cache = ClipCache(tmp_path)
    keys = fill(cache, 3)
    level = tmp_path / f"{cache_key('level')}.level"
    level.write_text("1.25")
    os.utime(level, (1.0, 1.0))  # older than every clip
    assert cache.usage() == Usage(clips=3, files=4, size=3 * CLIP_BYTES + 4)
    assert cache.trim(3 * CLIP_BYTES) == Usage(clips=0, files=1, size=4)
    assert not level.exists() and left(cache, keys) == [0, 1, 2]


def foreign_files(directory: Path, dead: int, live: int, outside: Path) -> list[str]:
    """Files that are not the cache's own, or not stale; they must all survive."""
    key = cache_key("x")
    names = [
        "notes.txt",
        "abc.clip",
        f"{key}.clip.bak",
        f"{key.upper()}.clip",
        f".notes.txt.{dead}.abcdef12.part",
        f".{key}.clip.{live}.abcdef12.part",
    ]
    for name in names:
        (directory / name).write_bytes(b"mine")
    (directory / f"{cache_key('dir')}.clip").mkdir()
    (directory / f"{cache_key('link')}.clip").symlink_to(outside)
    return sorted([*names, f"{cache_key('dir')}.clip", f"{cache_key('link')}.clip"])


def test_cache_clear_removes_only_its_own_files(run, tmp_path, monkeypatch, dead_pid, live_pid):
    directory = tmp_path / "clips"
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(directory))
    cache = ClipCache(directory)
    fill(cache, 3)
    (directory / f"{cache_key('level')}.level").write_text("1.25")
    stale = directory / f".{cache_key('y')}.clip.{dead_pid}.abcdef12.part"
    stale.write_bytes(b"half a clip")
    outside = tmp_path / "precious.clip"
    outside.write_bytes(b"not the cache's")
    kept = foreign_files(directory, dead_pid, live_pid, outside)
    result = run("cache", "clear")
    assert result.exit_code == 0
    assert result.output == f"Removed 3 clips ({format_size(3 * CLIP_BYTES + 4)}) from {directory}\n"
    assert sorted(p.name for p in directory.iterdir()) == kept
    assert outside.read_bytes() == b"not the cache's"
    assert run("cache", "clear").output == f"Removed 0 clips (0 bytes) from {directory}\n"


def test_trim_removes_stale_parts_of_its_own_files(tmp_path, dead_pid, live_pid):
    cache = ClipCache(tmp_path)
    key = cache_key("z")
    stale, writing = (tmp_path / f".{key}.clip.{pid}.abcdef12.part" for pid in (dead_pid, live_pid))
    stale.write_bytes(b"x")
    writing.write_bytes(b"x")
    cache.trim(10**9)
    assert not stale.exists() and writing.exists()


def test_cache_command(run, tmp_path, monkeypatch):
    directory = tmp_path / "clips"
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(directory))
    assert run("cache").output == (
        f"location: {directory} (from VOICECOACH_CACHE_DIR)\nsize: 0 bytes\nclips: 0\nlimit: 500 MB (default)\n"
    )
    fill(ClipCache(directory), 150)
    config = tmp_path / "config.toml"
    config.write_text("cache_limit_mb = 80\n")
    monkeypatch.setenv("VOICECOACH_CONFIG", str(config))
    assert run("cache").output == (
        f"location: {directory} (from VOICECOACH_CACHE_DIR)\nsize: 1.5 MB\nclips: 150\nlimit: 80 MB (config file)\n"
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (12_345, "12.3 kB"),
        (999_949, "999.9 kB"),
        (1_000_000, "1.0 MB"),
        (523_456_789, "523.5 MB"),
        (2_000_000_000, "2.0 GB"),
        (5 * 10**12, "5000.0 GB"),
    ],
    ids=str,
)
def test_format_size(size, text):
    assert format_size(size) == text


@pytest.mark.audio
def test_a_session_trims_the_cache_and_keeps_its_own_clips(run, tmp_path, monkeypatch):
    """A real session with a limit of 0: other clips go, the session's stay, and the next run makes none."""
    directory = tmp_path / "clips"
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(directory))
    config = tmp_path / "config.toml"
    config.write_text('cache_limit_mb = 0\nengine = "system"\n')
    monkeypatch.setenv("VOICECOACH_CONFIG", str(config))
    plan = tmp_path / "plan.yaml"
    plan.write_text("title: Short\nexercises:\n  - name: Bridge\n    setup: Lie down.\n    hold: 5\n")
    others = fill(ClipCache(directory), 3)
    assert run("show", str(plan)).exit_code == 0
    assert left(ClipCache(directory), others) == []
    session = sorted(p.name for p in directory.iterdir())
    assert session and all(name.endswith((".clip", ".level")) for name in session)
    inodes = {p.name: p.stat().st_ino for p in directory.iterdir()}
    assert run("show", str(plan)).exit_code == 0
    # Nothing evicted, nothing made again (a clip made again is a new file: a new inode).
    assert {p.name: p.stat().st_ino for p in directory.iterdir()} == inodes
