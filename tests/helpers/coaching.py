"""Driving a live controller in tests: scripted inputs on a stepped clock (no sleeping, no sound card)."""

from __future__ import annotations

from typing import Any

from helpers.fakes import SteppedPlayer
from voicecoach.control.commands import Action, Command, PlayerState, Source
from voicecoach.live.coach import Coach


def stepped_coach(prepared: Any, output: Any, inputs: Any, **kwargs: Any) -> Coach:
    """A controller whose player and clock move only as ``inputs.wait`` steps them (see ScriptedInputs)."""
    player = SteppedPlayer()
    coach = Coach(prepared, player, output, inputs=inputs, clock=player.now, spawn=player.spawn, **kwargs)
    if hasattr(inputs, "coach_ref"):
        inputs.coach_ref.append(coach)
    return coach


class ScriptedInputs:
    """Sends each command once the session clock (as the coach sees it) passes its time,
    and records what the coach shows (as a media player's widget would).

    Check-ins: while the coach waits on a question, the next of ``answers[question key]``
    is given ("4", "yes", or "skip" for the skip key); a key without answers left means
    no answer (the question times out). ``asked`` lists the questions, in order.

    ``by_clock`` holds commands sent once the clock (not the session) passes their time, as
    (seconds, action[, source]): a person answering while the session waits for them.
    """

    def __init__(
        self,
        coach_ref: list,
        script: list[tuple],
        sources: set[str] | None = None,
        answers: dict[str, list[str]] | None = None,
        by_clock: list[tuple] | None = None,
    ) -> None:
        self.coach_ref = coach_ref
        self.script = [s if len(s) >= 3 else (*s, "keys") for s in script]
        self.sources = {"keys"} if sources is None else sources
        self.answers = {k: list(v) for k, v in (answers or {}).items()}
        self.by_clock = [s if len(s) >= 3 else (*s, "keys") for s in (by_clock or [])]
        self.asked: list[str] = []
        self.states: list[PlayerState] = []
        self.seeks: list[int] = []

    def names(self) -> set[str]:
        return self.sources

    def wait(self, timeout_s: float) -> list[Command]:
        coach = self.coach_ref[0]
        coach.playback.player.advance(timeout_s)  # the clock moves one turn: the stream plays that long
        question = coach.questions.asking
        if question is not None:
            if not self.asked or self.asked[-1] is not question:
                self.asked.append(question)
            if coach.questions.deadline is None or not self.answers.get(question.key):
                return []  # still being asked, or no answer this time
            value = self.answers[question.key].pop(0)
            return [Command(Action.SKIP) if value == "skip" else Command(Action.ANSWER, Source.KEYS, value)]
        if self.by_clock and coach.playback.player.now() >= self.by_clock[0][0]:
            _, action, source = self.by_clock.pop(0)
            return [Command(Action(action), Source(source))]
        if self.script and (coach.paused or coach.playback.position() >= self.script[0][0]):
            _, action, source, *heard = self.script.pop(0)
            return [Command(Action(action), Source(source), heard=heard[0] if heard else "")]
        return []

    def show(self, state: PlayerState) -> None:
        self.states.append(state)

    def seeked(self, position_us: int) -> None:
        self.seeks.append(position_us)
