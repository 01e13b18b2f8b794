"""Single-key control without Enter: the terminal as one control source.

The terminal is put in cbreak mode once for the whole session (and always
restored), and read only when ``select`` says a key is there, so a session
can never leave the terminal in raw mode and Ctrl-C still raises
KeyboardInterrupt. Escape sequences are read whole: arrows are commands, any
other sequence (F-keys, Shift+F2...) is ignored rather than read as letters.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from voicecoach import interrupts
from voicecoach.control.commands import Action, Command, Source, bound

# key -> action (the table is the controls' one: voicecoach.control.commands.BINDINGS)
KEYMAP = bound("keys")
# key -> the answer it gives to a check-in question: 0-9, t for 10, y and n.
ANSWER_KEYS = {**{str(d): str(d) for d in range(10)}, "t": "10", "y": "yes", "n": "no"}

# A CSI sequence (ESC [ parameters, intermediates, one final byte) or SS3 (ESC O x).
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1bO.|\x1b")


def action_for(key: str) -> Action | None:
    """The action for a key as read from the terminal (case-insensitive letters)."""
    return KEYMAP.get(key) or KEYMAP.get(key.lower())


def command_for(key: str, source: Source = Source.KEYS) -> Command | None:
    """The command for a key: its action, with the answer it also gives (if any)."""
    answer = ANSWER_KEYS.get(key.lower()) if len(key) == 1 else None
    action = action_for(key) or (Action.ANSWER if answer is not None else None)
    return Command(action, source, answer) if action else None


def _split(data: str) -> list[str]:
    """Split a read into keys, keeping escape sequences whole (an unknown one maps to nothing)."""
    keys, i = [], 0
    while i < len(data):
        if data[i] == "\x1b":
            m = _ESCAPE.match(data, i)
            end = m.end() if m else i + 1
            keys.append(data[i:end])
            i = end
        else:
            keys.append(data[i])
            i += 1
    return keys


class Keys:
    """The terminal's keys as a control source (``name`` "keys")."""

    name = Source.KEYS

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def read(self) -> list[Command]:
        """Commands for the keys waiting on the terminal (called when it is readable)."""
        try:
            data = os.read(self.fd, 64).decode("utf-8", "replace")
        except BlockingIOError:
            return []
        if not data:
            raise OSError("the terminal was closed")
        return [c for c in (command_for(k, self.name) for k in _split(data)) if c is not None]

    def poll(self, timeout_s: float) -> list[Action]:
        """Actions for the keys pressed within ``timeout_s`` (waits at most that long)."""
        import select

        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        return [c.action for c in self.read()] if ready else []

    def close(self) -> None:
        pass  # the terminal is restored by keyboard(), not by the loop


@contextmanager
def keyboard(enabled: bool = True) -> Iterator[Keys | None]:
    """Keys from stdin while the block runs, if stdin is a terminal (Unix); else None.

    The terminal's settings are restored however the block ends, and set again
    after Ctrl-Z and ``fg`` (the shell resets them while the job is stopped).
    Ctrl-\\ quits like Ctrl-C (place saved) instead of dumping core with the
    terminal still in cbreak mode.
    """
    stdin = sys.stdin
    try:
        usable = enabled and stdin is not None and stdin.isatty() and os.name == "posix"
    except (ValueError, OSError):  # a closed stdin
        usable = False
    if not usable:
        yield None
        return
    import termios
    import tty

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)

    def cbreak() -> None:
        tty.setcbreak(fd)  # no Enter, no echo; Ctrl-C still interrupts

    def on_cont(signum: int, frame: Any) -> None:
        try:
            cbreak()
        except termios.error:
            pass

    old: dict[int, Any] = {}
    for sig, handler in (
        (getattr(signal, "SIGCONT", None), on_cont),
        (getattr(signal, "SIGQUIT", None), interrupts.handle),
    ):
        if sig is not None:
            try:
                old[sig] = signal.signal(sig, handler)
            except ValueError:  # not the main thread: keep the defaults
                pass
    try:
        cbreak()
        yield Keys(fd)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        for sig, handler in old.items():
            signal.signal(sig, handler)
