"""Voice control: a wake word, then one spoken command, offline ("hey jarvis, pause").

Two stages behind small interfaces, so another engine can replace either:

* a :class:`WakeWordDetector` listens all the time (microWakeWord, a small
  neural network, in :mod:`.micro`);
* after the wake word, a :class:`CommandRecognizer` hears the next couple of
  seconds and says which command it was, that it was not a command, or that
  nothing was said (pocketsphinx with a grammar of the commands, in
  :mod:`.sphinx`).

:mod:`.listener` runs them: the pure wake/command/echo logic
(:class:`~.listener.VoiceLogic`), and the thread that reads the microphone
and pushes :class:`~voicecoach.control.commands.Command` objects into the
session's inputs. Microphone audio stays in memory, in this process: nothing
is written anywhere or sent anywhere.

Audio everywhere here is 16 kHz mono int16 (numpy arrays), what both engines want.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voicecoach.control.commands import bound

RATE = 16000

#: What can be said after the wake word, and the action each one is (from the controls' table).
VOCABULARY: dict[str, str] = {words: str(action) for words, action in bound("words").items()}


@dataclass(frozen=True)
class Heard:
    """What followed the wake word.

    ``action`` is a command's action, ``"unknown"`` (speech that is not
    clearly a command: the coach answers "Sorry?") or ``""`` (nothing was
    said: nothing happens). ``words`` are the recognized words ("go back").
    """

    action: str
    words: str = ""


NOTHING = Heard("")
NOT_A_COMMAND = Heard("unknown")


class WakeWordDetector(Protocol):
    """Listens all the time for one wake word."""

    phrase: str  # how the wake word is written, e.g. "Hey Jarvis"

    def feed(self, pcm: np.ndarray) -> bool:
        """Take the next samples (any length); True when the wake word has just been heard."""
        ...

    def reset(self) -> None:
        """Forget what was heard so far (after a wake, so the same words do not wake it twice)."""
        ...


class Cleaner(Protocol):
    """A stage in front of both engines that cleans the microphone's samples (echo, noise, gain).

    Stages run in order on every chunk, before the wake word detector and the
    recognizer see it; each returns as many samples as it was given.
    """

    def process(self, pcm: np.ndarray, t_end: float) -> np.ndarray:
        """The chunk cleaned; ``t_end`` is the monotonic time its last sample was captured."""
        ...


class CommandRecognizer(Protocol):
    """Hears one command after the wake word; decides itself when the speaker has finished."""

    def start(self, before: np.ndarray) -> None:
        """A wake word was just heard; ``before`` is the audio up to that moment (it may hold the command's start)."""
        ...

    def feed(self, pcm: np.ndarray) -> Heard | None:
        """The next samples; ``None`` while still listening, then what was heard (once)."""
        ...
