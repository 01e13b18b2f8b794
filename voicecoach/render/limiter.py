"""A true-peak look-ahead limiter: the session reaches its loudness without a peak over the ceiling.

Why: the system voice's speech has a peak-to-loudness ratio of about 20 dB,
so a static gain to -16 LUFS would put its loudest consonants (and an earcon
over speech) above full scale; capping the gain at the peak instead left
exports near -22 LUFS. The limiter turns the gain down around those few
peaks only (under 1 % of the samples), smoothly: the gain falls over
:data:`LOOKAHEAD` samples *before* a peak (the stream is read ahead, so the
output is not delayed and cues stay on their frames), holds, and rises
again over as long.

Exactly the same samples live and in the file: the limiter works on a grid
of :data:`CHUNK` frames fixed to the session's frame 0, and each chunk is
computed from the raw mix around it alone (:data:`CONTEXT_BEFORE` and
:data:`CONTEXT_AFTER` frames of it), so neither the caller's block size nor
a live start in the middle of a session changes a sample.

The true peak (BS.1770-4 Annex 2) is estimated by 4x oversampling, only
around samples within :data:`OVERSHOOT_DB` of the ceiling: further below,
no interpolated peak of speech or earcons reaches it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from voicecoach.speech.clip import MIX_RATE_HZ

CEILING_DBTP = -2.0  # the promise is -1 dBTP: AAC at 96 kb/s overshot by 0.6 dB, so 1 dB is left for encoders
LOOKAHEAD = round(0.003 * MIX_RATE_HZ)  # the gain ramps over 3 ms, down before a peak and up after it
HOLD = round(0.010 * MIX_RATE_HZ)  # and stays down 10 ms after it, so close peaks do not make it flutter
CHUNK = 1 << 15
OVERSHOOT_DB = 4.0  # an interpolated peak of speech lies well within this of its samples
_PHASES = 4
_TAPS_PER_PHASE = 24
FIR_CONTEXT = _TAPS_PER_PHASE  # input samples on each side the interpolation needs
CONTEXT_BEFORE = LOOKAHEAD + HOLD + FIR_CONTEXT
CONTEXT_AFTER = LOOKAHEAD + FIR_CONTEXT


def _phase_filters() -> np.ndarray:
    """Three fractional-delay FIRs (1/4, 2/4, 3/4 of a sample): rows of ``_TAPS_PER_PHASE`` taps.

    A windowed-sinc interpolator (Kaiser window), evaluated at the offsets
    ``k - d`` for the taps ``n - 11 .. n + 12`` around the point ``n + d``.
    """
    offsets = np.arange(-_TAPS_PER_PHASE // 2 + 1, _TAPS_PER_PHASE // 2 + 1)  # -11 .. 12
    rows = []
    for p in range(1, _PHASES):
        d = p / _PHASES
        t = offsets - d
        half = _TAPS_PER_PHASE / 2 + 0.5
        window = np.i0(6.0 * np.sqrt(1.0 - (t / half) ** 2)) / np.i0(6.0)
        h = np.sinc(t) * window
        rows.append(h / h.sum())
    return np.array(rows)


_FILTERS = _phase_filters()
_OFFSETS = np.arange(-_TAPS_PER_PHASE // 2 + 1, _TAPS_PER_PHASE // 2 + 1)


def true_peaks(x: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The largest of ``|x[n]|`` and the interpolated values between ``n`` and ``n + 1``, for each ``n`` in ``at``.

    ``at`` must keep :data:`FIR_CONTEXT` samples from both ends of ``x``.
    """
    windows = x[at[:, None] + _OFFSETS[None, :]].astype(np.float64)  # (len(at), taps)
    between = np.abs(windows @ _FILTERS.T)  # (len(at), 3)
    return np.maximum(np.abs(x[at]).astype(np.float64), between.max(axis=1))


def gain_curve(x: np.ndarray, ceiling: float) -> np.ndarray | None:
    """The limiter's gain for ``x[CONTEXT_BEFORE:-CONTEXT_AFTER]``; None where it is 1 throughout.

    ``x`` holds the core with its context on both sides.
    """
    n = x.shape[0]
    lo, hi = FIR_CONTEXT, n - FIR_CONTEXT
    threshold = ceiling * 10.0 ** (-OVERSHOOT_DB / 20.0)
    loud = np.abs(x[lo:hi]) > threshold
    if not loud.any():
        return None
    # The interpolated stretch before a loud sample belongs to its neighbour: look there too.
    loud[:-1] |= loud[1:]
    at = np.flatnonzero(loud) + lo
    tp = true_peaks(x, at)
    over = tp > ceiling
    if not over.any():
        return None
    peaks, need_at = at[over], ceiling / tp[over]
    core_lo, core_hi = CONTEXT_BEFORE, n - CONTEXT_AFTER
    a = np.ones(core_hi - core_lo, dtype=np.float64)
    # Only the stretch around the peaks is worked out; the gain is exactly 1 elsewhere.
    s0 = max(core_lo, int(peaks[0]) - LOOKAHEAD)
    s1 = min(core_hi, int(peaks[-1]) + HOLD + LOOKAHEAD + 1)
    if s0 >= s1:
        return None
    # need covers the samples any m[j], j in [s0 - LOOKAHEAD, s1), looks at.
    n0, n1 = s0 - LOOKAHEAD - HOLD, s1 + LOOKAHEAD
    need = np.ones(n1 - n0, dtype=np.float64)
    inside = (peaks >= n0) & (peaks < n1)
    need[peaks[inside] - n0] = need_at[inside]
    # m[j] = min(need[j - HOLD .. j + LOOKAHEAD]); a[i] = mean(m[i - LOOKAHEAD .. i]).
    # Every m[j] averaged into a[i] covers sample i, so a[i] <= need[i]: no peak passes.
    m = sliding_min(need, HOLD, LOOKAHEAD)[HOLD:]  # m for j in [s0 - LOOKAHEAD, s1)
    # 1 - mean(1 - m): sums of exact zeros stay exactly zero, so the gain is exactly 1 away from peaks.
    deficit = np.concatenate(([0.0], np.cumsum(1.0 - m)))
    width = LOOKAHEAD + 1
    i = np.arange(s1 - s0)  # core sample s0 + i averages m[i .. i + LOOKAHEAD] of this m
    a[s0 - core_lo : s1 - core_lo] = 1.0 - (deficit[i + width] - deficit[i]) / width
    return a


