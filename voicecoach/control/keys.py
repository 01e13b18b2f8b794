"""Single-key control without Enter, read without a thread.

The terminal is put in cbreak mode once for the whole session (and always
restored), and keys are polled with ``select``, so a session can never leave
the terminal in raw mode and Ctrl-C still raises KeyboardInterrupt.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# key -> action
KEYMAP = {
    " ": "pause",
    "n": "next", "\x1b[C": "next", "\x1bOC": "next",
    "p": "back", "\x1b[D": "back", "\x1bOD": "back",
    "r": "repeat",
    "+": "more", "=": "more",
    "-": "less", "_": "less",
    "q": "quit",
    "?": "help", "h": "help",
}



def action_for(key: str) -> str | None:
    """The action for a key as read from the terminal (case-insensitive letters)."""
    return KEYMAP.get(key) or KEYMAP.get(key.lower())


class Keys:
    """Polls the terminal for keys; inert when stdin is not a terminal."""

    enabled = True

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def poll(self, timeout_s: float) -> list[str]:
        """Actions for the keys pressed within ``timeout_s`` (waits at most that long)."""
        import select

        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if not ready:
            return []
        data = os.read(self.fd, 64).decode("utf-8", "replace")
        return [a for a in (action_for(k) for k in _split(data)) if a]


class NoKeys:
    """Stands in when there is no terminal: keys are simply off."""

    enabled = False

    def poll(self, timeout_s: float) -> list[str]:
        import time

        time.sleep(timeout_s)
        return []


def _split(data: str) -> list[str]:
    """Split a read into keys, keeping escape sequences (arrows) whole."""
    keys, i = [], 0
    while i < len(data):
        if data[i] == "\x1b" and i + 2 < len(data) and data[i + 1] in "[O":
            keys.append(data[i:i + 3])
            i += 3
        else:
            keys.append(data[i])
            i += 1
    return keys


@contextmanager
def keyboard(enabled: bool = True) -> Iterator[Keys | NoKeys]:
    """Keys from stdin while the block runs, if stdin is a terminal (Unix)."""
    stdin = sys.stdin
    if not enabled or stdin is None or not stdin.isatty() or os.name != "posix":
        yield NoKeys()
        return
    import termios
    import tty

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)  # no Enter, no echo; Ctrl-C still interrupts
        yield Keys(fd)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
