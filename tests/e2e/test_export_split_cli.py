"""`voicecoach export --split` as a user runs it: a folder of files, one per exercise, cut at each first cue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from helpers.plans import TWO

pytestmark = pytest.mark.audio

COMMON = ("--engine", "system", "--level", "low")


def _vc(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True, env=env)


def _frames(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, w.getnchannels())


@pytest.fixture
def env(tmp_path, clip_cache):
    return dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(tmp_path / "data"))


@pytest.fixture
def plan(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(TWO)
    return path


def test_a_file_per_exercise_each_from_its_first_cue(tmp_path, env, plan):
    result = _vc(
        "export", str(plan), *COMMON, "--split", "--captions", "srt", "-o", str(tmp_path / "walk.mp3"), env=env
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "walk"
    assert result.stdout.splitlines()[-1].startswith(f"Wrote {folder}{os.sep} (")
    assert result.stdout.splitlines()[-1].endswith(", 4 files, walk.m3u8, srt captions)")
    names = ["01 Introduction.mp3", "02 Alpha.mp3", "03 Beta.mp3", "04 Finish.mp3"]
    assert sorted(os.listdir(folder)) == sorted(["walk.m3u8", *names, *(n.replace(".mp3", ".srt") for n in names)])
    playlist = (folder / "walk.m3u8").read_text(encoding="utf-8").splitlines()
    assert playlist[0] == "#EXTM3U" and [n for n in playlist if not n.startswith("#")] == names
    # Each file starts at its exercise's first cue (the end's, for the last): the decoded lengths add up to them.
    shown = json.loads(_vc("show", str(plan), *COMMON, "--json", env=env).stdout)
    firsts = [next(c["start_s"] for c in shown["cues"] if c["exercise"] == name) for name in ("Alpha", "Beta")]
    firsts.append(next(c["start_s"] for c in shown["cues"] if c["kind"] == "end"))
    counts = []
    for name in names:
        raw = subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(folder / name), "-f", "s16le", "-"],
            capture_output=True,
            check=True,
        ).stdout
        counts.append(len(raw) // 2)
    assert list(np.cumsum(counts)[:-1]) == [round(t * 44100) for t in firsts]
    assert sum(counts) == round(shown["duration_s"] * 44100)
    srt = (folder / "03 Beta.srt").read_text(encoding="utf-8")
    assert srt.startswith("1\n00:00:00,000 --> ") and "Exercise 2 of 2: Beta." in srt


def test_with_music_the_files_are_the_single_export_cut(tmp_path, env, plan):
    song = tmp_path / "song.ogg"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=220:d=20", str(song)], check=True
    )
    music = ("--music", str(song))
    single = _vc("export", str(plan), *COMMON, *music, "-o", str(tmp_path / "one.wav"), env=env)
    assert single.returncode == 0, single.stderr
    parted = _vc("export", str(plan), *COMMON, *music, "--split", "-o", str(tmp_path / "walk.wav"), env=env)
    assert parted.returncode == 0, parted.stderr
    listed = [n for n in (tmp_path / "walk" / "walk.m3u8").read_text().splitlines() if not n.startswith("#")]
    joined = np.concatenate([_frames(tmp_path / "walk" / n) for n in listed])
    whole = _frames(tmp_path / "one.wav")
    assert joined.shape[1] == 2 and np.array_equal(joined, whole)


def test_a_folder_it_did_not_write_is_refused_with_one_line(tmp_path, env, plan):
    (tmp_path / "walk").mkdir()
    (tmp_path / "walk" / "photo.jpg").write_bytes(b"mine")
    result = _vc("export", str(plan), *COMMON, "--split", "-o", str(tmp_path / "walk.mp3"), env=env)
    assert result.returncode == 6
    assert result.stderr == (
        f"voicecoach: error: cannot write {tmp_path / 'walk'}{os.sep}: it is a folder an earlier --split "
        "did not write (it holds photo.jpg).\n"
    )
    assert os.listdir(tmp_path / "walk") == ["photo.jpg"]
