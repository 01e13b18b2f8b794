"""Integrated loudness (ITU-R BS.1770-4), measured while streaming.

Used to pick one gain for the whole session (:func:`level_for`): the mix is
raised to the target and the true-peak limiter (:mod:`voicecoach.render.limiter`,
which reads ahead, so no cue moves) keeps its few loudest peaks under the
ceiling. Capping a static gain at the peak instead left exports near -22
LUFS: the system voice's speech peaks 20 dB above its loudness.

The meter needs only O(duration / 100 ms) memory: K-weighted energy is
summed per 100 ms hop, and each 400 ms gating block (75 % overlap) is the
mean of four consecutive hops.

scipy (``sosfilt``, the exact filter) is imported by the meter only: importing
it takes about 0.6 s. :func:`quick_measure` measures a short signal with
numpy alone (the same filter as a finite impulse response), for a live
session that must pick its level before its first word.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np

from voicecoach.core.configrules import DEFAULT_LOUDNESS_LUFS
from voicecoach.speech.clip import MIX_RATE_HZ

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
_RUNG_OUT = 1e-12  # filter state below this adds nothing measurable (energy ~1e-24)


def k_weighting_sos(rate_hz: int) -> np.ndarray:
    """The BS.1770 K-weighting filter (shelf, then high-pass) as scipy SOS.

    The standard gives coefficients for 48 kHz only; these are the analogue
    prototypes (as derived for libebur128) mapped to ``rate_hz`` with the
    bilinear transform, which reproduces the 48 kHz table exactly.
    """
    # Stage 1: high-frequency shelf (+4 dB above ~1.7 kHz, the head's effect).
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate_hz)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    shelf_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    # Stage 2: the "RLB" high-pass at ~38 Hz.
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate_hz)
    a0 = 1.0 + k / q + k * k
    hp_b = [1.0, -2.0, 1.0]
    hp_a = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf_b + shelf_a, hp_b + hp_a], dtype=np.float64)


def _lufs(mean_square: float) -> float:
    return -0.691 + 10.0 * math.log10(mean_square) if mean_square > 0 else -math.inf


@dataclass(frozen=True)
class Measurement:
    """What one pass over a signal found."""

    integrated_lufs: float  # -inf when nothing passes the gates (silence)
    sample_peak: float  # largest |sample|, linear
    frames: int


class LoudnessMeter:
    """Feed mono float blocks of any size; read the integrated loudness.

    The K-weighting filter state is carried across blocks (``sosfilt`` with
    ``zi``), so the result does not depend on how the signal was split.
    """

    def __init__(self, rate_hz: int = MIX_RATE_HZ) -> None:
        from scipy.signal import sosfilt  # slow to import: only here

        self._sosfilt = sosfilt
        self._sos = k_weighting_sos(rate_hz)
        self._zi = np.zeros((self._sos.shape[0], 2))
        self._hop = int(round(0.1 * rate_hz))
        self._hop_sum = 0.0
        self._hop_fill = 0
        self._last_hops: deque[float] = deque(maxlen=4)
        self._blocks = array("d")  # mean square of each 400 ms gating block
        self._peak = 0.0
        self._frames = 0

    def feed(self, block: np.ndarray) -> None:
        x = np.asarray(block, dtype=np.float64)
        if x.size == 0:
            return
        self._frames += x.size
        self._peak = max(self._peak, float(np.max(np.abs(x))))
        # The block in pieces that end where a 100 ms hop ends (the first one completes the current hop).
        starts = np.arange(min(self._hop - self._hop_fill, x.size), x.size, self._hop)
        bounds = np.concatenate(([0], starts, [x.size])).tolist()
        sound = np.logical_or.reduceat(x != 0, bounds[:-1]).tolist()  # which pieces are not digital silence
        k, pieces = 0, len(sound)
        while k < pieces:
            if sound[k]:
                # A run of pieces with sound goes through the filter in one call (scipy's overhead is per call);
                # the filter is a recurrence, so its output and state are the same to the bit as piece by piece.
                j = k + 1
                while j < pieces and sound[j]:
                    j += 1
                y, self._zi = self._sosfilt(self._sos, x[bounds[k] : bounds[j]], zi=self._zi)
                for m in range(k, j):
                    piece = y[bounds[m] - bounds[k] : bounds[m + 1] - bounds[k]]
                    self._hop_sum += float(np.dot(piece, piece))
                    self._advance(bounds[m + 1] - bounds[m])
                k = j
                continue
            # Most of a session is digital silence between cues: once the filter
            # has rung out, silence in gives exactly silence out, so skip the filter.
            if np.abs(self._zi).max() > _RUNG_OUT:
                y, self._zi = self._sosfilt(self._sos, x[bounds[k] : bounds[k + 1]], zi=self._zi)
                self._hop_sum += float(np.dot(y, y))
            self._advance(bounds[k + 1] - bounds[k])
            k += 1

    def _advance(self, frames: int) -> None:
        """``frames`` more of the current hop are summed: close it (and a 400 ms block) when it is full."""
        self._hop_fill += frames
        if self._hop_fill == self._hop:
            self._last_hops.append(self._hop_sum)
            self._hop_sum, self._hop_fill = 0.0, 0
            # Only complete 400 ms blocks count (BS.1770 drops a partial tail).
            if len(self._last_hops) == 4:
                self._blocks.append(sum(self._last_hops) / (4 * self._hop))

    def integrated_lufs(self) -> float:
        """Gated integrated loudness so far, in LUFS (-inf if all gated out)."""
        return _gated_lufs(np.frombuffer(self._blocks, dtype=np.float64))

    def result(self) -> Measurement:
        return Measurement(self.integrated_lufs(), self._peak, self._frames)


def _gated_lufs(z: np.ndarray) -> float:
    """BS.1770's gating over the mean squares of the 400 ms blocks."""
    if z.size == 0:
        return -math.inf
    # l_j > -70 LUFS  <=>  z_j > 10^((-70 + 0.691) / 10)
    z = z[z > 10.0 ** ((ABSOLUTE_GATE_LUFS + 0.691) / 10.0)]
    if z.size == 0:
        return -math.inf
    relative_gate = _lufs(float(np.mean(z))) + RELATIVE_GATE_LU
    z = z[z > 10.0 ** ((relative_gate + 0.691) / 10.0)]
    return _lufs(float(np.mean(z))) if z.size else -math.inf


