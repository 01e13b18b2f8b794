"""The real-time side of live playback: one ``play()`` call's queue, its producer and the PortAudio callback.

The callback runs on PortAudio's real-time thread and never blocks: it takes prepared
blocks from a bounded queue (``get_nowait``) that a producer thread fills ahead, as in
python-sounddevice's ``play_long_file.py``. :class:`voicecoach.live.player.Player` opens
the stream and waits; this module is what runs while it plays.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import numpy as np

_END = None  # queued after the last block: the source is exhausted
#: A block whose peak is above this (about -54 dBFS) is sound a microphone in the room may pick up.
SOUND_FLOOR = 0.002
#: How long the duck takes to go down or come back (a linear ramp: no click).
DUCK_RAMP_S = 0.03


class Host(Protocol):
    """What a run needs of its player."""

    prefill_blocks: int
    blocksize: int
    samplerate: int
    channels: int
    on_sound: Callable[[float, float], None] | None
    on_output: Callable[[np.ndarray, float, bool], None] | None
    duck_target: float  # the gain asked for (1.0: full voice), set from any thread
    duck_gain: float  # the gain the callback has reached (it ramps towards the target)

    @property
    def paused(self) -> bool: ...


class Run:
    """The state of one ``play()`` call, shared by the callback and the producer.

    A fresh object per call, so a producer thread still stuck in a slow
    ``next()`` of an old iterator can never feed the next call's queue.
    """

    def __init__(self, player: Host, voiced: Callable[[int, int], bool] | None = None) -> None:
        self.player = player
        # Whether the coach sounds in frames [lo, hi) of this stream, when its blocks hold more than the
        # coach (music): the echo gate then follows the words and earcons, not the peak of the whole mix.
        self.voiced = voiced
        self.queue: queue.Queue[tuple[np.ndarray, bool] | None] = queue.Queue(maxsize=player.prefill_blocks)
        self.primed = threading.Event()  # enough queued to start (or the source is done)
        self.finished = threading.Event()  # PortAudio's finished_callback
        self.stop_requested = False
        self.source_done = False
        self.ended = False  # the callback reached the end of the blocks
        # Silent callbacks after the end before CallbackStop: PortAudio's ALSA
        # backend does not drain the device buffer on CallbackStop, which cut
        # the last ~26 ms off on PulseAudio. Set by play() from the stream latency.
        self.drain_blocks = 0
        self.latency_s = 0.0  # the open stream's output latency: sound handed over but not yet heard
        self.error: BaseException | None = None  # raised by the block iterator
        self.frames = 0
        self.callbacks = 0
        self.underruns = 0  # gaps: runs of callbacks that found no block ready
        self.xruns = 0  # gaps: runs of callbacks PortAudio flagged as output underflow
        self._starved = False
        self._in_xrun = False
        # Bound by play() once sounddevice is imported, so the callback needs no module look-ups.
        self.callback_stop: type[Exception] = Exception
        self.callback_abort: type[Exception] = Exception

    # -- the real-time side -------------------------------------------------
    def callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's callback: copy one prepared block, or silence; then hand what was sent to ``on_output``."""
        self._fill(outdata, frames, time_info, status)
        on_output = self.player.on_output
        if on_output is not None:
            try:
                on_output(outdata, time.monotonic() + self._ahead(time_info), self.callbacks == 1)
            except Exception:
                pass  # a listener's bug must never stop the sound

    def _fill(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        self.callbacks += 1
        # Gaps are counted once however many callbacks they last: one stall of the
        # machine is one gap the listener hears, not five.
        if status.output_underflow:
            self.xruns += not self._in_xrun
        self._in_xrun = bool(status.output_underflow)
        if self.stop_requested:
            outdata.fill(0)
            raise self.callback_abort  # discard what is buffered: stop means now
        if self.ended:  # draining: the last real frames are still in the device buffer
            outdata.fill(0)
            self.drain_blocks -= 1
            if self.drain_blocks <= 0:
                raise self.callback_stop
            return
        if self.player.paused:
            # Nothing consumed, clock not advanced: resume continues seamlessly.
            outdata.fill(0)
            return
        try:
            item = self.queue.get_nowait()
        except queue.Empty:
            outdata.fill(0)
            if not self.source_done:
                self.underruns += not self._starved
                self._starved = True
            return
        self._starved = False
        if item is _END:
            outdata.fill(0)
            self.ended = True
            if self.drain_blocks <= 0:
                raise self.callback_stop
            return
        block, loud = item
        n = block.shape[0]
        if loud and self.player.on_sound is not None:
            self._report_sound(n, time_info)
        if n == frames:
            outdata[:] = block  # (n, 1) broadcasts to a stereo fallback stream too
        else:  # the last, short block
            outdata[:n] = block
            outdata[n:] = 0
        if self.player.duck_gain != 1.0 or self.player.duck_target != 1.0:
            self._duck(outdata[:n])
        self.frames += n

    def _duck(self, out: np.ndarray) -> None:
        """The duck, in place: a linear ramp towards the target (:data:`DUCK_RAMP_S` for a full swing), then held."""
        player = self.player
        g, target = player.duck_gain, player.duck_target
        if g == target:
            out *= g
            return
        step = 1.0 / (DUCK_RAMP_S * player.samplerate)
        ramp = g + np.sign(target - g) * step * np.arange(1, out.shape[0] + 1, dtype=np.float32)
        ramp = np.minimum(ramp, target) if target > g else np.maximum(ramp, target)
        out *= ramp[:, None] if out.ndim == 2 else ramp
        player.duck_gain = float(ramp[-1])

    def _ahead(self, time_info: Any) -> float:
        """How long until what the callback writes now is heard: PortAudio's estimate for this buffer, when sane."""
        try:
            dac = float(time_info.outputBufferDacTime - time_info.currentTime)
            if 0.0 < dac < 1.0:
                return dac
        except (AttributeError, TypeError):
            pass
        return self.latency_s

    def _report_sound(self, frames: int, time_info: Any) -> None:
        """Tell ``on_sound`` when this block will be heard (monotonic seconds): the voice input's echo gate."""
        start = time.monotonic() + self._ahead(time_info)
        on_sound = self.player.on_sound
        try:
            if on_sound is not None:
                on_sound(start, start + frames / self.player.samplerate)
        except Exception:
            pass  # a listener's bug must never stop the sound

    # -- the producer thread ------------------------------------------------
    def produce(self, blocks: Iterable[np.ndarray]) -> None:
        """Re-chunk ``blocks`` into the queue until done, stopped or failed.

        Each block is queued with whether it holds the coach's sound (its peak against
        :data:`SOUND_FLOOR`, or ``voiced``), found here so the callback does no arithmetic.
        """
        frame = 0
        try:
            for block in rechunk(blocks, self.player.blocksize, self.player.channels):
                n = block.shape[0]
                if self.voiced is not None:
                    loud = self.voiced(frame, frame + n)
                else:
                    loud = bool(np.abs(block).max(initial=0.0) > SOUND_FLOOR)
                frame += n
                if not self._put((block, loud)):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to play(), which re-raises it
            self.error = exc
        finally:
            self.source_done = True
            self.primed.set()
            close = getattr(blocks, "close", None)
            if close is not None:  # a generator: run its finally blocks now, in its own thread
                try:
                    close()
                except Exception:
                    pass

    def _put(self, item: tuple[np.ndarray, bool] | None) -> bool:
        while not self.stop_requested:
            try:
                self.queue.put(item, timeout=0.05)  # short timeout: notice stop() soon
            except queue.Full:
                self.primed.set()
                continue
            if self.queue.full():
                self.primed.set()
            return True
        return False


def rechunk(blocks: Iterable[np.ndarray], size: int, channels: int = 1) -> Iterator[np.ndarray]:
    """Re-cut blocks of any lengths into ``(size, channels)`` float32 blocks; the last may be shorter.

    Each yielded array is new (the queue holds several at once); shaped
    ``(n, channels)`` so the callback's copy into ``outdata`` is a plain assignment.
    Mono blocks are 1-D or ``(n, 1)``; a stereo stream (music) takes ``(n, 2)`` blocks.
    """
    buf = np.empty((size, channels), dtype=np.float32)
    fill = 0
    for block in blocks:
        samples = np.asarray(block, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        if samples.ndim != 2 or samples.shape[1] != channels:
            what = "mono (1-D)" if channels == 1 else f"{channels} channels"
            raise ValueError(f"blocks must be {what}, got shape {samples.shape}")
        pos, total = 0, samples.shape[0]
        while pos < total:
            n = min(size - fill, total - pos)
            buf[fill : fill + n] = samples[pos : pos + n]
            fill += n
            pos += n
            if fill == size:
                yield buf
                buf = np.empty((size, channels), dtype=np.float32)
                fill = 0
    if fill:
        yield buf[:fill]
