"""One wait on every control input at once: the live loop's only place that reads commands.

Each source is a file descriptor (the terminal, the D-Bus socket, a pipe fed
by the voice recognizer's thread); :meth:`Inputs.wait` selects on all of them
with a timeout, so nothing busy-waits and no input can hold up another or the
audio (which has its own thread and callback). A source that fails is closed
and dropped with a one-line note; the session goes on with the rest.
"""

from __future__ import annotations

import os
import queue
import select
import threading
from collections.abc import Callable, Iterable

from voicecoach.control.commands import Command, Display, Input, PlayerState, Source, SourceError


class Inputs:
    """The session's control sources. ``note`` receives one line when a source is switched off."""

    def __init__(self, sources: Iterable[Input] = (), note: Callable[[str], None] | None = None) -> None:
        self.sources: list[Input] = list(sources)
        self.note = note or (lambda text: None)

    def names(self) -> set[Source]:
        return {s.name for s in self.sources}

    def add(self, source: Input) -> None:
        self.sources.append(source)

    def wait(self, timeout_s: float) -> list[Command]:
        """Commands that arrive within ``timeout_s`` (returns as soon as there are any)."""
        if not self.sources:
            # Nothing to wait on: still sleep, so the caller's loop does not spin.
            threading.Event().wait(timeout_s)
            return []
        by_fd = {}
        for s in list(self.sources):
            try:
                by_fd[s.fileno()] = s
            except (OSError, ValueError, SourceError) as exc:
                self._drop(s, exc)
        if not by_fd:
            return []
        try:
            ready, _, _ = select.select(list(by_fd), [], [], timeout_s)
        except (OSError, ValueError):
            # A descriptor closed under us: find which on the next turn, one by one.
            ready = []
            for fd, s in by_fd.items():
                try:
                    select.select([fd], [], [], 0)
                except (OSError, ValueError) as exc:
                    self._drop(s, exc)
        commands: list[Command] = []
        for fd in ready:
            source = by_fd[fd]
            try:
                commands += source.read()
            except (OSError, SourceError) as exc:
                self._drop(source, exc)
        return commands

    def show(self, state: PlayerState) -> None:
        """Tell the sources that display state (a media player widget) what is happening."""
        for s in list(self.sources):
            if isinstance(s, Display):
                try:
                    s.show(state)
                except (OSError, SourceError) as exc:
                    self._drop(s, exc)

    def seeked(self, position_us: int) -> None:
        for s in list(self.sources):
            if isinstance(s, Display):
                try:
                    s.seeked(position_us)
                except (OSError, SourceError) as exc:
                    self._drop(s, exc)

    def _drop(self, source: Input, exc: BaseException) -> None:
        if source in self.sources:
            self.sources.remove(source)
            try:
                source.close()
            except Exception:
                pass
            reason = str(exc) or type(exc).__name__
            self.note(f"{_LABELS.get(source.name, source.name)} control is off: {reason}.")

    def close(self) -> None:
        for s in self.sources:
            try:
                s.close()
            except Exception:
                pass
        self.sources.clear()


_LABELS = {Source.KEYS: "Keyboard", Source.HEADSET: "Media button", Source.VOICE: "Voice", Source.PHONE: "Phone"}


class QueueSource:
    """Commands pushed from another thread (the voice recognizer), woken through a pipe.

    :meth:`push` is thread-safe and never blocks: the pipe only carries a
    wake-up byte, the commands themselves travel in a queue.
    """

    def __init__(self, name: Source) -> None:
        self.name = name
        self._queue: queue.SimpleQueue[Command | SourceError] = queue.SimpleQueue()
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)

    def push(self, item: Command | SourceError) -> None:
        self._queue.put(item)
        try:
            os.write(self._w, b"!")
        except (BlockingIOError, OSError):
            pass  # the pipe is full of wake-ups already, or closed: the queue keeps the command

    def fileno(self) -> int:
        return self._r

    def read(self) -> list[Command]:
        try:
            while os.read(self._r, 512):
                pass
        except (BlockingIOError, OSError):
            pass
        out: list[Command] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return out
            if isinstance(item, SourceError):
                raise item
            out.append(item)

    def close(self) -> None:
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
