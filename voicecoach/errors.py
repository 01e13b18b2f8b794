"""One exception base class for everything a user can cause or fix.

The CLI turns a :class:`VoicecoachError` into a clear message and its exit
code in one place; anything else is a bug and gets a traceback only with
``--debug``.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

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
    INVALID_CONFIG = 3  # the same code: a file the user wrote has problems
    MISSING_DEPENDENCY = 4
    NO_DEVICE = 5
    OUTPUT = 6
    MUSIC = 7  # a --music file or folder cannot be used
    CHECK_FAILED = 8  # mic-check ran, and found that voice control may not work well
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


class MusicError(VoicecoachError):
    """A ``--music`` file or folder that cannot be played: missing, unreadable, empty, not audio."""

    exit_status = ExitStatus.MUSIC

    def __init__(self, message: str, *, hint: str | None = None, path: object = None, why: str = "") -> None:
        super().__init__(message, hint=hint)
        self.path = path  # the file, when one file is at fault (a live session names it when the music stops)
        self.why = why  # what went wrong with it, in a few words


class DeviceError(VoicecoachError):
    """No usable sound device: none at all, or none (or several) that --device or --mic names."""

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
        # every line is made visible(): a file's own control characters never reach the terminal
        for p in self.problems:
            out.append(f"{self.source}:{p.line}:{p.column}: {p.message}")
            if 0 < p.line <= len(lines):
                src, col = _excerpt(lines[p.line - 1].expandtabs(1), p.column)
                out.append(f"    {src}")
                out.append("    " + " " * (col - 1) + "^")
            if p.hint:
                out.append(f"    {p.hint}")
        n = len(self.problems)
        out.append(f"{n} problem{'s' if n != 1 else ''} in {self.source}")
        return visible("\n".join(out))


# Controls (Cc) act on a terminal, lone surrogates (Cs) cannot be written out, and invisible
# format characters (Cf: bidi overrides that reorder a line, soft hyphens, tags...) hide
# what is really there. Allowed: the zero-width (non-)joiners that some scripts and emoji need.
_JOINERS = frozenset("\u200c\u200d")


def unshowable(c: str) -> bool:
    """Whether a character must never be shown raw (nor accepted in text a user sees)."""
    return unicodedata.category(c) in ("Cc", "Cs", "Cf") and c not in _JOINERS


def _excerpt(line: str, column: int, width: int = 100) -> tuple[str, int]:
    """The part of a source line shown under a problem, and the caret's column in it.

    A long line shows ``width`` characters around the column; a character
    that would act on the terminal shows as U+FFFD, so the caret stays aligned.
    """
    line = "".join("\ufffd" if unshowable(c) else c for c in line)
    if len(line) <= width:
        return line, column
    start = max(0, min(column - 1 - width // 2, len(line) - width))
    head = "..." if start else ""
    tail = "..." if start + width < len(line) else ""
    return head + line[start : start + width] + tail, column - start + len(head)


class Interrupted(VoicecoachError):
    """Stopped by Ctrl-C or a signal; the message says what that meant (shown without "error:")."""

    exit_status = ExitStatus.INTERRUPTED


def utf8_text(data: bytes, source: str, error: type[FileProblems], hint: str) -> str:
    """A file's bytes as text: UTF-8 (a BOM is allowed), else ``error`` located at the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(source, "", [Problem(line, col, "the file is not UTF-8 text", hint)]) from None
