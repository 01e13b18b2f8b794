"""Prepared sessions: real voice lengths, one loudness gain, live identical to the file."""

from __future__ import annotations

import re
import subprocess
import wave

import numpy as np
import pytest
from helpers.timeline_rules import assert_rules

from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options
from voicecoach.export.encode import export
from voicecoach.live.coach import Coach
from voicecoach.live.status import Output
from voicecoach.render import mix
from voicecoach.render.prepare import prepare, session_gain
from voicecoach.speech.clip import pcm16_bytes
from voicecoach.speech.speaker import SpeechSettings

pytestmark = pytest.mark.audio

PLAN = parse_plan("""\
title: Short
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2}
exercises:
  - {name: Stretch, setup: Sit., hold: 6}
  - {name: Lift, setup: Lie down., reps: 2, tempo: {lift: 1, lower: 1}}
""")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    # A cache of its own, not the shared one: the gain test counts the .level files in it.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOICECOACH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield prepare(PLAN, Options(), SpeechSettings(engine="system"))


def test_timeline_uses_real_clip_lengths(prepared):
    for cue in prepared.timeline.cues:
        assert cue.end_s - cue.start_s == pytest.approx(prepared.clips[cue.text].duration_s, abs=1e-6)
    assert_rules(PLAN, Options(), prepared.timeline)


def test_gain_is_measured_once_then_cached(prepared):
    g = session_gain(prepared)
    assert 0.1 < g < 20
    levels = list(prepared.speaker.cache.directory.glob("*.level"))
    assert len(levels) == 1
    levels[0].write_text("0.5 -16.0")  # what a later run reads back, without measuring
    assert session_gain(prepared) == 0.5
    levels[0].unlink()


@pytest.mark.parametrize(
    "damaged",
    ["nan -16.0", "0 -16.0", "100 -16.0", "0.5 nan", "0.5", "", "\x00\xff"],
    ids=["nan", "zero", "hundred", "nan-lufs", "old-format", "empty", "binary"],
)
def test_a_damaged_level_is_measured_again(prepared, damaged):
    g = session_gain(prepared)
    (level,) = prepared.speaker.cache.directory.glob("*.level")
    level.write_text(damaged)
    assert session_gain(prepared) == g  # measured again, not trusted
    assert level.read_text() != damaged  # and written back whole


LOUDNORM = re.compile(r'"input_(i|tp)" : "(-?[\d.]+|-inf)"')


@pytest.mark.parametrize("ext", [".wav", ".mp3", ".m4a", ".ogg", ".opus"])
def test_exports_measure_minus_16_lufs_with_true_peak_under_minus_1(prepared, tmp_path, ext):
    """The promise, checked with ffmpeg's own EBU R128 meter (loudnorm's first pass) on the file."""
    out = tmp_path / f"s{ext}"
    export(prepared.timeline, prepared.clips, out, gain=session_gain(prepared))
    err = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(out), "-af", "loudnorm=print_format=json", "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    found = dict(LOUDNORM.findall(err))
    # LAME at 96 kb/s decodes 0.45 dB quieter than its input (a 1 kHz sine too): the README says so.
    assert abs(float(found["i"]) + 16.0) <= (0.8 if ext == ".mp3" else 0.5), found
    assert float(found["tp"]) <= -1.0, found


def test_live_stream_is_sample_for_sample_the_exported_file(prepared, tmp_path):
    gain = session_gain(prepared)
    out = tmp_path / "s.wav"
    export(prepared.timeline, prepared.clips, out, gain=gain)
    with wave.open(str(out)) as w:
        file_pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    coach = Coach(prepared, player=None, output=Output("quiet"), gain=gain)
    live_pcm = np.frombuffer(b"".join(pcm16_bytes(b) for b in coach.playback.session_blocks(0.0)), dtype="<i2")
    assert len(file_pcm) == len(live_pcm) == mix.total_frames(prepared.timeline)
    assert np.array_equal(file_pcm, live_pcm)
    assert np.abs(file_pcm).max() > 1000  # not silence
