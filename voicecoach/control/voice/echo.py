"""Barge-in: the coach's own output cancelled out of the microphone, so the wake word is heard while it speaks.

The coach knows every sample it plays and when it will be heard. The audio
callback hands each block it sends to the speakers, after every gain (the
duck), silence included, to an :class:`OutputTap`: a preallocated ring of a
few seconds, written with two slice copies, never a lock, never an
allocation. Next to it, the callback's estimate of when the block's first
sample reaches the speakers (PortAudio's output latency).

:class:`EchoCanceller` is the first :class:`~voicecoach.control.voice.Cleaner`
stage. For each microphone chunk it reads the tap at the chunk's own capture
times plus :data:`LEAD_S` (the output that will be heard a moment later: the
canceller must see the reference before its echo), resampled from the output
rate to 16 kHz (a windowed-sinc low-pass, then interpolation at the exact
fractional positions), and gives both to speexdsp's echo canceller (an
adaptive linear filter over :data:`TAIL_S` of echo path, from the system's
``libspeexdsp``, called through ctypes: Debian's ``libspeexdsp1``, which the
sound server already depends on). It adapts to the room. The delay the
latency reports miss (a sound server that buffers more on a busy machine) is
measured on the two signals once a second (:class:`DelayTracker`), and the
reference moved so that the echo stays just behind it.

Why speexdsp and not WebRTC's AEC3, which removes more echo: AEC3's echo
suppressor also removes the person's voice while the coach speaks, the very
moment barge-in is for; a linear canceller leaves it (docs/benchmarks.md,
"Barge-in").
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections import deque
from typing import Any

import numpy as np

from voicecoach.control.voice import RATE
from voicecoach.errors import MissingDependencyError

INSTALL_HINT = (
    "install speexdsp: sudo apt-get install libspeexdsp1 (Debian/Ubuntu), brew install speexdsp (macOS), "
    "or run ./scripts/run --listen"
)
#: The output's sample rate (the player's: 44100 Hz).
OUTPUT_RATE = 44100
#: How much output the tap keeps: far more than the output latency plus the microphone's.
RING_S = 4.0
#: The reference given with a microphone chunk is the output heard this much after the chunk
#: was captured: an echo canceller only cancels an echo that comes after its reference, and
#: the sound server's latency estimates are not exact (AEC3 finds delays up to a few hundred ms).
LEAD_S = 0.1
#: The echo path the canceller models, from :data:`TARGET_LAG_S` on: the room's reverberation.
TAIL_S = 0.4
_FRAME = 160  # 10 ms at 16 kHz: the canceller's frame
_SET_SAMPLING_RATE = 24  # speex_echo.h: SPEEX_ECHO_SET_SAMPLING_RATE
#: Where the echo is kept, after its reference: the canceller models the echo path over :data:`TAIL_S`
#: from here. The reported latencies miss how the sound server's buffering grows on a busy machine
#: (the echo slid from 0.13 to 0.46 s behind its reference in a minute, on the real stack), so the
#: delay is measured on the signals themselves (:class:`DelayTracker`) and the reference moved.
TARGET_LAG_S = 0.04
#: The delay is measured on this much of both signals, once a second while the coach is heard.
TRACK_S = 2.0
#: ... between no lag and this much.
MAX_LAG_S = 1.0
#: ... and believed only with a clear peak (normalized cross-correlation), moved only by more than this.
MIN_CORRELATION = 0.4
MIN_MOVE_S = 0.008
#: Blocks at a stream's start whose reported times set its clock (their median): the first ones
#: come in a burst with times a whole buffer off, and later reports jitter by tens of ms.
SETTLE_BLOCKS = 24
#: A report this far from the clock starts it again (samples lost in a stall); anything smaller
#: is left to :class:`DelayTracker`, which measures the delay itself.
JUMP_S = 0.5
_TAPS = 63  # the resampling low-pass (at 44.1 kHz): 7.2 kHz cut-off, under the 8 kHz Nyquist of 16 kHz


class EchoUnavailable(MissingDependencyError):
    """The echo canceller's native library (libspeexdsp) is not installed or does not load."""


