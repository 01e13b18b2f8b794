"""The scipy-free 22050 -> 44100 Hz resampler gives scipy's samples, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from voicecoach.speech.resample import double_rate
from voicecoach.speech.speaker import _process


@pytest.mark.parametrize("n", [1, 2, 20, 21, 22, 41, 1000, 54321], ids=lambda n: f"{n}-samples")
def test_double_rate_is_resample_poly_bit_for_bit(n):
    x = np.random.default_rng(n).standard_normal(n) * 0.4
    expected = resample_poly(x, 2, 1)
    got = double_rate(x)
    assert got.dtype == np.float64 and got.shape == expected.shape == (2 * n,)
    assert np.array_equal(got, expected)


def test_a_spoken_phrase_is_processed_as_before():
    """Trim, resample and volume of a speech-like signal: the same float32 samples as with scipy."""
    t = np.arange(22050) / 22050
    voice = (np.sin(2 * np.pi * 180 * t) * np.sin(2 * np.pi * 3 * t) * 0.6).astype(np.float32)
    voice[:2000] = 0
    voice[-3000:] = 0
    kept = voice[2000 - 220 : 22050 - 3000 + 220]  # _process keeps 10 ms around the sound
    expected = (resample_poly(kept.astype(np.float64), 2, 1) * 0.8).astype(np.float32)
    assert np.array_equal(_process(voice, 22050, 0.8), expected)