DECAY_FRAMES = 8192  # the K-filter's impulse response is below 1e-9 by then (at 44.1 kHz)


@cache
def _k_impulse(rate_hz: int) -> np.ndarray:
    """The K-weighting filter's impulse response, ``DECAY_FRAMES`` long, computed without scipy.

    From its frequency response on a grid twice that long: what aliases back
    from beyond it is below 1e-9.
    """
    size = 2 * DECAY_FRAMES
    z1 = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)  # e^{-jw}
    h = np.ones_like(z1)
    for b0, b1, b2, _, a1, a2 in k_weighting_sos(rate_hz):
        h *= (b0 + b1 * z1 + b2 * z1 * z1) / (1.0 + a1 * z1 + a2 * z1 * z1)
    return np.fft.irfft(h, size)[:DECAY_FRAMES]


def quick_measure(samples: np.ndarray, rate_hz: int = MIX_RATE_HZ) -> Measurement:
    """:func:`measure` of one short signal held in memory, with numpy only.

    The K-filter runs as its impulse response (FFT convolution) instead of
    scipy's recursive filter: the same loudness to within about 1e-9 LU.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if x.size == 0:
        return Measurement(-math.inf, 0.0, 0)
    size = 1 << (x.size + DECAY_FRAMES - 1).bit_length()  # no wrap-around: linear convolution
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(_k_impulse(rate_hz), size), size)[: x.size]
    hop = int(round(0.1 * rate_hz))
    hops = x.size // hop
    energy = np.sum((y[: hops * hop] ** 2).reshape(hops, hop), axis=1)
    blocks = np.convolve(energy, np.ones(4), mode="valid") / (4 * hop)  # each 400 ms block: four hops
    return Measurement(_gated_lufs(blocks), peak, int(x.size))


def measure(blocks_iter: Iterable[np.ndarray], rate_hz: int = MIX_RATE_HZ) -> Measurement:
    """Integrated loudness and sample peak of a stream of mono blocks."""
    meter = LoudnessMeter(rate_hz)
    for block in blocks_iter:
        meter.feed(block)
    return meter.result()


def gain_for(
    blocks_iter: Iterable[np.ndarray],
    target_lufs: float = DEFAULT_LOUDNESS_LUFS,
    peak_ceiling_dbfs: float = -1.0,
) -> float:
    """A linear gain that brings the stream to ``target_lufs``, peak-limited.

    The gain is lowered if needed so that no sample exceeds
    ``peak_ceiling_dbfs`` (a static gain: the result may then stay below
    the target, but nothing is clipped or compressed).  Silence (nothing
    above the -70 LUFS gate) gets a gain of 1.
    """
    return gain_from(measure(blocks_iter), target_lufs, peak_ceiling_dbfs)


def gain_from(m: Measurement, target_lufs: float = DEFAULT_LOUDNESS_LUFS, peak_ceiling_dbfs: float = -1.0) -> float:
    """:func:`gain_for` on a measurement already made."""
    gain = 1.0 if math.isinf(m.integrated_lufs) else 10.0 ** ((target_lufs - m.integrated_lufs) / 20.0)
    if m.sample_peak > 0:
        gain = min(gain, 10.0 ** (peak_ceiling_dbfs / 20.0) / m.sample_peak)
    return gain


#: How close to the target the limited mix must come (LU); EBU R128 allows 0.5 for files.
TOLERANCE_LU = 0.2
MAX_PASSES = 5
GAIN_RANGE = (0.01, 20.0)  # -40 dB to +26 dB: the most any session is turned down or up


@dataclass(frozen=True)
class Level:
    """The gain a session gets, and the integrated loudness that gain reaches (after the limiter)."""

    gain: float
    lufs: float  # -inf for silence


def level_for(
    render: Callable[[float, bool], Iterable[np.ndarray]],
    target_lufs: float = DEFAULT_LOUDNESS_LUFS,
    raw_lufs: float | None = None,
    measure: Callable[[Iterable[np.ndarray]], Measurement] = measure,
) -> Level:
    """The gain that brings the limited mix to ``target_lufs``, found by measuring it.

    ``render(gain, limit)`` streams the mix. The raw mix is measured once;
    then the limited mix at a guess, corrected by the secant method (the
    limiter takes back part of every decibel above where it starts working),
    until it is within :data:`TOLERANCE_LU`, for at most :data:`MAX_PASSES`
    passes. The level closest to the target is returned: with a gain at the
    ends of :data:`GAIN_RANGE` (a session that is nearly silent, or all
    peaks) the target may not be reached, and ``lufs`` says what was.
    ``raw_lufs``: the raw mix's loudness, when it was measured already (an
    export measures it while the voice makes the phrases). ``measure``: the
    meter (:func:`quick_measure` suits a few seconds held in memory).
    """
    raw = measure(render(1.0, False)).integrated_lufs if raw_lufs is None else raw_lufs
    if math.isinf(raw):
        return Level(1.0, raw)
    lo_db, hi_db = (20.0 * math.log10(g) for g in GAIN_RANGE)
    g_db = min(hi_db, max(lo_db, target_lufs - raw))
    tried: list[tuple[float, float]] = []
    for _ in range(MAX_PASSES):
        got = measure(render(10.0 ** (g_db / 20.0), True)).integrated_lufs
        tried.append((g_db, got))
        if abs(got - target_lufs) <= TOLERANCE_LU or math.isinf(got):
            break
        slope = 0.5  # a first guess: past the limiter's threshold, about half of each dB is heard
        if len(tried) >= 2 and tried[-1][0] != tried[-2][0]:
            (d0, l0), (d1, l1) = tried[-2], tried[-1]
            slope = min(1.0, max(0.05, (l1 - l0) / (d1 - d0)))
        nxt = min(hi_db, max(lo_db, g_db + (target_lufs - got) / slope))
        if nxt == g_db:
            break  # at the end of the range
        g_db = nxt
    g_db, got = min(tried, key=lambda t: abs(t[1] - target_lufs))
    return Level(10.0 ** (g_db / 20.0), got)
