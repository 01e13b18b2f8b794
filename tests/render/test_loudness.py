"""The loudness meter, pure numpy: BS.1770 reference values, the gain rule, the silence shortcut.

Its agreement with ffmpeg's ebur128 filter is checked in tests/export/test_export.py (needs ffmpeg).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from voicecoach.render import loudness
from voicecoach.render.loudness import LoudnessMeter, k_weighting_sos
from voicecoach.speech.clip import MIX_RATE_HZ

RATE = MIX_RATE_HZ


def _reference_blocks(x: np.ndarray, rate: int) -> np.ndarray:
    y = signal.sosfilt(k_weighting_sos(rate), x.astype(np.float64))
    hop = int(round(0.1 * rate))
    hops = np.add.reduceat(y * y, np.arange(0, len(y) // hop * hop, hop))[: len(y) // hop]
    return np.array([hops[i - 3 : i + 1].sum() / (4 * hop) for i in range(3, len(hops))])


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


class _PieceByPieceMeter(LoudnessMeter):
    """The meter as it was first written: the filter called once per piece of a 100 ms hop."""

    def feed(self, block: np.ndarray) -> None:
        x = np.asarray(block, dtype=np.float64)
        self._frames += x.size
        self._peak = max(self._peak, float(np.max(np.abs(x)))) if x.size else self._peak
        i = 0
        while i < x.size:
            take = min(self._hop - self._hop_fill, x.size - i)
            part = x[i : i + take]
            if part.any() or np.abs(self._zi).max() > loudness._RUNG_OUT:
                y, self._zi = self._sosfilt(self._sos, part, zi=self._zi)
                self._hop_sum += float(np.dot(y, y))
            self._advance(take)
            i += take


@pytest.mark.parametrize("pieces", [1, 7, 37, 400], ids=["whole", "7-blocks", "37-blocks", "400-blocks"])
def test_meter_filters_runs_of_sound_in_one_call_to_the_same_bits(pieces):
    # Runs of sound are filtered in one call, digital silence hop by hop as before: nothing changes, to the bit.
    rate = 44100
    rng = np.random.default_rng(pieces)
    parts = []
    for _ in range(10):
        parts.append(0.3 * rng.standard_normal(int(rate * rng.uniform(0.05, 1.5))))
        parts.append(np.zeros(int(rate * rng.uniform(0.01, 2.0))))
    x = np.concatenate(parts).astype(np.float32)
    fast, slow = LoudnessMeter(rate), _PieceByPieceMeter(rate)
    for chunk in np.array_split(x, pieces):
        fast.feed(chunk)
        slow.feed(chunk)
    assert bytes(fast._blocks) == bytes(slow._blocks) and len(fast._blocks) > 50
    assert fast.result() == slow.result()


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
