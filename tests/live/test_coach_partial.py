"""A live session that starts before its phrases are all synthesized (fake voice and player: no audio).

The stream is mixed up to the horizon and goes on as parts become final,
sample for sample the session a complete voice gives; when the voice falls
behind, the session waits before the next exercise and says "One moment.".
"""

from __future__ import annotations

import io
import threading
import time

import numpy as np
from helpers.fakes import ArrivingSpeaker, FakeAhead, FakePlayer

from voicecoach.control.commands import Command, PlayerState
from voicecoach.core import phrases
from voicecoach.core.parts import parts
from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.live.coach import Coach
from voicecoach.live.status import Output
from voicecoach.render.prepare import Prepared, _partial

PLAN = parse_plan("""\
title: Three
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 4}
exercises:
  - {name: Alpha, setup: Sit., hold: 8, sets: 2, rest_between_sets: 4}
  - {name: Beta, setup: Lie down., reps: 3}
  - {name: Gamma, setup: Stand up., hold: 5, sides: each}
""")


class Quiet:
    """No input at all (or one command when the session clock passes a time)."""

    def __init__(self, coach_ref: list | None = None, at: float | None = None, action: str = "") -> None:
        self.coach_ref, self.at, self.action = coach_ref, at, action

    def names(self) -> set[str]:
        return set()

    def wait(self, timeout_s: float) -> list[Command]:
        time.sleep(timeout_s / 10)
        if self.at is not None and self.coach_ref and self.coach_ref[0].playback.position() >= self.at:
            self.at = None
            return [Command(self.action, "keys")]
        return []

    def show(self, state: PlayerState) -> None:
        pass

    def seeked(self, position_us: int) -> None:
        pass


def partial_session(released_parts: int) -> tuple[Prepared, ArrivingSpeaker, tuple]:
    speaker = ArrivingSpeaker()
    session_parts = parts(PLAN, Options())
    for part in session_parts[:released_parts]:
        speaker.released.update(part.texts)
    return _partial(PLAN, Options(), speaker, FakeAhead(speaker), session_parts), speaker, session_parts


def complete_session() -> Prepared:
    speaker = ArrivingSpeaker()
    return Prepared(PLAN, Options(), build_timeline(PLAN, Options(), speaker.length_s), speaker)


def pcm(blocks) -> np.ndarray:
    return np.concatenate(list(blocks))


def test_a_stream_begun_on_the_first_part_is_sample_for_sample_the_complete_session():
    """Each part is released once the stream has mixed up to it: the horizon moves on without a seam."""
    prepared, speaker, session_parts = partial_session(1)
    assert not prepared.complete and prepared.horizon_s > 0
    coach = Coach(prepared, player=None, output=Output("quiet"), inputs=Quiet(), gain=0.8)
    out = []
    waiting = list(session_parts[1:])
    for block in coach.playback.session_blocks(0.0):
        out.append(block)
        if waiting:  # the voice keeps ahead: the next part is made while this block plays
            speaker.released.update(waiting.pop(0).texts)
    whole = Coach(complete_session(), player=None, output=Output("quiet"), inputs=Quiet(), gain=0.8)
    expected = pcm(whole.playback.session_blocks(0.0))
    got = np.concatenate(out)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)
    assert coach.timeline == whole.timeline and coach.playback.behind_at is None


def test_a_voice_behind_waits_before_the_exercise_and_says_one_moment():
    prepared, speaker, session_parts = partial_session(3)  # the intro and Alpha; Beta comes late
    full = complete_session().timeline
    buf = io.StringIO()
    coach = Coach(prepared, FakePlayer(), Output("plain", buf), inputs=Quiet())

    def late() -> None:
        time.sleep(2.0)  # longer than the stream's grace and MOMENT_AFTER_S: the session waits
        for part in session_parts[3:]:
            speaker.released.update(part.texts)

    threading.Thread(target=late, daemon=True).start()
    assert coach.run()
    lines = buf.getvalue().splitlines()
    beta = next(c.text for c in full.cues if c.text.startswith("Exercise 2 of 3"))
    assert lines.index(phrases.ONE_MOMENT) == lines.index(beta) - 1  # said at the wait point, before Beta
    assert [line for line in lines if line != phrases.ONE_MOMENT][:-1] == [c.text for c in full.cues]
    assert coach.timeline == full  # nothing moved: the wait is outside the session's clock


def test_next_into_an_exercise_not_yet_made_asks_for_it_first_and_waits():
    prepared, speaker, session_parts = partial_session(3)
    full = complete_session().timeline
    hold = next(p for p in full.phases if p.kind == "hold")
    buf = io.StringIO()
    ref: list = []
    coach = Coach(prepared, FakePlayer(), Output("plain", buf), inputs=Quiet(ref, hold.start_s + 1, "next"))
    ref.append(coach)

    def late() -> None:
        while not prepared.ahead.prioritized:
            time.sleep(0.01)
        time.sleep(0.1)
        for part in session_parts[3:]:
            speaker.released.update(part.texts)

    threading.Thread(target=late, daemon=True).start()
    assert coach.run()
    lines = buf.getvalue().splitlines()
    assert prepared.ahead.prioritized[0][0].startswith("Exercise 2 of 3: Beta.")  # Beta's phrases first
    i = lines.index(phrases.NEXT)
    assert [line for line in lines[i + 1 :] if line != phrases.ONE_MOMENT][0].startswith("Exercise 2 of 3: Beta.")
