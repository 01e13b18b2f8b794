"""`voicecoach export --music` as a user runs it: a stereo file with its chapters; bad music named, exit 7."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.audio

PLAN = """\
title: Short
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2}
exercises:
  - {name: Stretch, setup: Sit., hold: 6}
  - {name: Lift, setup: Lie down., reps: 2, tempo: {lift: 1, lower: 1}}
"""


def _vc(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True, env=env)


@pytest.fixture
def env(tmp_path, clip_cache):
    return dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(tmp_path / "data"))


def _probe(path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_music_makes_a_stereo_export_with_the_same_chapters(tmp_path, env):
    plan = tmp_path / "p.yaml"
    plan.write_text(PLAN)
    songs = tmp_path / "songs"
    songs.mkdir()
    for name, hz in (("1.ogg", 220), ("2.m4a", 330)):
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"sine=f={hz}:d=8", str(songs / name)],
            check=True,
        )
    common = ("--engine", "system", "--level", "low")
    plain = _vc("export", str(plan), *common, "-o", str(tmp_path / "plain.ogg"), env=env)
    assert plain.returncode == 0, plain.stderr
    result = _vc(
        "export", str(plan), *common, "--music", str(songs), "--shuffle", "3", "-o", str(tmp_path / "m.ogg"), env=env
    )
    assert result.returncode == 0, result.stderr
    with_music, without = _probe(tmp_path / "m.ogg"), _probe(tmp_path / "plain.ogg")
    assert [s["channels"] for s in with_music["streams"] if s["codec_type"] == "audio"] == [2]
    assert [s["channels"] for s in without["streams"] if s["codec_type"] == "audio"] == [1]
    assert with_music["chapters"] == without["chapters"]


@pytest.mark.parametrize(
    ("music", "said"),
    [("missing.mp3", "does not exist"), ("p.yaml", "is not audio"), ("empty", "has no audio files")],
)
def test_bad_music_stops_the_export_before_any_work(tmp_path, env, music, said):
    plan = tmp_path / "p.yaml"
    plan.write_text(PLAN)
    (tmp_path / "empty").mkdir()
    result = _vc(
        "export",
        str(plan),
        "--engine",
        "system",
        "--music",
        str(tmp_path / music),
        "-o",
        str(tmp_path / "x.mp3"),
        env=env,
    )
    assert result.returncode == 7
    assert result.stderr.startswith("voicecoach: error: ") and said in result.stderr
    assert str(tmp_path / music) in result.stderr
    assert not (tmp_path / "x.mp3").exists()
