"""The live controller with a fake player and scripted inputs: fast, no sound card.

The real stack (PortAudio, PulseAudio) is covered by test_play_real.py; here
the control logic: what is said and shown, replanning, progress.
"""

from __future__ import annotations

import io
import time

import pytest
from helpers.fakes import FakePlayer, FakeSpeaker

from voicecoach.control.commands import Command, PlayerState
from voicecoach.core.phrases import KEYS_HINT
from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.live.coach import Coach, spoken
from voicecoach.live.status import Output
from voicecoach.render.prepare import Prepared
from voicecoach.store.journal import Journal
from voicecoach.store.places import ProgressStore

PLAN = parse_plan("""\
title: Two
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 5}
exercises:
  - {name: Alpha, setup: Sit., hold: 20, sets: 2, rest_between_sets: 5}
  - {name: Beta, setup: Lie down., reps: 3}
""")


class ScriptedInputs:
    """Sends each command once the session clock (as the coach sees it) passes its time,
    and records what the coach shows (as a media player's widget would).

    Check-ins: while the coach waits on a question, the next of ``answers[question key]``
    is given ("4", "yes", or "skip" for the skip key); a key without answers left means
    no answer (the question times out). ``asked`` lists the questions, in order.
    """

    def __init__(
        self,
        coach_ref: list,
        script: list[tuple],
        sources: set[str] | None = None,
        answers: dict[str, list[str]] | None = None,
    ) -> None:
        self.coach_ref = coach_ref
        self.script = [s if len(s) >= 3 else (*s, "keys") for s in script]
        self.sources = {"keys"} if sources is None else sources
        self.answers = {k: list(v) for k, v in (answers or {}).items()}
        self.asked: list[str] = []
        self.states: list[PlayerState] = []
        self.seeks: list[int] = []

    def names(self) -> set[str]:
        return self.sources

    def wait(self, timeout_s: float) -> list[Command]:
        time.sleep(timeout_s / 10)
        coach = self.coach_ref[0]
        question = getattr(coach, "asking", None)
        if question is not None:
            if not self.asked or self.asked[-1] is not question:
                self.asked.append(question)
            if coach._deadline is None or not self.answers.get(question.key):
                return []  # still being asked, or no answer this time
            value = self.answers[question.key].pop(0)
            return [Command("skip", "keys") if value == "skip" else Command("answer", "keys", value)]
        if self.script and (coach.paused or coach.position() >= self.script[0][0]):
            _, action, source, *heard = self.script.pop(0)
            return [Command(action, source, heard=heard[0] if heard else "")]
        return []

    def show(self, state: PlayerState) -> None:
        self.states.append(state)

    def seeked(self, position_us: int) -> None:
        self.seeks.append(position_us)


def run(script=(), tmp_path=None, sources=None, inputs_out=None):
    speaker = FakeSpeaker()
    tl = build_timeline(PLAN, Options(), speaker.length_s)
    prepared = Prepared(PLAN, Options(), tl, speaker)
    buf = io.StringIO()
    ref: list = []
    store = ProgressStore(Journal.open(tmp_path / "journal.sqlite3")) if tmp_path else None
    player = FakePlayer()
    inputs = ScriptedInputs(ref, list(script), sources)
    if inputs_out is not None:
        inputs_out.append(inputs)
    coach = Coach(prepared, player, Output("plain", buf), inputs=inputs, store=store, plan_key="two")
    ref.append(coach)
    finished = coach.run()
    return finished, buf.getvalue().splitlines(), tl, store, player


def test_plays_every_cue_and_clears_progress(tmp_path):
    finished, lines, tl, store, player = run(tmp_path=tmp_path)
    assert finished
    assert lines[0] == "Press ? for the keys, q to quit."  # also spoken, before the session
    assert lines[1:-1] == [c.text for c in tl.cues]
    assert lines[-1] == "Session complete."
    assert store.load("two") is None
    hint = spoken(Prepared(PLAN, Options(), tl, FakeSpeaker()), [KEYS_HINT]).duration_s
    assert abs(player.played_s - (tl.duration_s + hint)) < 0.1


def test_next_skips_to_the_next_exercise(tmp_path):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    finished, lines, *_ = run([(hold.start_s + 2, "next")], tmp_path)
    assert finished
    i = lines.index("Next exercise.")
    assert lines[i + 1].startswith("Exercise 2 of 2: Beta.")
    assert "Rest. Next, set 2 of 2." not in lines[i:]  # the rest of Alpha was skipped


def test_more_lengthens_the_current_hold(tmp_path):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    finished, lines, _, _, player = run([(hold.start_s + 2, "more")], tmp_path)
    assert finished and "15 seconds more." in lines
    # The session grew by 15 s plus the spoken confirmation.
    assert player.played_s > tl.duration_s + 15


def test_quit_saves_the_place(tmp_path):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    beta = next(p for p in tl.phases if p.exercise == "Beta" and p.kind == "reps")
    finished, lines, _, store, _ = run([(beta.start_s + 1, "quit")], tmp_path)
    assert not finished
    assert "Stopped. Your place is saved: continue with --resume." in lines
    saved = store.load("two")
    assert (saved.exercise_index, saved.exercise) == (1, "Beta")


def test_pause_and_resume(tmp_path):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    finished, lines, *_ = run([(hold.start_s + 1, "toggle"), (0, "toggle")], tmp_path)
    assert finished
    i = lines.index("Paused. Press space to resume.")
    assert lines[i + 1] == "Resuming."
    # Nothing of the session is lost or repeated: every cue is shown once.
    assert [l for l in lines if l in {c.text for c in tl.cues}] == [c.text for c in tl.cues]


