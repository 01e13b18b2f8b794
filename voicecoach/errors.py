"""One exception base class for everything a user can cause or fix.

The CLI turns a :class:`VoicecoachError` into a clear message and its exit
code in one place; anything else is a bug and gets a traceback only with
``--debug``.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2  # click's own code for bad command-line usage
    INVALID_PLAN = 3
    MISSING_DEPENDENCY = 4
    NO_DEVICE = 5
    OUTPUT = 6
    INTERRUPTED = 130


class VoicecoachError(Exception):
    """An error with a message meant for the user and an exit status."""

    exit_status: ExitStatus = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The full text shown to the user (message, then hint)."""
        if self.hint:
            return f"{self.message}\n{self.hint}"
        return self.message


class MissingDependencyError(VoicecoachError):
    """A system package (espeak-ng, ffmpeg, PortAudio...) is not installed."""

    exit_status = ExitStatus.MISSING_DEPENDENCY


class OutputError(VoicecoachError):
    """The output file cannot be written."""

    exit_status = ExitStatus.OUTPUT


class DeviceError(VoicecoachError):
    """No usable sound output device."""

    exit_status = ExitStatus.NO_DEVICE


class ScheduleError(VoicecoachError):
    """Cues that must never move or drop cannot fit (e.g. a very slow voice)."""
