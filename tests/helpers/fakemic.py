"""A scripted microphone, wake word detector and command recognizer for the microphone check (no sound).

:class:`FakeMic` hears the room's noise, and after each prompt the answer the
script gives for it (``respond(prompt) -> samples or None``): what a person
would say then. It counts every sample read, so a test knows how long the
check listened, and refuses to run for ever.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voicecoach.control.voice import RATE, Heard

BLOCK = 320  # 20 ms, as the real microphone sends


def noise(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(int(seconds * RATE))
    return np.clip(x * 32768 * 10 ** (dbfs / 20), -32768, 32767).astype(np.int16)


def word(dbfs: float, seconds: float = 0.8, lead_s: float = 0.5) -> np.ndarray:
    """Something said: a tone burst at ``dbfs`` (RMS) after ``lead_s`` of digital silence."""
    t = np.arange(int(seconds * RATE)) / RATE
    burst = (np.sin(2 * np.pi * 220 * t) * 32768 * 10 ** (dbfs / 20) * np.sqrt(2)).astype(np.int16)
    return np.concatenate([np.zeros(int(lead_s * RATE), np.int16), burst])


class FakeMic:
    def __init__(self, respond: Callable[[str], np.ndarray | None], floor_dbfs: float = -65.0) -> None:
        self.respond = respond
        self.floor = floor_dbfs
        self.prompts: list[str] = []
        self._next: np.ndarray | None = None
        self._pending = np.zeros(0, np.int16)
        self.samples_read = 0
        self._seed = 0

    def say(self, text: str) -> None:
        """The check's voice: a person hears the prompt and answers after it."""
        self.prompts.append(text)
        self._next = self.respond(text)

    def drain(self) -> None:
        self._pending = self._next if self._next is not None else np.zeros(0, np.int16)
        self._next = None

    def read(self) -> np.ndarray:
        self._seed += 1
        room = noise(BLOCK / RATE, self.floor, self._seed)
        if self._pending.size:
            part, self._pending = self._pending[:BLOCK], self._pending[BLOCK:]
            room[: len(part)] = np.clip(room[: len(part)].astype(np.int32) + part, -32768, 32767)
        self.samples_read += BLOCK
        assert self.samples_read < 600 * RATE, "the check listened for over 10 minutes"
        return room

    def record(self, seconds: float) -> np.ndarray:
        return np.concatenate([self.read() for _ in range(int(np.ceil(seconds * RATE / BLOCK)))])


class FakeDetector:
    """Scores takes from a list, in order; wakes on the first loud block after a reset (the command step)."""

    def __init__(self, phrase: str, scores: list[float], cutoff: float = 0.94, model_cutoff: float = 0.97) -> None:
        self.phrase = phrase
        self.scores = list(scores)
        self.cutoff = cutoff
        self.model_cutoff = model_cutoff
        self._woke = False

    def trace(self, pcm: np.ndarray) -> np.ndarray:
        return np.array([0.0, self.scores.pop(0) if self.scores else 0.0], np.float32)

    def feed(self, pcm: np.ndarray) -> bool:
        if not self._woke and np.abs(pcm.astype(np.int32)).max() > 500:
            self._woke = True
            return True
        return False

    def reset(self) -> None:
        self._woke = False


class FakeRecognizer:
    """Hears ``heard`` once the speaker has been quiet for a few blocks after the wake."""

    def __init__(self, heard: Heard) -> None:
        self.heard = heard
        self._quiet = 0

    def start(self, before: np.ndarray) -> None:
        self._quiet = 0

    def feed(self, pcm: np.ndarray) -> Heard | None:
        self._quiet = self._quiet + 1 if np.abs(pcm.astype(np.int32)).max() < 500 else 0
        return self.heard if self._quiet >= 10 else None
