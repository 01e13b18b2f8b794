"""What a live session shows: a status line on a terminal, or one plain line per spoken cue.

Plain lines carry only the words being spoken, so a screen reader reads them
cleanly; nothing relies on colour.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from voicecoach.core.replan import phase_at
from voicecoach.core.sheet import clock
from voicecoach.core.timeline import Cue, Timeline

_WHAT = {
    "hold": "hold",
    "reps": "repetitions",
    "timed": "keep going",
    "rest": "rest",
    "switch": "switch sides",
    "setup": "get ready",
    "intro": "introduction",
    "end": "finished",
}


def wants_plain(environ: Mapping[str, str] | None = None) -> bool:
    """A screen reader's conventions: ``ACCESSIBLE`` set (any value) or ``TERM=dumb`` ask for
    whole plain lines, nothing redrawn in place, no escape sequences."""
    env = os.environ if environ is None else environ
    return "ACCESSIBLE" in env or env.get("TERM") == "dumb"


def status_text(timeline: Timeline, t: float, total_exercises: int, spent_s: float | None = None) -> str:
    """E.g. ``Exercise 3 of 9: Side lunge stretch, set 1 of 2, right side, hold, 12 s left``.

    A self-paced set shows the time spent on it (``spent_s``, once the session waits for "done"):
    ``..., your own pace, 1:05 so far``.
    """
    p = phase_at(timeline, t)
    if p is None:
        return ""
    parts = []
    if p.exercise_index is not None:
        parts.append(f"Exercise {p.exercise_index + 1} of {total_exercises}: {p.exercise}")
    if p.set is not None and p.sets:
        parts.append(f"set {p.set} of {p.sets}")
    if p.side:
        parts.append(f"{p.side} side")
    if p.self_paced:
        parts.append("your own pace")
        if spent_s is not None:
            spent = math.floor(spent_s)
            parts.append(f"{clock(spent, tenths=False)} so far" if spent >= 60 else f"{spent} s so far")
        return ", ".join(parts)
    parts.append(_WHAT.get(p.kind, p.kind))
    if p.kind in ("hold", "reps", "timed", "rest", "switch", "setup"):
        left = max(0, math.ceil(p.end_s - t - 1e-9))
        parts.append(f"{clock(left, tenths=False)} left" if left >= 60 else f"{left} s left")
    return ", ".join(parts)


def _own_stdout() -> TextIO:
    """Standard output through a file descriptor of its own.

    The system voice silences file descriptor 1 for a few milliseconds while it
    speaks a phrase (espeak-ng prints); with phrases made in the background
    during a session, lines written then would be lost. A duplicate of the
    descriptor is not silenced.
    """
    try:
        fd = os.dup(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # no real descriptor (a test's capture): as it is
        return sys.stdout
    return open(fd, "w", encoding=sys.stdout.encoding, errors=sys.stdout.errors, buffering=1)


class Output:
    """Where a live session writes. Modes: "status" (one line updated in place), "plain", "quiet"."""

    def __init__(self, mode: str, stream: TextIO | None = None) -> None:
        self.mode = mode
        self.stream = stream or sys.stdout
        self._line = ""

    @classmethod
    def auto(cls, plain: bool, quiet: bool, stream: TextIO | None = None) -> Output:
        stream = stream or _own_stdout()
        if quiet:
            return cls("quiet", stream)
        return cls("plain" if plain or wants_plain() or not stream.isatty() else "status", stream)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def cue(self, cue: Cue) -> None:
        """A cue has just started sounding."""
        if self.mode == "plain":
            self._write(cue.text + "\n")

    def status(self, text: str) -> None:
        if self.mode == "status" and text != self._line:
            # Carriage return and erase-line: the line is rewritten, not appended to.
            self._write("\r\x1b[2K" + text)
            self._line = text

    def message(self, text: str, source: str = "keys") -> None:
        """A message that is also spoken (paused, keys, resumed...).

        A control from another input than the keyboard says where it came
        from: "Paused (headset). Press play to resume."
        """
        if self.mode == "quiet":
            return
        if source != "keys":
            text = with_source(text, source)
        if self.mode == "status" and self._line:
            self._write("\r\x1b[2K")
            self._line = ""
        self._write(text + "\n")

    def notice(self, text: str) -> None:
        """A line that is printed in every mode, quiet too (the phone remote's address: without it the
        page cannot be opened)."""
        if self.mode == "status" and self._line:
            self._write("\r\x1b[2K")
            self._line = ""
        self._write(text + "\n")

    def close(self) -> None:
        if self.mode == "status" and self._line:
            self._write("\n")
            self._line = ""


def with_source(text: str, source: str) -> str:
    """``Paused. Press play...`` -> ``Paused (headset). Press play...``: the source after the first words."""
    head, dot, rest = text.partition(".")
    return f"{head} ({source}){dot}{rest}" if dot else f"{text} ({source})"