def sliding_min(x: np.ndarray, before: int, after: int) -> np.ndarray:
    """``m[j] = min(x[j - before .. j + after])`` (outside ``x`` counts as 1), in O(len(x)).

    Van Herk / Gil-Werman: within blocks of the window's width, running
    minima from the left and from the right; any window spans the end of one
    block and the start of the next, so two look-ups give its minimum.
    """
    w = before + after + 1
    n = x.shape[0]
    total = -(-(n + before + after) // w) * w + w
    xp = np.ones(total, dtype=x.dtype)
    xp[before : before + n] = x
    rows = xp.reshape(-1, w)
    from_left = np.minimum.accumulate(rows, axis=1).ravel()
    from_right = np.minimum.accumulate(rows[:, ::-1], axis=1)[:, ::-1].ravel()
    # Window j covers xp[j .. j + w - 1].
    return np.minimum(from_right[:n], from_left[w - 1 : w - 1 + n])


def limit(
    raw: Iterator[np.ndarray],
    raw_from: int,
    grid_from: int,
    end: int,
    ceiling_dbtp: float = CEILING_DBTP,
    *,
    channels: int = 1,
) -> Iterator[np.ndarray]:
    """Limit a stream of raw (gained, unclipped) mix blocks; yield it from ``grid_from`` in CHUNK pieces.

    ``raw`` yields the mix from frame ``raw_from`` (at most ``grid_from -
    CONTEXT_BEFORE``, or 0) to ``end``; ``grid_from`` is a multiple of CHUNK.
    Frames outside ``[0, end)`` count as silence. With ``channels`` 2 the
    blocks are (frames, 2) and one gain (the lower of the two channels'
    needs, so the stereo image holds) is applied to both.
    """
    if grid_from % CHUNK:
        raise ValueError(f"grid_from must be a multiple of {CHUNK}, got {grid_from}")
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    buf = np.zeros((0,) if channels == 1 else (0, channels), dtype=np.float32)
    buf_from = raw_from  # absolute frame of buf[0]
    exhausted = False
    pos = grid_from
    while pos < end:
        stop = min(pos + CHUNK, end)
        want = min(stop + CONTEXT_AFTER, end)
        pieces = [buf]
        have = buf_from + buf.shape[0]
        while have < want and not exhausted:
            try:
                block = next(raw)
            except StopIteration:
                exhausted = True
                break
            pieces.append(np.asarray(block, dtype=np.float32))
            have += block.shape[0]
        buf = np.concatenate(pieces) if len(pieces) > 1 else buf
        window = _window(buf, buf_from, pos - CONTEXT_BEFORE, stop + CONTEXT_AFTER, end)
        a = gain_curve(window, ceiling) if channels == 1 else _linked_curve(window, ceiling)
        out = window[CONTEXT_BEFORE : CONTEXT_BEFORE + (stop - pos)].copy()
        if a is not None:
            g = a[: stop - pos].astype(np.float32)
            out *= g if channels == 1 else g[:, None]
        np.clip(out, -1.0, 1.0, out=out)  # a last guard; the limiter keeps well inside it
        yield out
        # Keep what the next chunk's context needs.
        keep_from = max(buf_from, stop - CONTEXT_BEFORE)
        buf = buf[keep_from - buf_from :]
        buf_from = keep_from
        pos = stop


def _linked_curve(x: np.ndarray, ceiling: float) -> np.ndarray | None:
    """One gain for every channel of ``x`` (frames, channels): the lowest any of them needs."""
    curves = [
        c for c in (gain_curve(np.ascontiguousarray(x[:, k]), ceiling) for k in range(x.shape[1])) if c is not None
    ]
    if not curves:
        return None
    return np.minimum.reduce(curves) if len(curves) > 1 else curves[0]


def _window(buf: np.ndarray, buf_from: int, lo: int, hi: int, end: int) -> np.ndarray:
    """Frames ``[lo, hi)`` of the raw mix from ``buf`` (which starts at ``buf_from``), silence outside ``[0, end)``."""
    out = np.zeros((hi - lo, *buf.shape[1:]), dtype=np.float32)
    a, b = max(lo, buf_from, 0), min(hi, buf_from + buf.shape[0], end)
    if a < b:
        out[a - lo : b - lo] = buf[a - buf_from : b - buf_from]
    return out


def grid_start(frame: int) -> int:
    """The first frame of the limiter chunk holding ``frame``."""
    return (frame // CHUNK) * CHUNK


def raw_start(frame: int) -> int:
    """Where the raw mix must start for output from ``frame``: its chunk, less the context."""
    return max(0, grid_start(frame) - CONTEXT_BEFORE)
