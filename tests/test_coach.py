"""The live controller with a fake player and scripted keys: fast, no sound card.

The real stack (PortAudio, PulseAudio) is covered by test_play_real.py; here
the control logic: what is said and shown, replanning, progress.
"""

from __future__ import annotations

import io
import time

from helpers.fakes import FakePlayer, FakeSpeaker

from voicecoach.core.phrases import KEYS_HINT
from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.live.coach import Coach, spoken
from voicecoach.live.status import Output
from voicecoach.render.session import Prepared
from voicecoach.store.progress import ProgressStore

PLAN = parse_plan("""\
title: Two
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 5}
exercises:
  - {name: Alpha, setup: Sit., hold: 20, sets: 2, rest_between_sets: 5}
  - {name: Beta, setup: Lie down., reps: 3}
""")


class ScriptedKeys:
    """Presses each key once the session clock (as the coach sees it) passes its time."""

    enabled = True

    def __init__(self, coach_ref: list, script: list[tuple[float, str]]) -> None:
        self.coach_ref = coach_ref
        self.script = list(script)

    def poll(self, timeout_s: float) -> list[str]:
        time.sleep(timeout_s / 10)
        coach = self.coach_ref[0]
        if self.script and (coach.paused or coach.position() >= self.script[0][0]):
            return [self.script.pop(0)[1]]
        return []


def run(script=(), tmp_path=None):
    speaker = FakeSpeaker()
    tl = build_timeline(PLAN, Options(), speaker.length_s)
    prepared = Prepared(PLAN, Options(), tl, speaker)
    buf = io.StringIO()
    ref: list = []
    store = ProgressStore(tmp_path / "progress.json") if tmp_path else None
    player = FakePlayer()
    coach = Coach(prepared, player, Output("plain", buf), keys=ScriptedKeys(ref, list(script)),
                  store=store, plan_key="two")
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
    finished, lines, *_ = run([(hold.start_s + 1, "pause"), (0, "pause")], tmp_path)
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
