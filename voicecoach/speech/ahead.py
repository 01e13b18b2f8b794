"""Synthesizing ahead: a session's phrases made on background threads, in the order they will be needed.

A live session starts as soon as its first phrases exist and lets :class:`Ahead`
make the rest while it speaks; an export mixes (and measures) what is ready
while the voice makes the rest. The order is a plain list with the phrases
needed first at its front; :meth:`Ahead.prioritize` moves phrases to the
front when the session jumps. Each phrase goes through the
:class:`~voicecoach.speech.speaker.Speaker`, so it lands in the clip cache
and its length becomes known (``speaker.known_length``); a phrase some other
thread asks for meanwhile is made once.

As many threads as the voice can use (piper: 2; the system voice: 1). With
``background=True`` (a live session) one thread makes the phrases after the
first ``urgent`` ones: far faster than the session speaks them, and it
leaves the other core to the session's mixer and sound device.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from voicecoach.speech.speaker import Speaker


class Ahead:
    """Makes ``texts`` in order on background threads; :meth:`close` it when done with the session."""

    def __init__(
        self,
        speaker: Speaker,
        texts: Iterable[str],
        *,
        urgent: int = 0,
        background: bool = False,
        workers: int | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self.speaker = speaker
        self._queue = list(dict.fromkeys(texts))
        self._urgent = set(self._queue[:urgent])
        self._background = background
        self._workers = workers
        self._on_idle = on_idle
        self._cond = threading.Condition()
        self._busy = 0
        self._made = 0  # phrases finished: waiters compare it to notice progress
        self._closed = False
        self._threads: list[threading.Thread] = []
        self.error: BaseException | None = None

    def start(self) -> Ahead:
        """Start the first thread (it resolves the voice, loading a neural model, then starts the others)."""
        self._spawn(first=True)
        return self

    def _spawn(self, first: bool = False) -> None:
        thread = threading.Thread(target=self._run, args=(first,), name="voicecoach-ahead", daemon=True)
        with self._cond:
            self._threads.append(thread)
        thread.start()

    def _run(self, first: bool) -> None:
        try:
            if first:
                workers = self._workers or self.speaker.workers
                for _ in range(1, workers):
                    self._spawn()
            while True:
                with self._cond:
                    if self._closed or not self._queue:
                        idle = not self._closed and self._busy == 0 and self.error is None
                        if idle and self._on_idle is not None:
                            on_idle, self._on_idle = self._on_idle, None  # once, by the last one out
                        else:
                            return
                    else:
                        text = self._queue.pop(0)
                        self._busy += 1
                        on_idle = None
                if on_idle is not None:
                    on_idle()
                    return
                if self._background and not first and text not in self._urgent:
                    with self._cond:  # past the urgent phrases, one thread is enough: put it back
                        self._queue.insert(0, text)
                        self._busy -= 1
                        self._cond.notify_all()
                    return
                try:
                    self.speaker.clip(text, remember=False)
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._made += 1
                        self._cond.notify_all()
        except BaseException as exc:  # handed to whoever waits: the session reports it
            with self._cond:
                self.error = self.error or exc
                self._closed = True
                self._cond.notify_all()

    # -- what the session asks ---------------------------------------------------------
    def prioritize(self, texts: Iterable[str]) -> None:
        """Make these phrases next, in this order (a live session jumped to another exercise)."""
        wanted = list(dict.fromkeys(texts))
        with self._cond:
            waiting = set(self._queue)
            front = [t for t in wanted if t in waiting]
            chosen = set(front)
            self._queue = front + [t for t in self._queue if t not in chosen]

    def ready(self, texts: Iterable[str]) -> bool:
        """Whether every one of ``texts`` is made (or was in the cache). Raises the voice's error, if any."""
        if self.error is not None:
            raise self.error
        return all(self.speaker.known_length(t) is not None for t in texts)

    def wait(self, texts: Iterable[str], timeout_s: float | None = None) -> bool:
        """Wait until :meth:`ready` (True) or ``timeout_s`` passes (False)."""
        wanted = list(texts)
        with self._cond:
            return self._cond.wait_for(
                lambda: self.error is not None or self._ready_quietly(wanted), timeout_s
            ) and self.ready(wanted)

    def _ready_quietly(self, texts: list[str]) -> bool:
        return all(self.speaker.known_length(t) is not None for t in texts)

    def wait_progress(self, since: int, timeout_s: float | None = None) -> int:
        """Wait until more than ``since`` phrases are made (or nothing is left to make); the count now."""
        with self._cond:
            self._cond.wait_for(lambda: self._made > since or self.error is not None or self.finished, timeout_s)
            if self.error is not None:
                raise self.error
            return self._made

    @property
    def closed(self) -> bool:
        """Closed: a long task run when idle (measuring the level) should stop."""
        return self._closed

    @property
    def made(self) -> int:
        return self._made

    @property
    def finished(self) -> bool:
        """Nothing left to make (or closed)."""
        return self._closed or (not self._queue and self._busy == 0)

    @property
    def remaining(self) -> int:
        with self._cond:
            return len(self._queue) + self._busy

    def close(self) -> None:
        """Make no more phrases; wait for those in progress (a voice stopped mid-phrase at exit can crash)."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
            threads = list(self._threads)
        me = threading.current_thread()
        for thread in threads:
            if thread is not me:
                thread.join()

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
