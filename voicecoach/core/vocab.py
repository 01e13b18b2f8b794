"""Small closed vocabularies shared across layers, and the str enum they are written with.

A :class:`StrEnum` member is a ``str`` whose ``str()`` and format are its value, so it can
go into JSON, SQL and messages unchanged. It lives in the core so every layer can use it
(the core imports nothing else of voicecoach).
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10

    class StrEnum(str, Enum):
        """A str whose members print as their value (enum.StrEnum from Python 3.11)."""

        def __str__(self) -> str:
            return str(self.value)


__all__ = ["EngineName", "StrEnum"]


class EngineName(StrEnum):
    """The speech engines by name, in the order ``--engine`` lists them (the values are what
    ``--engine`` and the config file take). :mod:`voicecoach.speech.engine` maps each to its engine."""

    SYSTEM = "system"  # pyttsx3: espeak-ng, SAPI5 or macOS
    PIPER = "piper"  # the neural voice (the neural extra)
