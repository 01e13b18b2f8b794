"""The live session's one event stream: what happened, typed, for every output that shows or keeps it.

The session publishes :class:`Event` objects; outputs (the status line or plain lines, the
media player, the journal record, the saved place) subscribe one callback each and never
call one another. A new output subscribes without touching the others; it must not block
(the session's loop calls it) and handles its own failures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voicecoach.control.commands import Action, Source
from voicecoach.core.timeline import Cue, Timeline
from voicecoach.core.vocab import StrEnum


class EventType(StrEnum):
    """What happened (an event's other fields say where and what)."""

    STARTED = "started"  # the session's controller runs: the first words follow
    MESSAGE = "message"  # a line said aloud too (text; source, when a control's confirmation)
    CUE = "cue"  # a cue of the session started sounding (cue)
    PROGRESS = "progress"  # the session clock moved while the session plays (t)
    TICK = "tick"  # a turn of the loop, whatever it does: outputs check their own health
    STATE = "state"  # the session as players show it (t, paused), each turn the controller is not busy
    PLACE = "place"  # the exercise, set or side changed (t)
    ADJUSTED = "adjusted"  # the current hold or rest got more or less time (t: where)
    JUMPED = "jumped"  # the session moved to another exercise (t: where it now starts)
    LEFT = "left"  # the session leaves the exercise at t unfinished (next, or stopped for pain)
    PAUSED = "paused"
    RESUMED = "resumed"
    WAITING = "waiting"  # the voice fell behind: the session waits at t for phrases
    AWAITING = "awaiting"  # a self-paced set: the session waits at t for the person's "done" (seconds so far)
    SET_DONE = "set_done"  # ... and "done" came (seconds: the time the set took; source)
    CONTROL = "control"  # a control was used (action, source)
    LISTENING = "listening"  # the wake word was heard: the coach's voice is lowered until the command (source)
    LISTENED = "listened"  # ... the command was decided, or none came in time: full voice again (source)
    ASKED = "asked"  # a check-in question is asked (text; choices: the answers it takes)
    ANSWERED = "answered"  # ... and answered (answer; None when skipped or unanswered)
    HURT = "hurt"  # "it hurts" (source)
    JOURNAL_LOST = "journal_lost"  # the journal failed mid-session: nothing more is recorded (text)
    STOPPED = "stopped"  # the session was stopped before its end (t, source)
    FINISHED = "finished"  # the session ran to its end
    CLOSED = "closed"  # the controller is done (after a finish, a stop or a fault): outputs close


@dataclass(frozen=True)
class Event:
    """One thing that happened in a live session, at ``t`` seconds into ``timeline``."""

    type: EventType
    timeline: Timeline
    t: float = 0.0
    paused: bool = False
    text: str = ""
    source: Source = Source.KEYS
    action: Action | None = None
    cue: Cue | None = None
    answer: str | None = None
    seconds: float | None = None  # a self-paced set: the time spent on it so far, or in all
    choices: tuple[str, ...] = ()


EventCallback = Callable[[Event], None]


class EventStream:
    """Subscribers, called in the order they subscribed, on the session's thread."""

    def __init__(self) -> None:
        self._callbacks: list[EventCallback] = []

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Add ``callback``; returns a function that removes it."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def publish(self, event: Event) -> None:
        for callback in list(self._callbacks):
            callback(event)
