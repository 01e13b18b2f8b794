"""The dispatcher: each :class:`~voicecoach.control.commands.Action` and its handler, in one table.

A handler gets the session's controller and the command; it changes the session through
the controller's few verbs (pause, resume, say, go on, jump, adjust, hurt). Controls that
the journal records are published as a CONTROL event before they are handled. An action
with no handler (an answer or a skip with no question open) changes nothing. The voice's
:data:`NOTICES` ("listening", "done listening") are handled whatever the session is doing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from voicecoach.control.commands import BINDINGS, Action, Command, Source
from voicecoach.core import phrases
from voicecoach.core.replan import adjust_phase, exercise_at, last_instruction, phase_at
from voicecoach.core.timeline import Timeline
from voicecoach.live.events import EventType
from voicecoach.live.pacer import Pacer


class Coach(Protocol):
    """What handlers may do to a session (:class:`voicecoach.live.coach.Coach` does it)."""

    paused: bool
    pacer: Pacer
    paused_at: float

    @property
    def timeline(self) -> Timeline: ...
    def emit(self, kind: EventType, **fields: Any) -> None: ...
    def say(self, text: str, source: Source) -> None: ...
    def pause(self, source: Source) -> None: ...
    def resume(self, source: Source, first: Sequence[str] = ()) -> None: ...
    def go_on(self) -> float: ...
    def first_after(self, t: float) -> int: ...
    def jump(self, target: int, words: str, source: Source, t: float, first: Sequence[str] = ()) -> None: ...
    def adjust(self, timeline: Timeline, source: Source, words: str) -> None: ...
    def hurt(self, source: Source) -> None: ...
    def listening(self, on: bool, source: Source) -> None: ...


Handler = Callable[[Coach, Command], None]


def dispatch(coach: Coach, command: Command) -> None:
    """Obey one command (a question is not waiting; quit is the loop's own)."""
    if BINDINGS[command.action].logged:
        coach.emit(EventType.CONTROL, action=command.action, source=command.source)
    handler = HANDLERS.get(command.action)
    if handler is not None:
        handler(coach, command)


def _headset_done(coach: Coach, command: Command) -> bool:
    """A headset has one button: while a self-paced set waits (and is not paused), play means "done"."""
    return command.source is Source.HEADSET and coach.pacer.waiting and not coach.paused


def _toggle(coach: Coach, command: Command) -> None:
    if _headset_done(coach, command):
        coach.pacer.done(command.source)
        return
    (coach.resume if coach.paused else coach.pause)(command.source)


def _pause(coach: Coach, command: Command) -> None:
    if not coach.paused:  # while paused: already done (headsets repeat it)
        coach.pause(command.source)


def _resume(coach: Coach, command: Command) -> None:
    if _headset_done(coach, command):
        coach.pacer.done(command.source)
    elif coach.paused:
        coach.resume(command.source)


def _done(coach: Coach, command: Command) -> None:
    coach.pacer.done(command.source)  # outside a self-paced set: nothing to finish


# Moves are obeyed from a paused place too, and the session goes on: a headset's Next
# while paused means "on to the next one", not "stay paused".
def _next(coach: Coach, command: Command) -> None:
    t = coach.go_on()
    current = exercise_at(coach.timeline, t)
    target = current + 1 if current is not None else coach.first_after(t)
    coach.jump(target, phrases.NEXT, command.source, t)


def _back(coach: Coach, command: Command) -> None:
    t = coach.go_on()
    current = exercise_at(coach.timeline, t)
    coach.jump(current if current is not None else coach.first_after(t), phrases.BACK, command.source, t)


def _more_or_less(step_s: float) -> Handler:
    def handler(coach: Coach, command: Command) -> None:
        t = coach.go_on()
        timeline, applied = adjust_phase(coach.timeline, t, step_s)
        coach.adjust(timeline, command.source, phrases.adjusted(applied))

    return handler


def _repeat(coach: Coach, command: Command) -> None:
    t = coach.go_on()
    cue = last_instruction(coach.timeline, t)
    coach.say(cue.text if cue else phrases.NOTHING_TO_REPEAT, command.source)


def _help(coach: Coach, command: Command) -> None:
    coach.say(phrases.help_for(command.source), command.source)


def _time_left(coach: Coach, command: Command) -> None:
    # Said as "repeat" is: the stream stops, the answer, then on from the cue cut off (never over a cue).
    t = coach.paused_at if coach.paused else coach.go_on()
    tl = coach.timeline
    ph = phase_at(tl, t)
    hold = ph.end_s - t if ph is not None and ph.kind == "hold" else None
    total = 1 + max((p.exercise_index for p in tl.phases if p.exercise_index is not None), default=0)
    own_pace = ph is not None and ph.self_paced
    text = phrases.how_long_left(tl.duration_s - t, exercise_at(tl, t), total, hold, own_pace)
    coach.say(text, command.source)


def _hurt(coach: Coach, command: Command) -> None:
    coach.hurt(command.source)


def _sorry(coach: Coach, command: Command) -> None:
    # The wake word, then no command: say so, change nothing (a pause stays a pause).
    coach.say(phrases.SORRY, command.source)


def _listening(coach: Coach, command: Command) -> None:
    coach.listening(True, command.source)


def _listened(coach: Coach, command: Command) -> None:
    coach.listening(False, command.source)


#: Not requests but notices of the voice input: handled at once, a question waiting or not.
NOTICES = frozenset({Action.LISTENING, Action.LISTENED})

HANDLERS: dict[Action, Handler] = {
    Action.TOGGLE: _toggle,
    Action.PAUSE: _pause,
    Action.RESUME: _resume,
    Action.NEXT: _next,
    Action.BACK: _back,
    Action.REPEAT: _repeat,
    Action.MORE: _more_or_less(phrases.STEP_S),
    Action.LESS: _more_or_less(-phrases.STEP_S),
    Action.HELP: _help,
    Action.HURT: _hurt,
    Action.DONE: _done,
    Action.TIME_LEFT: _time_left,
    Action.UNKNOWN: _sorry,
    Action.LISTENING: _listening,
    Action.LISTENED: _listened,
}
