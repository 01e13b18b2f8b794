"""The microphone read in the foreground, a block at a time (for ``voicecoach mic-check``).

The live session reads it on a thread (:class:`~.listener.VoiceSource`);
the check asks for the next stretch of sound when it wants it, and drops
what came in while the coach was speaking its prompt (:meth:`drain`).
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import numpy as np

from voicecoach.control.voice import RATE
from voicecoach.control.voice.listener import STALL_S, open_microphone
from voicecoach.errors import DeviceError


class Microphone:
    """An open 16 kHz int16 input; a context manager.

    ``open_stream`` is :func:`~.listener.open_microphone` (tests give their own).
    """

    def __init__(
        self,
        device: int | None = None,
        open_stream: Callable[[int | None, Callable[..., None]], Any] = open_microphone,
    ) -> None:
        self._chunks: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self._stream = open_stream(device, self._callback)

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        self._chunks.put(np.array(indata[:, 0] if indata.ndim == 2 else indata, dtype=np.int16))

    def __enter__(self) -> Microphone:
        self._stream.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.__exit__(*exc)

    def drain(self) -> None:
        """Drop everything captured so far (the prompt the coach just spoke, and its echo)."""
        while True:
            try:
                self._chunks.get_nowait()
            except queue.Empty:
                return

    def read(self) -> np.ndarray:
        """The next block of samples (20 ms); DeviceError when the microphone sends nothing for a while."""
        try:
            return self._chunks.get(timeout=STALL_S)
        except queue.Empty:
            raise DeviceError(
                f"the microphone sent no sound for {STALL_S:g} s",
                hint="check that it is connected, or choose another with --mic (voicecoach devices lists them)",
            ) from None

    def record(self, seconds: float) -> np.ndarray:
        """The next ``seconds`` of sound."""
        parts, n = [], 0
        while n < seconds * RATE:
            block = self.read()
            parts.append(block)
            n += len(block)
        return np.concatenate(parts)[: int(seconds * RATE)]
