"""Resampling 22050 Hz speech to the 44100 Hz mix without scipy: the same samples, at startup speed.

espeak-ng and Piper voices speak at 22050 Hz. scipy's ``resample_poly(x, 2, 1)``
did the doubling, but importing scipy.signal takes about 0.6 s, which a
live session cannot spend before its first word. :func:`double_rate` computes
exactly what ``resample_poly(x, 2, 1)`` computes (its default Kaiser-windowed
41-tap low-pass, the same products summed in the same order, in float64), so
clips are bit for bit what they were and cached clips stay valid;
tests/test_resample.py checks it against scipy. Other rates still use scipy.
"""

from __future__ import annotations

import numpy as np

# scipy.signal.firwin(41, 0.5, window=("kaiser", 5.0)) * 2, the filter resample_poly designs for
# up=2, down=1; symmetric, so only the first 21 taps are written (exact, as float.hex).
_HALF = [
    float.fromhex(v)
    for v in (
        "-0x1.a6974f7025892p-60",
        "-0x1.13a2342abbc77p-9",
        "0x1.11a5777ac2b79p-58",
        "0x1.48daf4cf522c7p-8",
        "-0x1.01d289902fa35p-57",
        "-0x1.40c9b168157d1p-7",
        "0x1.9daede4433abbp-57",
        "0x1.18619e8a7d676p-6",
        "-0x1.2a81754600b9bp-56",
        "-0x1.ca6c66c3f79e0p-6",
        "0x1.8dc0e9b6b537ep-56",
        "0x1.68d3a9a7c6e7cp-5",
        "-0x1.f0930f1ed5c74p-56",
        "-0x1.195093b0fcbc7p-4",
        "0x1.2504e7e65f49ap-55",
        "0x1.c4ebef681bc2fp-4",
        "-0x1.48b98c75a1d64p-55",
        "-0x1.9d68fb900890dp-3",
        "0x1.5fc4354f568b5p-55",
        "0x1.444d186d50ad7p-1",
        "0x1.0021e9b749668p+0",
    )
]
_TAPS = np.array(_HALF + _HALF[-2::-1], dtype=np.float64)
# resample_poly puts one zero before the taps (to center the output), then upfirdn splits
# them into two phases, each reversed ("transposed and flipped").
_PADDED = np.concatenate(([0.0], _TAPS))
_PHASES = (_PADDED[0::2][::-1].copy(), _PADDED[1::2][::-1].copy())
_PER_PHASE = 21


def double_rate(x: np.ndarray) -> np.ndarray:
    """``scipy.signal.resample_poly(x, 2, 1)`` for 1-D float64 ``x``, to the last bit."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, np.float64)
    # upfirdn: output 2m+t sums x[m-20+j] * phase_t[j] for j = 0..20 in that order, from 0.0,
    # skipping x outside the signal; adding exact zeros there instead changes nothing.
    padded = np.concatenate((np.zeros(_PER_PHASE - 1), x, np.zeros(_PER_PHASE - 1)))
    m = n + _PER_PHASE - 1  # outputs per phase
    out = np.empty(2 * m, np.float64)
    for t, phase in enumerate(_PHASES):
        acc = np.zeros(m, np.float64)
        for j in range(_PER_PHASE):
            acc += padded[j : j + m] * phase[j]
        out[t::2] = acc
    # resample_poly keeps 2n samples after dropping the filter's delay (21).
    return out[_PER_PHASE : _PER_PHASE + 2 * n]
