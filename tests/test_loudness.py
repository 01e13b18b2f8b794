"""The loudness meter, pure numpy: BS.1770 reference values, the gain rule, the silence shortcut.

Its agreement with ffmpeg's ebur128 filter is checked in test_export.py (needs ffmpeg).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from voicecoach.render import loudness
from voicecoach.render.loudness import LoudnessMeter, k_weighting_sos
from voicecoach.speech.clip import MIX_RATE_HZ

RATE = MIX_RATE_HZ


def _reference_blocks(x: np.ndarray, rate: int) -> np.ndarray:
    y = signal.sosfilt(k_weighting_sos(rate), x.astype(np.float64))
    hop = int(round(0.1 * rate))
    hops = np.add.reduceat(y * y, np.arange(0, len(y) // hop * hop, hop))[: len(y) // hop]
    return np.array([hops[i - 3:i + 1].sum() / (4 * hop) for i in range(3, len(hops))])


def test_silence_shortcut_matches_full_filtering():
    rate = 44100
    rng = np.random.default_rng(1)
    parts = []
    for _ in range(12):  # bursts of sound between long stretches of digital silence
        parts.append(0.3 * rng.standard_normal(int(rate * rng.uniform(0.2, 1.5))))
        parts.append(np.zeros(int(rate * rng.uniform(0.05, 3.0))))
    x = np.concatenate(parts).astype(np.float32)
    meter = LoudnessMeter(rate)
    for chunk in np.array_split(x, 37):  # odd split: hops straddle blocks
        meter.feed(chunk)
    got = np.frombuffer(meter._blocks, dtype=np.float64)
    want = _reference_blocks(x, rate)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-20)


def test_meter_reference_sine():
    # BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS.
    t = np.arange(RATE * 5) / RATE
    x = np.sin(2 * np.pi * 997 * t)
    assert abs(loudness.measure([x]).integrated_lufs - (-3.01)) < 0.05


def test_gain_for_target_and_peak_ceiling():
    t = np.arange(RATE * 5) / RATE
    quiet = (0.01 * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    lufs = loudness.measure([quiet]).integrated_lufs
    # Plenty of headroom: the target is reached exactly.
    g = loudness.gain_for([quiet], target_lufs=-30.0)
    assert abs(lufs + 20 * math.log10(g) - (-30.0)) < 1e-6
    # Target needs +40 dB but the ceiling allows less: peak lands on -1 dBFS.
    g = loudness.gain_for([quiet], target_lufs=-3.0, peak_ceiling_dbfs=-1.0)
    assert abs(20 * math.log10(g * 0.01) - (-1.0)) < 0.01
    assert loudness.gain_for([np.zeros(RATE * 2, np.float32)]) == 1.0
    assert loudness.gain_for([]) == 1.0
