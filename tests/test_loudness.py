"""The meter's silence shortcut changes nothing: same result as filtering every sample."""

from __future__ import annotations

import numpy as np
from scipy import signal

from voicecoach.render.loudness import LoudnessMeter, k_weighting_sos


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