def test_back_restarts_the_exercise(tmp_path):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    second = [p for p in tl.phases if p.kind == "hold"][1]
    finished, lines, *_ = run([(second.start_s + 1, "back")], tmp_path)
    i = lines.index("Back to the start of this exercise.")
    assert lines[i + 1].startswith("Exercise 1 of 2: Alpha.")


def test_headset_pause_is_idempotent_and_says_how_to_resume(tmp_path):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    script = [(hold.start_s + 1, "pause", "headset"), (0, "pause", "headset"), (0, "resume", "headset")]
    finished, lines, *_ = run(script, tmp_path, sources={"headset"})
    assert finished
    assert lines.count("Paused (headset). Press play to resume.") == 1  # the second PAUSE changed nothing
    assert lines[lines.index("Paused (headset). Press play to resume.") + 1] == "Resuming (headset)."
    assert "Press ? for the keys, q to quit." not in lines  # no keys: no keys hint
    assert [l for l in lines if l in {c.text for c in tl.cues}] == [c.text for c in tl.cues]


def test_resume_while_playing_does_nothing(tmp_path):
    finished, lines, *_ = run([(1.0, "resume", "headset")], tmp_path, sources={"headset"})
    assert finished and not any("Resuming" in line for line in lines)


def test_stop_from_the_headset_quits_and_saves_the_place(tmp_path):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    beta = next(p for p in tl.phases if p.exercise == "Beta" and p.kind == "reps")
    finished, lines, _, store, _ = run([(beta.start_s + 1, "quit", "headset")], tmp_path, sources={"headset"})
    assert not finished
    assert lines[-1] == "Stopped (headset). Your place is saved: continue with --resume."
    assert store.load("two").exercise == "Beta"


def test_shows_status_and_the_current_exercise_to_media_players(tmp_path):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    box: list = []
    run(
        [(hold.start_s + 1, "toggle", "headset"), (0, "toggle", "headset"), (hold.start_s + 3, "next", "headset")],
        tmp_path,
        sources={"headset"},
        inputs_out=box,
    )
    states = box[0].states
    titles = [s.title for s in states]
    assert states[0].status == "Playing" and states[0].album == "Two"
    assert "Exercise 1 of 2: Alpha, set 1 of 2" in titles
    assert any(s.status == "Paused" and s.title == "Exercise 1 of 2: Alpha, set 1 of 2" for s in states)
    assert "Exercise 2 of 2: Beta, set 1 of 1" in titles
    assert states[-1].status == "Stopped"
    assert {s.track_id for s in states} >= {"0", "1"}
    assert box[0].seeks == [0]  # the jump to Beta


def test_a_place_that_cannot_be_saved_never_ends_the_session(tmp_path):
    """The journal is locked by another program mid-session: said once, and the session goes on."""
    import sqlite3

    path = tmp_path / "journal.sqlite3"
    store = ProgressStore(Journal.open(path))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        speaker = FakeSpeaker()
        tl = build_timeline(PLAN, Options(), speaker.length_s)
        buf = io.StringIO()
        ref: list = []
        coach = Coach(
            Prepared(PLAN, Options(), tl, speaker),
            FakePlayer(),
            Output("plain", buf),
            inputs=ScriptedInputs(ref, []),
            store=store,
            plan_key="two",
        )
        ref.append(coach)
        assert coach.run()
    finally:
        other.execute("ROLLBACK")
        other.close()
    lines = buf.getvalue().splitlines()
    notes = [line for line in lines if "journal" in line]
    assert notes == [f"Your training journal is in use by another program, so this session won't be recorded. ({path})"]
    assert lines[-1] == "Session complete."


def test_voice_commands_say_what_was_heard_then_confirm(tmp_path):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    finished, lines, *_ = run(
        [(hold.start_s + 2, "pause", "voice", "pause"), (0, "resume", "voice", "go on")],
        tmp_path,
        sources={"keys", "voice"},
    )
    assert finished
    i = lines.index("Heard: pause.")
    assert lines[i + 1] == "Paused (voice). Say the wake word, then resume."
    assert lines[i + 2 : i + 4] == ["Heard: go on.", "Resuming (voice)."]


@pytest.mark.parametrize("paused", [False, True], ids=["playing", "paused"])
def test_not_a_command_says_sorry_and_changes_nothing(tmp_path, paused):
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    script = [(hold.start_s + 2, "pause", "voice", "pause")] if paused else []
    script += [(hold.start_s + 2, "unknown", "voice"), (0, "resume", "voice", "resume")]
    finished, lines, *_ = run(script, tmp_path, sources={"keys", "voice"})
    assert finished
    i = lines.index("Sorry? (voice)")
    assert not any(line.startswith("Heard") for line in lines[i - 1 : i])  # nothing was heard to name
    if paused:
        assert lines[i + 1 : i + 3] == ["Heard: resume.", "Resuming (voice)."]  # still paused until resumed
    assert [c.text for c in tl.cues if c.text in lines[i + 1 :]] != []  # the session went on


def test_quit_without_a_store_does_not_claim_the_place_is_saved():
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    beta = next(p for p in tl.phases if p.exercise == "Beta" and p.kind == "reps")
    finished, lines, _, store, _ = run([(beta.start_s + 1, "quit")], None)  # no journal: nothing is saved
    assert not finished and store is None
    assert lines[-1] == "Stopped. Your place could not be saved this time."
