"""`voicecoach export` as a user runs it: real espeak-ng, real ffmpeg, checked with ffprobe."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.audio


def _vc(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True, env=env, check=check
    )


def _ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _vtt_cues(text: str) -> list[tuple[float, float, str]]:
    def secs(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    blocks = [b for b in text.split("\n\n")[1:] if b.strip()]
    out = []
    for b in blocks:
        times, words = b.split("\n", 1)
        a, z = times.split(" --> ")
        out.append((secs(a), secs(z), words.strip()))
    return out


@pytest.fixture(scope="module")
def env(tmp_path_factory, clip_cache):
    d = tmp_path_factory.mktemp("export")
    return dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(d / "data"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory, env):
    d = tmp_path_factory.mktemp("out")
    out = d / "session.mp3"
    timeline = json.loads(_vc("show", "inner-knee", "--json", "--engine", "system", env=env).stdout)
    result = _vc("export", "inner-knee", "-o", str(out), "--captions", "vtt", "--engine", "system", env=env)
    return timeline, out, result


@pytest.mark.slow  # the first to use `exported`: a whole session exported
def test_mp3_matches_the_timeline(exported):
    timeline, out, result = exported
    assert result.stdout.startswith(f"Wrote {out} (")
    assert result.stderr == ""  # piped: no progress bar, nothing but errors
    info = _ffprobe(out)
    fmt = info["format"]
    # MP3 starts with the encoder delay (start_time); the audio itself is the timeline's length.
    duration = float(fmt["duration"]) - float(fmt.get("start_time", 0))
    assert duration == pytest.approx(timeline["duration_s"], abs=0.05)
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c["title"] for c in timeline["chapters"]]
    for got, want in zip(chapters, timeline["chapters"]):
        assert float(got["start_time"]) == pytest.approx(want["start_s"], abs=0.05)
    tags = {k.lower(): v for k, v in fmt["tags"].items()}
    assert tags["title"] == "Inner knee pain" and tags["album"] == "Inner knee pain"
    # A new user's journal: each exercise at its low end, said as the journal's doses.
    assert tags["comment"].startswith("doses from the training journal; voice ")


@pytest.mark.slow  # uses `exported`
def test_vtt_captions_match_the_spoken_cues(exported):
    timeline, out, _ = exported
    cues = _vtt_cues(out.with_suffix(".vtt").read_text(encoding="utf-8"))
    want = [(c["start_s"], c["end_s"], c["text"]) for c in timeline["cues"]]
    assert [c[2] for c in cues] == [w[2] for w in want]
    for (a, z, _), (wa, wz, _) in zip(cues, want):
        assert a == pytest.approx(wa, abs=0.0015) and z == pytest.approx(wz, abs=0.0015)


@pytest.mark.slow
def test_second_export_synthesizes_nothing(exported, env, tmp_path):
    cache = Path(env["VOICECOACH_CACHE_DIR"])
    before = sorted(p.name for p in cache.iterdir())
    _vc("export", "inner-knee", "-o", str(tmp_path / "again.ogg"), "--engine", "system", env=env)
    assert sorted(p.name for p in cache.iterdir()) == before


def test_unknown_extension_is_a_clear_error(env, tmp_path):
    result = _vc("export", "inner-knee", "-o", str(tmp_path / "s.xyz"), env=env, check=False)
    assert result.returncode == 1
    assert "unsupported file type ('.xyz')" in result.stderr and ".mp3" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_directory_is_a_clear_error(env, tmp_path):
    result = _vc("export", "inner-knee", "-o", str(tmp_path / "nope" / "s.mp3"), env=env, check=False)
    assert result.returncode == 6
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # uses `exported`
def test_killed_export_leaves_no_file_and_keeps_the_old_one(exported, env, tmp_path):
    target = tmp_path / "session.flac"
    target.write_bytes(b"an earlier export")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voicecoach",
            "export",
            "inner-knee",
            "--level",
            "high",
            "-o",
            str(target),
            "--engine",
            "system",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not any(re.match(r"\.session\.flac\..*\.part$", p.name) for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"Stopped before the export was finished: nothing was written; the earlier" in err
    assert b"Traceback" not in err
    assert target.read_bytes() == b"an earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["session.flac"]


SHORT_PLAN = """\
title: Short
safety: Stop if it hurts.
defaults: {countdown: 3, get_ready: 3, rest_between_exercises: 5}
exercises:
  - {name: Stretch, setup: Sit down and reach for your toes., hold: 20, sets: 2, rest_between_sets: 5}
  - {name: Lift, setup: Lie on your back and lift one leg., reps: 4, sides: each}
  - {name: Walk, setup: Walk on the spot., minutes: 1}
"""


@pytest.mark.slow
def test_a_cold_export_is_sample_for_sample_a_warm_one(tmp_path):
    """On an empty cache export synthesizes while it measures the level; the audio is the warm export's."""
    import wave

    plan = tmp_path / "short.yaml"
    plan.write_text(SHORT_PLAN)
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(tmp_path / "cache"), VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    pcm = {}
    for case in ("cold", "warm"):  # the default voice: the neural one when installed (it never repeats itself)
        out = tmp_path / f"{case}.wav"
        _vc("export", str(plan), "-o", str(out), env=env)
        with wave.open(str(out)) as w:
            pcm[case] = w.readframes(w.getnframes())
    assert len(pcm["cold"]) > 44100 * 2 * 60
    assert pcm["cold"] == pcm["warm"]


OWN_PACE_PLANS = {
    "on-the-exercise": "title: Own pace\nexercises:\n"
    "  - {name: Stand, setup: Stand up., reps: 5, sets: 2, rest_between_sets: 5, pace: self, estimate: 12}\n",
    "in-defaults": "title: Own pace\ndefaults: {pace: self, estimate: 12}\nexercises:\n"
    "  - {name: Stand, setup: Stand up., reps: 5, sets: 2, rest_between_sets: 5}\n",
}


@pytest.mark.parametrize("where", sorted(OWN_PACE_PLANS))
def test_a_self_paced_set_is_exported_at_its_estimate_with_one_note_at_the_start(tmp_path, env, where):
    plan = tmp_path / "own-pace.yaml"
    plan.write_text(OWN_PACE_PLANS[where])
    out = tmp_path / "own-pace.wav"
    _vc("export", str(plan), "-o", str(out), "--transcript", "--engine", "system", env=env)
    lines = out.with_suffix(".txt").read_text().splitlines()
    noted = [line for line in lines if "if you need more time, pause the player." in line]
    assert len(noted) == 1 and "[intro]" in noted[0]
    starts = [line for line in lines if "In your own time. Begin." in line]
    stops = [line for line in lines if "Stop. Relax." in line]
    assert len(starts) == len(stops) == 2

    def at(line: str) -> float:
        h, m, s = line.split()[0].split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    assert [round(at(b) - at(a), 1) for a, b in zip(starts, stops)] == [12.0, 12.0]  # the estimate
