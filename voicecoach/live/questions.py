"""The controller's questions: asking, waiting for an answer, and what follows (a mixin of Coach).

A check-in script (:mod:`voicecoach.live.checkin`) yields questions; the controller speaks
and prints each, waits for an answer command (or a skip, or about 10 s), sends the answer
back and asks the next, then runs what the script decided: start the session or not,
resume or skip an exercise after "it hurts", finish.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from voicecoach.control.commands import Command
from voicecoach.core import phrases
from voicecoach.core.replan import exercise_at, resume_point
from voicecoach.live.checkin import ANSWERING_SOURCES, Ask, CheckIn, Outcome, Question, Script
from voicecoach.store.journal import JournalUnavailable

if TYPE_CHECKING:
    import threading

    from voicecoach.core.timeline import Timeline
    from voicecoach.live.status import Output
    from voicecoach.render.prepare import Prepared
    from voicecoach.store.places import ProgressStore

# Controls that go into the journal (answers are recorded as answers).
ACTIONS_LOGGED = ("toggle", "pause", "resume", "next", "back", "repeat", "more", "less", "help", "hurt")
# During a question, these move on without an answer (a headset's play/pause, n for "next").
SKIPS = ("skip", "toggle", "pause", "resume", "next", "back")


class Questions:
    """Check-in questions for :class:`voicecoach.live.coach.Coach` (which provides the rest)."""

    if TYPE_CHECKING:  # what the controller provides
        p: Prepared
        timeline: Timeline
        out: Output
        inputs: Any
        store: ProgressStore | None
        checkin: CheckIn | None
        paused: bool
        answer_wait_s: float
        asking: Question | None
        _paused_at: float
        _thread: threading.Thread | None
        _segment: Any
        _script: Script | None
        _script_done: Callable[[Outcome], None]
        _deadline: float | None
        _pending: list[str]
        _hinted: set[str]
        _ending: bool | None

        def position(self) -> float: ...
        def _stop(self) -> None: ...
        def _play(self, prefix: Timeline | None, start_s: float, *, session: bool = True) -> None: ...
        def _say(self, text: str, source: str, *, printed: str | None = None) -> Timeline: ...
        def _resume(self, source: str, first: Sequence[str] = ()) -> None: ...
        def _jump(self, target: int, words: str, source: str, first: Sequence[str] = ()) -> None: ...
        def _first_after(self, t: float) -> int: ...
        def _words(self, texts: list[str]) -> Timeline: ...
        def _leave_pause(self) -> None: ...

    def _can_answer(self) -> bool:
        return bool(self.inputs.names() & ANSWERING_SOURCES)

    def _run_script(self, script: Script, done: Callable[[Outcome], None]) -> None:
        self._script, self._script_done = script, done
        self._step(None, first=True)

    def _step(self, answer: str | None, *, first: bool = False) -> None:
        """Send the answer (None: skipped or none in time) and ask the next question, if any."""
        assert self._script is not None
        self._stop()
        self.asking, self._deadline = None, None
        try:
            ask = next(self._script) if first else self._script.send(answer)
        except StopIteration as stop:
            self._script = None
            self._script_done(stop.value)
            return
        self._ask(ask)

    def _ask(self, ask: Ask) -> None:
        q = ask.question
        hint = q.kind not in self._hinted and "keys" in self.inputs.names()
        self._hinted.add(q.kind)
        for text in ask.say_first:
            self.out.message(text)
        self.out.message(f"{q.text} {phrases.ANSWER_KEYS_PRINTED[q.kind]}" if hint else q.text)
        texts = [*self._pending, *ask.say_first, q.text, *([phrases.ANSWER_KEYS[q.kind]] if hint else [])]
        self._pending = []
        self.asking = q
        self._play(self._words(texts), 0.0, session=False)

    def _wait_for_answer(self, idle: bool) -> None:
        if idle and self._deadline is None:
            self._stop()  # the question has been said: the wait starts now
            self._deadline = time.monotonic() + self.answer_wait_s
        if self._deadline is not None and time.monotonic() >= self._deadline:
            self._step(None)  # no answer: move on, record nothing

    def _answer(self, command: Command) -> None:
        assert self.asking is not None
        if command.value is not None and self.asking.accepts(command.value):
            self.out.message(phrases.noted(command.value), source=command.source)
            self._pending = [phrases.noted(command.value)]
            self._step(command.value)
        elif command.action in SKIPS:
            self._step(None)
        elif command.action == "help":
            self._deadline = None  # wait again once it has been said
            self.out.message(phrases.ANSWER_KEYS[self.asking.kind])
            self._play(self._words([phrases.ANSWER_KEYS[self.asking.kind]]), 0.0, session=False)

    def _begin(self, outcome: Outcome) -> None:
        """The check-ins before the session are done: start it (at today's doses), or not."""
        if outcome.doses is not None and outcome.doses != self.p.options.doses:
            self.p = self.p.replan(replace(self.p.options, doses=outcome.doses))
            self.timeline = self.p.timeline
        for text in outcome.say:
            self.out.message(text)
        texts, self._pending = [*self._pending, *outcome.say], []
        if not outcome.go:
            self._ending = False
            self._play(self._words(texts), 0.0, session=False)
            return
        self._play(self._words(texts) if texts else None, 0.0)

    def _after(self, outcome: Outcome) -> None:
        for text in outcome.say:
            self.out.message(text)
        texts, self._pending = [*self._pending, *outcome.say], []
        self._ending = True
        if texts:
            self._play(self._words(texts), 0.0, session=False)

    def _hurt(self, source: str) -> None:
        """ "It hurts": pause, ask how much, and stop this exercise above 5."""
        t = self._paused_at if self.paused else self.position()
        self._stop()
        self.paused, self._paused_at = True, t
        if self.checkin is None:
            self._play(self._say(phrases.paused(source), source), 0.0)
            return
        index = exercise_at(self.timeline, t)
        self._run_script(self.checkin.hurt(index, self._can_answer()), lambda outcome: self._hurt_done(outcome, source))

    def _hurt_done(self, outcome: Outcome, source: str) -> None:
        first, self._pending = [*self._pending, *outcome.say], []
        if outcome.then == "resume":
            self._resume(source, first)
        elif outcome.then == "skip":
            current = exercise_at(self.timeline, self._paused_at)
            self._leave_pause()
            self._jump(
                current + 1 if current is not None else self._first_after(self._paused_at), phrases.NEXT, source, first
            )
        else:  # no answer: stay paused, and say how to go on
            for text in outcome.say:
                self.out.message(text)
            self.out.message(phrases.paused(source), source=source)
            self._play(self._words([*first, phrases.paused(source)]), 0.0)

    def _journal_check(self) -> None:
        if self.checkin is not None:
            lost = self.checkin.take_lost()
            if lost is not None:
                if self.store is not None and self.store.journal is not None:
                    self.store = None  # the same file: no place can be saved either
                self._journal_lost(lost, self._paused_at if self.paused else self.position())

    def _journal_lost(self, exc: JournalUnavailable, t: float) -> None:
        """The journal failed mid-session: go on without it, said once (printed with the path)."""
        if self.checkin is not None:
            self.checkin.journal = None
        self.out.message(str(exc))
        if self.asking is None and not self.paused and self._thread is not None and self._thread.is_alive():
            self._play(
                self._words([phrases.JOURNAL_LOST]),
                resume_point(self.timeline, t),
                session=self._segment.timeline is not None,
            )
        else:
            self._pending.append(phrases.JOURNAL_LOST)
