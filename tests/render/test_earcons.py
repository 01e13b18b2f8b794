"""Earcons: shape, level, soft edges, and the committed WAVs are reproducible."""

from __future__ import annotations

import subprocess
import sys
import wave
from itertools import combinations

import numpy as np
import pytest
from helpers.files import ROOT

from voicecoach.render.earcons import NAMES, PEAK_DBFS, earcon, wav_bytes
from voicecoach.speech.clip import MIX_RATE_HZ


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_length_level_and_rate(name):
    clip = earcon(name)
    assert clip.sample_rate_hz == MIX_RATE_HZ
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert 0.060 <= clip.duration_s <= 0.400
    peak_db = 20 * np.log10(np.max(np.abs(clip.samples)))
    assert abs(peak_db - PEAK_DBFS) < 0.05


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_soft_attack_and_release(name):
    s = np.abs(earcon(name).samples)
    peak = s.max()
    # Starts and ends on (near) zero: no step, so no click.
    assert s[0] < 1e-3 * peak and s[-1] < 1e-3 * peak
    # And gets there gradually: the first and last millisecond stay quiet.
    ms = MIX_RATE_HZ // 1000
    assert s[:ms].max() < 0.5 * peak
    assert s[-ms:].max() < 0.5 * peak


def test_cached_and_read_only():
    assert earcon("tick") is earcon("tick")
    with pytest.raises(ValueError):
        earcon("tick").samples[0] = 1.0


def test_unknown_name():
    with pytest.raises(ValueError, match="start, stop, tick, switch, end"):
        earcon("gong")


def test_all_distinct():
    for a, b in combinations(NAMES, 2):
        sa, sb = earcon(a).samples, earcon(b).samples
        assert sa.shape != sb.shape or not np.allclose(sa, sb), (a, b)


def _dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size), n=1 << 15))
    return float(np.argmax(spectrum)) * MIX_RATE_HZ / (1 << 15)


def test_start_rises_and_stop_falls():
    for name, rising in (("start", True), ("stop", False)):
        s = earcon(name).samples
        head, tail = s[: s.size * 2 // 5], s[-s.size * 2 // 5 :]
        assert (_dominant_hz(tail) > _dominant_hz(head)) == rising, name


def test_switch_is_two_blips():
    env = np.abs(earcon("switch").samples)
    frame = MIX_RATE_HZ // 200  # 5 ms windows
    levels = np.array([env[i : i + frame].max() for i in range(0, env.size - frame, frame)])
    loud = levels > 0.3 * levels.max()
    # Count quiet->loud transitions: two separate blips.
    assert int(np.sum(loud[1:] & ~loud[:-1])) + int(loud[0]) == 2


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_committed_wav_matches_generator(name):
    path = ROOT / "audio" / f"{name}.wav"
    assert path.read_bytes() == wav_bytes(name), "run scripts/make-earcons and commit audio/"
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 44100)
        assert w.getnframes() == earcon(name).frames


def test_make_earcons_check_passes():
    script = ROOT / "scripts" / "make-earcons"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_make_earcons_writes_identical_files(tmp_path):
    script = ROOT / "scripts" / "make-earcons"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    for name in NAMES:
        assert (tmp_path / f"{name}.wav").read_bytes() == (ROOT / "audio" / f"{name}.wav").read_bytes()