class SampleClock:
    """When each sample of a stream is heard or captured, from per-block reports that jitter.

    Within a stream the samples follow one another at the nominal rate: the
    sample counts keep the output's samples in line with the microphone's
    (one device, or a sound server's null sinks), where the reported times
    jitter by tens of ms and each step of the reference would make the
    canceller adapt again. The offset is the median of the first
    :data:`SETTLE_BLOCKS` reports; a new stream, or a jump of more than
    :data:`JUMP_S`, starts it again. What the reports miss (a sound server
    that buffers more as it goes) :class:`DelayTracker` measures.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._offsets: list[float] = []  # reported time less the sample count's time, per block so far
        self._offset = 0.0

    def place(self, k: int, t_first: float, new_stream: bool = False) -> float:
        """The time of sample ``k`` (the first of a block reported at ``t_first``)."""
        offset = t_first - k / self.rate
        if new_stream or not self._offsets or abs(offset - self._offset) > JUMP_S:
            self._offsets = [offset]
            self._offset = offset
        elif len(self._offsets) < SETTLE_BLOCKS:
            self._offsets.append(offset)
            self._offset = float(np.median(self._offsets))
        return k / self.rate + self._offset


class OutputTap:
    """The samples sent to the speakers with when they will be heard (``time.monotonic()`` seconds).

    :meth:`write` is called from the audio callback for every block (quick:
    two slice copies into a preallocated ring, a few float operations and a
    deque append); :meth:`read` from the listener's thread. Only the last
    :data:`RING_S` seconds are kept; times with no output read as silence.
    """

    def __init__(self, rate: int = OUTPUT_RATE, seconds: float = RING_S) -> None:
        self.rate = rate
        self._ring = np.zeros(int(rate * seconds), np.float32)
        self._written = 0  # samples written so far (published after each copy)
        self._clock = SampleClock(rate)
        # (first sample, samples, its time) of each block, newest last.
        self._blocks: deque[tuple[int, int, float]] = deque(maxlen=2048)

    def write(self, block: np.ndarray, t_start: float, new_stream: bool = False) -> None:
        """One block as sent to the device (``(n,)`` or ``(n, channels)``: the first channel), heard from ``t_start``.

        ``new_stream``: the first block of a new output stream (its clock starts again).
        """
        samples = block[:, 0] if block.ndim == 2 else block
        n = samples.shape[0]
        if n == 0:
            return
        k = self._written
        start = self._clock.place(k, t_start, new_stream)
        size = self._ring.shape[0]
        i = k % size
        first = min(n, size - i)
        self._ring[i : i + first] = samples[:first]
        if first < n:
            self._ring[: n - first] = samples[first:n]
        self._blocks.append((k, n, start))
        self._written = k + n

    def read(self, times: np.ndarray, taps: np.ndarray | None = None) -> np.ndarray:
        """The output heard at each of ``times`` (sorted, monotonic seconds), low-passed by ``taps``."""
        out = np.zeros(times.shape[0], np.float32)
        blocks, written = list(self._blocks), self._written
        if not blocks or times.shape[0] == 0:
            return out
        first, count, start = (np.array(column) for column in zip(*blocks, strict=True))
        j = np.searchsorted(start, times, side="right") - 1
        jj = np.maximum(j, 0)
        pos = first[jj] + (times - start[jj]) * self.rate  # fractional sample numbers
        size = self._ring.shape[0]
        half = 0 if taps is None else len(taps) // 2
        # In a block (or just past its end, towards the next contiguous one), written, not yet overwritten.
        ok = (j >= 0) & (pos < first[jj] + count[jj] + 1) & (pos <= written - 1) & (pos >= written - size + half)
        if not ok.any():
            return out
        lo = int(np.floor(pos[ok].min())) - half - 1
        hi = int(np.ceil(pos[ok].max())) + half + 2
        seg = np.zeros(hi - lo, np.float32)
        a, b = max(lo, written - size), min(hi, written)
        if a < b:
            seg[a - lo : b - lo] = self._ring[np.arange(a, b) % size]
        if taps is not None:
            seg = np.convolve(seg, taps, mode="same").astype(np.float32)
        out[ok] = np.interp(pos[ok] - lo, np.arange(seg.shape[0]), seg).astype(np.float32)
        return out


def lowpass_taps(rate: int = OUTPUT_RATE, cutoff_hz: float = 7200.0, n: int = _TAPS) -> np.ndarray:
    """A Hann-windowed sinc low-pass of unit gain: the anti-aliasing filter of the 16 kHz reference."""
    m = np.arange(n) - (n - 1) / 2
    h: np.ndarray = np.sinc(2 * cutoff_hz / rate * m) * np.hanning(n)
    return np.asarray(h / h.sum(), np.float32)


def _speexdsp() -> ctypes.CDLL:
    """The system's libspeexdsp, its echo functions typed; raises :class:`EchoUnavailable`."""
    names = [ctypes.util.find_library("speexdsp"), "libspeexdsp.so.1", "libspeexdsp.dylib", "libspeexdsp.so"]
    for name in dict.fromkeys(n for n in names if n):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(lib, "speex_echo_state_init"):
            break
    else:
        raise EchoUnavailable("echo cancelling needs the speexdsp library, which is not installed", hint=INSTALL_HINT)
    p16 = ctypes.POINTER(ctypes.c_int16)
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, p16, p16, p16]
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    return lib


