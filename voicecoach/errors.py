"""One exception base class for everything a user can cause or fix.

The CLI turns a :class:`VoicecoachError` into a clear message and its exit
code in one place; anything else is a bug and gets a traceback only with
``--debug``.
"""

from __future__ import annotations

import enum
import re

# C0 and C1 controls (but newline and tab), lone surrogates, and the bidi overrides and
# isolates that reorder what a terminal shows: never printed raw.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def visible(text: str) -> str:
    """``text`` with every character a terminal would act on shown as an escape (``\\x1b``, ``\\u202e``)."""
    return _UNSHOWABLE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


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
        """The full text shown to the user (message, then hint), with control characters escaped."""
        if self.hint:
            return visible(f"{self.message}\n{self.hint}")
        return visible(self.message)


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


class Interrupted(VoicecoachError):
    """Stopped by Ctrl-C or a signal; the message says what that meant (shown without "error:")."""

    exit_status = ExitStatus.INTERRUPTED
