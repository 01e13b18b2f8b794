"""Self-paced sets in a live session: the wait for "done", its gentle reminder, and "done" itself.

The stream ends as a self-paced set's opening words end (:attr:`Playback.paced_at`); the
controller hands that point to :meth:`Pacer.wait` on each turn while it stands there. The
pacer counts the time spent on the set (not while paused), says a reminder about once a
minute in the words of the inputs at hand, and never gives up. "Done" ends the set at that
moment (:func:`voicecoach.core.replan.finish_paced`): its stop, the rest after it and
everything later keep their exact offsets from "done".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from voicecoach.control.commands import Source
from voicecoach.core import phrases
from voicecoach.core.replan import finish_paced, paced_phase_at
from voicecoach.core.timeline import Phase, Timeline
from voicecoach.live.events import EventType
from voicecoach.live.playback import Playback
from voicecoach.live.stream import InputsLike

REMIND_EVERY_S = 60.0  # a gentle reminder, about once a minute of waiting (pauses not counted)


class Host(Protocol):
    """What the pacer needs of the session's controller (:class:`voicecoach.live.coach.Coach`)."""

    paused: bool
    playback: Playback
    inputs: InputsLike

    @property
    def timeline(self) -> Timeline: ...
    def now(self) -> float: ...
    def emit(self, kind: EventType, **fields: Any) -> None: ...
    def message(self, text: str, source: Source = Source.KEYS) -> None: ...
    def play(self, prefix: Timeline | None, start_s: float, *, session: bool = True, waiting: bool = False) -> None: ...
    def go_on(self) -> float: ...


def _key(phase: Phase) -> tuple[int | None, int | None, str | None, float]:
    return (phase.exercise_index, phase.set, phase.side, phase.start_s)


class Pacer:
    """The self-paced set the session waits in, if any, and the time spent on it."""

    def __init__(self, host: Host, clock: Callable[[], float], remind_every_s: float = REMIND_EVERY_S) -> None:
        self.host = host
        self.clock = clock
        self.remind_every_s = remind_every_s
        self.spent_s = 0.0  # on the set waited in: its opening words, then the wait (pauses not counted)
        self._key: tuple[int | None, int | None, str | None, float] | None = None
        self._last: float | None = None  # the clock at the last turn counted
        self._reminded_s = 0.0  # spent_s at the last reminder (or at the start of the wait)

    @property
    def waiting(self) -> bool:
        """The session waits for "done" (also while paused or answering inside that wait)."""
        return self._key is not None

    def tick(self) -> None:
        """Each turn of the loop: count the time (not while paused); forget a set the session left."""
        if self._key is None:
            return
        host = self.host
        phase = paced_phase_at(host.timeline, host.now())
        if phase is None or _key(phase) != self._key:
            self._key = None  # next, back, a skip for pain: this wait is over
            return
        now = self.clock()
        if host.paused:
            self._last = None  # a pause stops the count, and so the reminder
            return
        if self._last is not None:
            self.spent_s += now - self._last
        self._last = now

    def wait(self, at: float) -> None:
        """The stream stopped at ``at``, the wait point of a self-paced set: stand there (called each turn)."""
        host = self.host
        host.playback.stand_at(at)
        phase = paced_phase_at(host.timeline, at)
        if phase is None:
            return
        if self._key != _key(phase):
            self._key, self._last = _key(phase), self.clock()
            self.spent_s = self._reminded_s = at - phase.start_s
        host.emit(EventType.AWAITING, t=at, seconds=self.spent_s)
        if self.spent_s - self._reminded_s >= self.remind_every_s:
            self._reminded_s = self.spent_s
            text = phrases.done_when_ready(host.inputs.names())
            host.message(text)
            host.play(host.playback.words([text]), at)  # then on to the wait point again: at once

    def done(self, source: Source) -> bool:
        """ "Done": the self-paced set in progress ends now (False if there is none)."""
        host = self.host
        phase = paced_phase_at(host.timeline, host.now())
        if phase is None:
            return False
        t = host.go_on()  # from a pause too: done is done
        spent = self.spent_s if self._key == _key(phase) else max(0.0, t - phase.start_s)
        self._key = None
        timeline, at = finish_paced(host.timeline, t)
        host.playback.set_timeline(timeline)
        host.emit(EventType.SET_DONE, t=at, seconds=spent, source=source)
        host.message(phrases.DONE_PRINTED, source=source)
        host.play(None, at)  # the set's stop ("Stop. Relax.") follows at once, then the rest
        host.emit(EventType.ADJUSTED, t=at)
        return True