class SpeexEcho:
    """speexdsp's echo canceller for 16 kHz mono int16, in 10 ms frames (``process(near, far)``)."""

    def __init__(self, rate: int = RATE, tail_s: float = TAIL_S) -> None:
        self._lib = _speexdsp()
        self._p16 = ctypes.POINTER(ctypes.c_int16)
        self._state = self._lib.speex_echo_state_init(_FRAME, int(tail_s * rate))
        if not self._state:
            raise EchoUnavailable("cannot start the speexdsp echo canceller", hint=INSTALL_HINT)
        value = ctypes.c_int(rate)
        self._lib.speex_echo_ctl(self._state, _SET_SAMPLING_RATE, ctypes.byref(value))

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """``near`` (the microphone) less the echo of ``far``; a last partial frame passes unchanged."""
        near = np.ascontiguousarray(near, np.int16)
        far = np.ascontiguousarray(far, np.int16)
        out: np.ndarray = near.copy()
        p16 = self._p16
        for i in range(0, near.shape[0] - _FRAME + 1, _FRAME):
            self._lib.speex_echo_cancellation(
                self._state, near[i:].ctypes.data_as(p16), far[i:].ctypes.data_as(p16), out[i:].ctypes.data_as(p16)
            )
        return out

    def __del__(self) -> None:
        state, self._state = getattr(self, "_state", None), None
        if state:
            self._lib.speex_echo_state_destroy(state)


class DelayTracker:
    """How far the echo comes after its reference, measured on the signals (a cross-correlation, once a second)."""

    def __init__(self, rate: int = RATE) -> None:
        self.rate = rate
        n = int(TRACK_S * rate)
        self._near = np.zeros(n, np.float32)
        self._far = np.zeros(n, np.float32)
        self._since = 0
        self.last: tuple[float, float] | None = None  # (lag s, correlation) of the last measurement

    def add(self, near: np.ndarray, far: np.ndarray) -> float | None:
        """The next samples of both; now and then the echo's lag behind the reference (s), when clear."""
        n = near.shape[0]
        self._near = np.roll(self._near, -n)
        self._near[-n:] = near
        self._far = np.roll(self._far, -n)
        self._far[-n:] = far
        self._since += n
        if self._since < self.rate:
            return None
        self._since = 0
        far_power = float(np.mean(self._far**2))
        if far_power < 1e-6:  # the coach is (nearly) silent: nothing to measure
            return None
        size = 1 << int(np.ceil(np.log2(2 * self._near.shape[0])))
        spec = np.fft.rfft(self._near, size) * np.conj(np.fft.rfft(self._far, size))
        cc = np.fft.irfft(spec, size)[: int(MAX_LAG_S * self.rate)]  # near(t) ~ far(t - lag), lag >= 0
        lag = int(np.argmax(np.abs(cc)))
        norm = float(np.sqrt(np.sum(self._near**2) * np.sum(self._far**2))) or 1.0
        corr = float(abs(cc[lag]) / norm)
        self.last = (lag / self.rate, corr)
        return lag / self.rate if corr >= MIN_CORRELATION else None

    def reset(self) -> None:
        """The reference moved: measure again on a whole window of the new alignment."""
        self._near[:] = 0.0
        self._far[:] = 0.0
        self._since = -self._near.shape[0] + self.rate


class EchoCanceller:
    """The first cleaning stage: the coach's output, as the :class:`OutputTap` has it, taken out of the microphone.

    ``engine`` is anything with ``process(near_int16, far_int16) -> int16``
    (:class:`SpeexEcho` by default; the benchmark also gives it WebRTC's
    AEC3). Chunks are 16 kHz int16, a multiple of 10 ms (the microphone's
    20 ms reads are).
    """

    cancels_echo = True  # VoiceLogic no longer needs its time gate (see listener.py)

    def __init__(self, tap: OutputTap, engine: Any = None, *, lead_s: float = LEAD_S) -> None:
        self.tap = tap
        self.engine = engine if engine is not None else SpeexEcho()
        self.lead_s = lead_s
        self._taps = lowpass_taps(tap.rate)
        self._clock = SampleClock(RATE)  # the microphone's
        self._count = 0  # samples heard so far
        self.delay = DelayTracker()
        self.moved_s = 0.0  # how much later the reference is read than the reported latencies say
        self.last_reference = np.zeros(0, np.float32)  # of the last chunk

    def process(self, pcm: np.ndarray, t_end: float) -> np.ndarray:
        pcm = np.asarray(pcm, np.int16)
        n = pcm.shape[0]
        # The microphone's own clock: the reported capture times jitter, which would smear the reference.
        start = self._clock.place(self._count, t_end - (n - 1) / RATE)
        self._count += n
        times = start + np.arange(n) / RATE + self.lead_s - self.moved_s
        ref = self.tap.read(times, self._taps)
        self.last_reference = ref
        far = (np.clip(ref, -1.0, 1.0) * 32767).astype(np.int16)
        out = np.asarray(self.engine.process(pcm, far), np.int16)
        lag = self.delay.add(pcm.astype(np.float32) / 32768, ref)
        if lag is not None and abs(lag - TARGET_LAG_S) > MIN_MOVE_S:
            self.moved_s += lag - TARGET_LAG_S  # the canceller adapts to the new alignment in a few seconds
            self.delay.reset()
        return out
