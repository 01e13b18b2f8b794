"""Live playback: a stream of float32 mono blocks to a sound device.

The design follows python-sounddevice's ``examples/play_long_file.py``::

    blocks (any sizes) --producer thread--> fixed blocks of ``blocksize`` frames
        --> bounded queue (filled ahead before the stream starts)
        --> PortAudio callback: copies one prepared block into ``outdata``

The callback runs on PortAudio's real-time thread, so it does nothing that
can take long: no synthesis, no I/O, no allocation beyond what sounddevice
itself does, and only ``Queue.get_nowait`` (whose internal mutex is held by
the producer for a single O(1) append at most, never while it waits). The
frames it hands to the device are counted there: that count is the playback
clock (:attr:`Player.position_s`).

``sounddevice`` is imported lazily (see :mod:`voicecoach.portaudio`).

A controller that replans mid-session calls :meth:`Player.stop` (from any
thread), waits for :meth:`Player.play` to return, and calls ``play`` again
with a new block iterator and ``start_s`` set to the new position.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from voicecoach.errors import DeviceError
from voicecoach.live.devices import NO_DEVICE_HINT, import_sounddevice, resolve_device
from voicecoach.live.realtime import Run
from voicecoach.speech.clip import MIX_RATE_HZ

#: Blocks queued ahead of the callback beyond the device buffer (20 x 1024
#: frames is about 0.46 s): the producer (a mixer, maybe a speech engine) may stall that long.
PREFILL_BLOCKS = 20
#: The device buffer asked of PortAudio, in seconds. PortAudio's "low" (46 ms
#: on PulseAudio) ran dry about once a second with two CPU hogs on a busy
#: 2-core machine: the callback is Python and must win the GIL and a CPU in
#: time. 0.35 s gave none (docs/benchmarks.md, "Live playback on a busy
#: machine"); what is heard lags by that much, which the reported position
#: takes into account, so printed cues and controls stay in step with the sound.
DEFAULT_LATENCY_S = 0.35

_DEVICE_HINT = (
    "check that the speakers or headphones are connected and the sound server is running, "
    "choose another device with --device, or " + NO_DEVICE_HINT
)
_PA_INVALID_CHANNEL_COUNT = -9998  # PortAudio's paInvalidChannelCount


@dataclass(frozen=True)
class PlayResult:
    """How one :meth:`Player.play` call went."""

    frames_played: int  # frames handed to the device (silence while paused or starved excluded)
    underruns: int  # gaps: runs of callbacks that found no block ready although the source was not finished
    stopped_early: bool  # ended by stop() or Ctrl-C rather than the end of the blocks
    latency_s: float  # the stream's output latency: what is heard lags position_s by this
    xruns: int = 0  # gaps: runs of output underflows PortAudio itself reported (callback ran late)


class Player:
    """Plays streams of float32 mono blocks at 44100 Hz on a sound device.

    Args:
        device: PortAudio device number, part of a device name, or ``None``
            for the default output device.
        blocksize: frames per PortAudio callback (1024 is 23 ms at 44100 Hz);
            the position and pause have this granularity.
        latency: PortAudio's suggested latency: ``"low"``, ``"high"`` or seconds.
        prefill_blocks: blocks queued before the stream starts. By default the
            device buffer (``latency``) plus :data:`PREFILL_BLOCKS`: the stream
            pulls a whole buffer's worth at once when it starts, and a queue
            smaller than that underran at the very start.
        stall_timeout_s: a device that calls back no more for this long is
            taken as gone (:class:`DeviceError`).
        on_sound: called from the audio thread with ``(start, end)``, in
            ``time.monotonic()`` seconds, for every block with sound in it:
            when it will come out of the speakers. The voice input uses it to
            ignore the coach's own voice. Must be quick and never block.
        channels: 1 (the coach alone) or 2 (music under it: blocks are ``(n, 2)``).
        on_output: called from the audio thread with every block sent to the
            device (silence and the duck included; a view, to copy at once),
            the ``time.monotonic()`` when its first sample will be heard, and
            whether it is a stream's first: the echo canceller's reference.
            Must be quick and never block.

    One ``play()`` at a time; ``pause``, ``resume``, ``stop`` and the
    properties may be used from any thread.
    """

    def __init__(
        self,
        device: int | str | None = None,
        blocksize: int = 1024,
        latency: str | float = DEFAULT_LATENCY_S,
        *,
        prefill_blocks: int | None = None,
        stall_timeout_s: float = 5.0,
        on_sound: Callable[[float, float], None] | None = None,
        channels: int = 1,
        on_output: Callable[[np.ndarray, float, bool], None] | None = None,
    ) -> None:
        if prefill_blocks is None:
            # PortAudio may round the buffer up (0.5 s became 0.557 s): PREFILL_BLOCKS covers that.
            device_blocks = math.ceil(latency * MIX_RATE_HZ / blocksize) if isinstance(latency, (int, float)) else 0
            prefill_blocks = device_blocks + PREFILL_BLOCKS
        if blocksize <= 0 or prefill_blocks <= 0:
            raise ValueError("blocksize and prefill_blocks must be positive")
        self.device = device
        self.blocksize = blocksize
        self.latency = latency
        self.prefill_blocks = prefill_blocks
        self.stall_timeout_s = stall_timeout_s
        self.on_sound = on_sound
        self.on_output = on_output
        self.duck_target = 1.0  # see duck(); read by the callback
        self.duck_gain = 1.0  # written only by the callback, as it ramps
        self.samplerate = MIX_RATE_HZ
        self.channels = channels  # 2 with music under the coach
        self._paused = False  # read by the callback; a bool store is atomic under the GIL
        self._run: Run | None = None
        self._start_s = 0.0
        self._lock = threading.Lock()  # guards only "is a play() running"; never taken by the callback

    # -- controls (any thread) ----------------------------------------------
    def pause(self) -> None:
        """Output silence from the next callback on, holding the position; stays until resume()."""
        self._paused = True

    def resume(self) -> None:
        """Continue exactly where pause() left off."""
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def duck(self, gain: float) -> None:
        """Lower the sound to ``gain`` (0.1 is -20 dB; 1.0 is full), ramped, from the next callback on.

        Kept across ``play()`` calls, until changed: what plays is not
        stopped, its clock goes on. Never blocks (a float store).
        """
        self.duck_target = min(1.0, max(0.0, float(gain)))

    def stop(self) -> None:
        """End the current ``play()`` early (it returns ``stopped_early=True``).

        It acts on a play() already entered; when no play is running it does
        nothing. To stop a play() that another thread is only about to
        enter, call stop() until that thread ends.
        """
        run = self._run
        if run is not None:
            run.stop_requested = True

    @property
    def position_s(self) -> float:
        """``start_s`` of the current (or last) play plus the frames handed to the device, in seconds.

        What the listener hears lags this by about the stream latency.
        """
        run = self._run
        return self._start_s + (run.frames / self.samplerate if run is not None else 0.0)

    @property
    def heard_s(self) -> float:
        """Where the listener is: :attr:`position_s` less the sound still in the device buffer.

        What ``on_progress`` reports, so that a controller's printed cues and
        its controls (which restart from this point) follow what was heard.
        """
        run = self._run
        if run is None:
            return self._start_s
        if run.ended and run.finished.is_set():  # drained to the end: everything was heard
            return self.position_s
        # Playing, or stopped (the buffer was thrown away unheard).
        return max(self._start_s, self.position_s - run.latency_s)

    @property
    def underruns(self) -> int:
        """Gaps in the sound of the current (or last) play.

        Callbacks that found no block ready, plus the output underflows
        PortAudio reported (the device ran dry: what ALSA would print as
        "underrun occurred", which voicecoach silences and counts here instead).
        """
        run = self._run
        return run.underruns + run.xruns if run is not None else 0

    # -- playing --------------------------------------------------------------
    def play(
        self,
        blocks: Iterable[np.ndarray],
        *,
        start_s: float = 0.0,
        on_progress: Callable[[float], None] | None = None,
        progress_interval_s: float = 0.1,
        voiced: Callable[[int, int], bool] | None = None,
    ) -> PlayResult:
        """Play ``blocks`` to the end, or until :meth:`stop`; blocks the calling thread.

        ``blocks`` yields 1-D float32 arrays (or ``(n, 1)``) of any length at
        44100 Hz. ``start_s`` is where this stream starts on the caller's
        timeline: :attr:`position_s` counts from it. ``on_progress`` is called
        with :attr:`heard_s` about every ``progress_interval_s`` from this
        thread (never from the audio thread), and with :attr:`position_s`
        once the stream has drained at the end. ``voiced(lo, hi)`` says whether the
        coach sounds in the stream's frames ``[lo, hi)`` (for ``on_sound`` when the
        blocks hold music too); without it, a block's peak does.

        Ctrl-C (KeyboardInterrupt) stops and closes the stream, then propagates.
        An exception raised by ``blocks`` stops playback and propagates too.

        Raises:
            DeviceError: no output device, it cannot be opened, or it failed
                or disappeared during playback.
            MissingDependencyError: PortAudio is not installed.
        """
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("Player.play() is already running")
        try:
            return self._play(blocks, start_s, on_progress, progress_interval_s, voiced)
        finally:
            self._lock.release()

    def _play(
        self,
        blocks: Iterable[np.ndarray],
        start_s: float,
        on_progress: Callable[[float], None] | None,
        interval: float,
        voiced: Callable[[int, int], bool] | None = None,
    ) -> PlayResult:
        # Registered before any slow step, so a stop() from another thread is not lost.
        run = Run(self, voiced)
        self._start_s = start_s
        self._run = run
        sd = import_sounddevice()
        run.callback_stop, run.callback_abort = sd.CallbackStop, sd.CallbackAbort
        device = self.device if isinstance(self.device, int) else resolve_device(self.device)
        producer = threading.Thread(target=run.produce, args=(blocks,), name="voicecoach-producer", daemon=True)
        producer.start()
        stream = None
        try:
            while not run.primed.wait(interval):  # a timeout, so Ctrl-C and stop() get through
                if run.stop_requested:
                    break
            if run.error is not None:
                raise run.error
            if run.stop_requested:
                return PlayResult(0, 0, True, 0.0)
            stream = self._open(sd, device, run)
            run.latency_s = float(stream.latency)
            # Enough silence after the end to push the last frames through the
            # device buffer (its latency), plus two blocks of margin.
            run.drain_blocks = math.ceil(float(stream.latency) * self.samplerate / self.blocksize) + 2
            try:
                stream.start()
            except sd.PortAudioError as exc:
                raise DeviceError(f"cannot start the sound device: {exc}", hint=_DEVICE_HINT) from exc
            latency = float(stream.latency)
            self._wait(run, stream, on_progress, interval)
            if run.error is not None:
                raise run.error
            if not run.ended and not run.stop_requested:
                raise DeviceError(
                    "the sound device stopped during playback (unplugged, or the sound server stopped?)",
                    hint=_DEVICE_HINT,
                )
            return PlayResult(run.frames, run.underruns, not run.ended, latency, run.xruns)
        except BaseException:
            run.stop_requested = True  # Ctrl-C or an error: the producer must stop too
            raise
        finally:
            if stream is not None:
                stream.close(ignore_errors=True)  # aborts if still active
            run.stop_requested = run.stop_requested or not run.ended
            # The producer may sit in a slow next() of the caller's iterator: don't hang on it.
            producer.join(timeout=1.0)

    def _open(self, sd: ModuleType, device: int | None, run: Run) -> Any:
        """Open a mono stream, or a stereo one on devices without mono (e.g. some hw: devices); with music, stereo."""
        for channels in (1, 2) if self.channels == 1 else (self.channels,):
            try:
                return sd.OutputStream(
                    samplerate=self.samplerate,
                    blocksize=self.blocksize,
                    device=device,
                    channels=channels,
                    dtype="float32",
                    latency=self.latency,
                    callback=run.callback,
                    finished_callback=run.finished.set,
                )
            except sd.PortAudioError as exc:
                code = exc.args[1] if len(exc.args) > 1 else None
                if channels == 1 and code == _PA_INVALID_CHANNEL_COUNT:
                    continue
                raise DeviceError(
                    f"cannot open the sound device: {exc.args[0] if exc.args else exc}", hint=_DEVICE_HINT
                ) from exc
            except ValueError as exc:  # sounddevice's own checks (bad device, rate...)
                raise DeviceError(f"cannot open the sound device: {exc}", hint=_DEVICE_HINT) from exc
        raise AssertionError("unreachable")

    def _wait(self, run: Run, stream: Any, on_progress: Callable[[float], None] | None, interval: float) -> None:
        """Wait for the stream to finish, reporting progress and watching for a dead device."""
        seen, last_change = run.callbacks, time.monotonic()
        while not run.finished.wait(interval):
            if on_progress is not None:
                on_progress(self.heard_s)
            if run.stop_requested or run.error is not None:
                return
            if run.callbacks != seen:
                seen, last_change = run.callbacks, time.monotonic()
            elif time.monotonic() - last_change > self.stall_timeout_s:
                # E.g. a sound server that died: some backends block forever instead of failing.
                raise DeviceError(
                    f"the sound device stopped responding for {self.stall_timeout_s:g} s", hint=_DEVICE_HINT
                )
        if on_progress is not None:
            on_progress(self.position_s)
