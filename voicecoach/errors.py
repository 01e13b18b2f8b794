"""One exception base class for everything a user can cause or fix.

The CLI turns a :class:`VoicecoachError` into a clear message and its exit
code in one place; anything else is a bug and gets a traceback only with
``--debug``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitStatus(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2  # click's own code for bad command-line usage
    INVALID_PLAN = 3
    INVALID_CONFIG = 3  # the same code: a file the user wrote has problems
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


@dataclass(frozen=True)
class Problem:
    """One problem in a file the user wrote, at a 1-based line and column."""

    line: int
    column: int
    message: str
    hint: str | None = None


class FileProblems(VoicecoachError):
    """One or more problems in a file the user wrote (a plan, the config), each with its location.

    Rendered as ``file:line:column: message``, the line itself with a caret
    under the column, then the hint (what is valid), for every problem.
    """

    exit_status = ExitStatus.INVALID_PLAN

    def __init__(self, source: str, text: str, problems: list[Problem]) -> None:
        self.source = source
        self.text = text
        self.problems = sorted(problems, key=lambda p: (p.line, p.column))
        super().__init__(self.render())

    def render(self) -> str:
        lines = self.text.splitlines()
        out: list[str] = []
        for p in self.problems:
            out.append(f"{self.source}:{p.line}:{p.column}: {p.message}")
            if 0 < p.line <= len(lines):
                src = lines[p.line - 1].expandtabs(1)
                out.append(f"    {src}")
                out.append("    " + " " * (p.column - 1) + "^")
            if p.hint:
                out.append(f"    {p.hint}")
        n = len(self.problems)
        out.append(f"{n} problem{'s' if n != 1 else ''} in {self.source}")
        return "\n".join(out)
