"""Stand-ins for the speech engine, the sound device and clip stores: fast, silent, deterministic."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from voicecoach.core.schedule import estimate_speech_s
from voicecoach.speech.clip import MIX_RATE_HZ, Clip

SPEED = 200.0  # FakePlayer runs this many times faster than real time


class FakeSpeaker:
    """Lengths from the estimate; clips of silence that long."""

    def length_s(self, text: str) -> float:
        return estimate_speech_s(text)

    def clip(self, text: str) -> Clip:
        return Clip(np.zeros(int(round(self.length_s(text) * MIX_RATE_HZ)), dtype=np.float32))


class FakePlayer:
    """Consumes blocks ``speed`` times faster than real time, reporting the position like Player."""

    def __init__(self, speed: float = SPEED) -> None:
        self.speed = speed
        self.underruns = 0
        self._stop = False
        self.played_s = 0.0
        self.ducks: list[float] = []  # every duck() asked, in order

    def duck(self, gain: float) -> None:
        self.ducks.append(gain)

    def play(
        self,
        blocks: Iterable[np.ndarray],
        *,
        on_progress: Callable[[float], Any] | None = None,
        progress_interval_s: float = 0.1,
    ) -> None:
        self._stop = False
        pos = 0.0
        for block in blocks:
            if self._stop:
                break
            dur = len(block) / MIX_RATE_HZ
            time.sleep(dur / self.speed)
            pos += dur
            self.played_s += dur
            if on_progress:
                on_progress(pos)

    def stop(self) -> None:
        self._stop = True


class QuietInputs:
    """Control inputs that never send a command (the keyboard, untouched): the coach's wait just passes.

    Like a real source, ``wait`` takes a moment (a tenth of the timeout) instead of returning at once.
    """

    def names(self) -> set[str]:
        return {"keys"}

    def wait(self, timeout_s: float) -> list:
        time.sleep(timeout_s / 10)
        return []

    def show(self, state: Any) -> None:
        pass

    def seeked(self, position_us: int) -> None:
        pass


def tone(freq: float, seconds: float, amp: float = 0.3, fade_s: float = 0.0) -> Clip:
    """A sine at the mix rate; with ``fade_s``, linear fades in and out that long."""
    t = np.arange(int(round(seconds * MIX_RATE_HZ))) / MIX_RATE_HZ
    wave = amp * np.sin(2 * np.pi * freq * t)
    if fade_s:
        wave = wave * np.minimum(1.0, np.minimum(t, t[::-1]) / fade_s)
    return Clip(wave.astype(np.float32))


class CountingClips(dict):
    """A real clip mapping that counts lookups (and, with ``fail_after``, stops finding clips after that many)."""

    def __init__(self, *args: Any, fail_after: int | None = None) -> None:
        super().__init__(*args)
        self.lookups = 0
        self.fail_after = fail_after

    def __getitem__(self, key: str) -> Clip:
        self.lookups += 1
        if self.fail_after is not None and self.lookups > self.fail_after:
            raise KeyError(key)
        return super().__getitem__(key)


class ArrivingSpeaker(FakeSpeaker):
    """A :class:`FakeSpeaker` whose phrases exist only once released: a voice still synthesizing in the background.

    Clips are tones, not silence, so a rendered stream shows where every phrase sits.
    """

    def __init__(self) -> None:
        self.released: set[str] = set()

    def known_length(self, text: str) -> float | None:
        return self.length_s(text) if text in self.released else None

    def clip(self, text: str) -> Clip:
        n = int(round(self.length_s(text) * MIX_RATE_HZ))
        return Clip((0.2 * np.sin(np.arange(n) * (0.05 + 0.001 * (len(text) % 50)))).astype(np.float32))


class FakeAhead:
    """What a partial session asks of :class:`voicecoach.speech.ahead.Ahead`, over an :class:`ArrivingSpeaker`."""

    def __init__(self, speaker: ArrivingSpeaker) -> None:
        self.speaker = speaker
        self.prioritized: list[list[str]] = []
        self.closed = False

    def ready(self, texts: Iterable[str]) -> bool:
        return all(self.speaker.known_length(t) is not None for t in texts)

    def prioritize(self, texts: Iterable[str]) -> None:
        self.prioritized.append(list(texts))


class SteppedPlayer:
    """A player driven by the test's clock instead of sleeping: no audio moves until :meth:`advance`.

    :meth:`advance` lets that much audio through and returns once the player has used it,
    has nothing more to play, or is stopped; :meth:`spawn` is the controller's thread
    factory, so a stream that is starting counts as playing before its thread runs. With
    :attr:`now` as the controller's clock, a whole session runs in lock-step, the same way
    every time, as fast as the machine mixes.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._budget = 0.0
        self._starting = 0  # streams spawned that have not entered play() yet
        self._inside = False
        self._hungry = False  # inside play(), waiting for the clock
        self._need = 0.0  # how much time the next block needs
        self._stop = False
        self.now_s = 0.0
        self.played_s = 0.0
        self.underruns = 0
        self.voiced: list[Any] = []  # what each stream said of the coach's sound (music sessions only)
        self.ducks: list[tuple[float, float]] = []  # (clock, gain) of every duck() asked

    def now(self) -> float:
        return self.now_s

    def duck(self, gain: float) -> None:
        self.ducks.append((self.now_s, gain))

    def spawn(self, run: Callable[[], None]) -> threading.Thread:
        with self._cv:
            self._starting += 1
            self._budget = 0.0  # time before a stream starts passes in silence
        thread = _SteppedThread(self, run)
        thread.start()
        return thread

    def play(
        self,
        blocks: Iterable[np.ndarray],
        *,
        on_progress: Callable[[float], Any] | None = None,
        progress_interval_s: float = 0.1,
        voiced: Callable[[int, int], bool] | None = None,
    ) -> None:
        self.voiced.append(voiced)
        with self._cv:
            self._starting = max(0, self._starting - 1)
            self._inside, self._stop = True, False
            self._cv.notify_all()
        pos = 0.0
        try:
            for block in blocks:
                dur = len(block) / MIX_RATE_HZ
                with self._cv:
                    self._hungry, self._need = True, dur
                    self._cv.notify_all()
                    self._cv.wait_for(lambda: self._stop or self._budget >= self._need - 1e-9)
                    self._hungry = False
                    if self._stop:
                        break
                    self._budget -= dur
                pos += dur
                self.played_s += dur
                if on_progress:
                    on_progress(pos)
        finally:
            with self._cv:
                self._inside, self._hungry, self._budget = False, False, 0.0
                self._cv.notify_all()

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()

    def advance(self, seconds: float) -> None:
        """Move the clock on by ``seconds``, and let the stream play that much."""
        with self._cv:
            self.now_s += seconds
            self._budget += seconds
            self._cv.notify_all()
            done = self._cv.wait_for(
                lambda: (
                    self._starting == 0 and (not self._inside or (self._hungry and self._budget < self._need - 1e-9))
                ),
                timeout=10.0,
            )
        assert done, "the stream neither used the time given nor ended"


class _SteppedThread(threading.Thread):
    """A stream's thread whose ``join()`` (waiting for words to end: the goodbye) moves the clock on."""

    def __init__(self, player: SteppedPlayer, run: Callable[[], None]) -> None:
        super().__init__(target=run, daemon=True)
        self.player = player

    def join(self, timeout: float | None = None) -> None:
        while timeout is None and self.is_alive():
            self.player.advance(0.05)
            super().join(0.001)
        super().join(timeout)
