"""A music track's loudness is measured once (ffmpeg's meter), then kept in the clip cache."""

from __future__ import annotations

import os
import subprocess

import pytest

from voicecoach.render import music
from voicecoach.speech.cache import ClipCache

pytestmark = pytest.mark.audio


def test_measured_once_again_when_the_file_changes(tmp_path, monkeypatch):
    song = tmp_path / "song.flac"
    make = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
    subprocess.run([*make, "sine=f=440:d=2", str(song)], check=True)
    calls = []
    real = music.measure_lufs
    monkeypatch.setattr(music, "measure_lufs", lambda path: calls.append(path) or real(path))
    cache = tmp_path / "cache"
    first = music.track_lufs(song, cache)
    assert music.track_lufs(song, cache) == first and len(calls) == 1
    assert first == pytest.approx(real(song))
    (entry,) = cache.glob("*.lufs")
    assert [e.path for e in ClipCache(cache).entries()] == [entry]  # the cache's own: trimmed like the rest
    subprocess.run([*make, "sine=f=440:d=2,volume=0.25", str(song)], check=True)
    os.utime(song, ns=(1, 1))  # another time too, however fast the rewrite was
    assert music.track_lufs(song, cache) == pytest.approx(first - 12.04, abs=0.1) and len(calls) == 2
    (newer,) = set(cache.glob("*.lufs")) - {entry}
    newer.write_text("nan")  # damaged: measured again, never used
    assert music.track_lufs(song, cache) == pytest.approx(first - 12.04, abs=0.1) and len(calls) == 3
