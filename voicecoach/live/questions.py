"""The question runner: asks a check-in script's questions, waits for answers, reports how it ended.

A check-in script (:mod:`voicecoach.live.checkin`) yields questions; the runner says and
prints each (through the controller's ``say``), waits for an answer command (or a skip, or
about 10 s), sends the answer back and asks the next. When the script ends, its
:class:`~voicecoach.live.checkin.Outcome` goes to the ``done`` callback given with it: the
controller decides what follows (start the session or not, resume or skip an exercise).

Words to say before whatever plays next ("Noted: 4.", the notes before the first question)
wait in :attr:`QuestionRunner.pending`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from voicecoach.control.commands import BINDINGS, Action, Command, Source
from voicecoach.core import phrases
from voicecoach.live.checkin import ANSWER_WAIT_S, Ask, Outcome, Question, Script
from voicecoach.live.events import EventType

Done = Callable[[Outcome], None]


class QuestionRunner:
    """Runs one script at a time. ``say(texts)`` plays words with no session after them,
    ``show(text, source)`` prints a line, ``stop()`` silences what plays, and ``emit(type,
    **fields)`` publishes an event (a question asked, answered)."""

    def __init__(
        self,
        say: Callable[[Sequence[str]], None],
        show: Callable[[str, Source], None],
        stop: Callable[[], None],
        emit: Callable[..., None],
        *,
        hints: bool,
        answer_wait_s: float = ANSWER_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._say, self._show, self._stop, self._emit = say, show, stop, emit
        self.hints = hints  # the keys are on: say once per kind of question which keys answer it
        self.answer_wait_s = answer_wait_s
        self.clock = clock
        self.asking: Question | None = None
        self.deadline: float | None = None  # set once the question has been said
        self.pending: list[str] = []
        self._script: Script | None = None
        self._done: Done = lambda outcome: None
        self._hinted: set[str] = set()

    def take_pending(self, *more: str) -> list[str]:
        """The words waiting to be said, then ``more``; none wait after this."""
        texts, self.pending = [*self.pending, *more], []
        return texts

    def run(self, script: Script, done: Done) -> None:
        self._script, self._done = script, done
        self._step(None, first=True)

    def heard(self, command: Command) -> None:
        """A command while a question waits: an answer it accepts, a skip, or help."""
        assert self.asking is not None
        if command.value is not None and self.asking.accepts(command.value):
            noted = phrases.noted(command.value)
            self._show(noted, command.source)  # where it came from, as every control's confirmation
            self.pending = [noted]
            self._step(command.value)
        elif BINDINGS[command.action].skips_question:
            self._step(None)
        elif command.action == Action.HELP:
            self.deadline = None  # wait again once it has been said
            self._show(phrases.ANSWER_KEYS[self.asking.kind], Source.KEYS)
            self._say([phrases.ANSWER_KEYS[self.asking.kind]])

    def tick(self, idle: bool) -> None:
        """A turn of the loop while a question waits (``idle``: nothing plays)."""
        if idle and self.deadline is None:
            self._stop()
            self.deadline = self.clock() + self.answer_wait_s  # the question has been said: the wait starts now
        if self.deadline is not None and self.clock() >= self.deadline:
            self._step(None)  # no answer: move on, record nothing

    def _step(self, answer: str | None, *, first: bool = False) -> None:
        """Send the answer (None: skipped or none in time) and ask the next question, if any."""
        assert self._script is not None
        self._stop()
        if not first:
            self._emit(EventType.ANSWERED, answer=answer)
        self.asking, self.deadline = None, None
        try:
            ask = next(self._script) if first else self._script.send(answer)
        except StopIteration as stop:
            self._script = None
            self._done(stop.value)
            return
        self._ask(ask)

    def _ask(self, ask: Ask) -> None:
        q = ask.question
        hint = q.kind not in self._hinted and self.hints
        self._hinted.add(q.kind)
        for text in ask.say_first:
            self._show(text, Source.KEYS)
        self._show(f"{q.text} {phrases.ANSWER_KEYS_PRINTED[q.kind]}" if hint else q.text, Source.KEYS)
        texts = self.take_pending(*ask.say_first, q.text, *([phrases.ANSWER_KEYS[q.kind]] if hint else []))
        self.asking = q
        self._emit(EventType.ASKED, text=q.text, choices=q.answers)
        self._say(texts)
