"""The live controller with a fake player and scripted inputs: fast, no sound card.

The real stack (PortAudio, PulseAudio) is covered by test_play_real.py; here
the control logic: what is said and shown, replanning, progress.
"""

from __future__ import annotations

import io

import pytest
from helpers.coaching import ScriptedInputs, stepped_coach
from helpers.fakes import FakeSpeaker
from helpers.plans import TWO

from voicecoach.core.phrases import KEYS_HINT
from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.live.status import Output
from voicecoach.live.stream import spoken
from voicecoach.render.prepare import Prepared
from voicecoach.store.journal import Journal
from voicecoach.store.places import PlaceStore

PLAN = parse_plan(TWO)


def run(script=(), tmp_path=None, sources=None, inputs_out=None):
    speaker = FakeSpeaker()
    tl = build_timeline(PLAN, Options(), speaker.length_s)
    prepared = Prepared(PLAN, Options(), tl, speaker)
    buf = io.StringIO()
    store = PlaceStore(Journal.open(tmp_path / "journal.sqlite3")) if tmp_path else None
    inputs = ScriptedInputs([], list(script), sources)
    if inputs_out is not None:
        inputs_out.append(inputs)
    coach = stepped_coach(prepared, Output("plain", buf), inputs, store=store, plan_key="two")
    finished = coach.run()
    return finished, buf.getvalue().splitlines(), tl, store, coach.playback.player


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
    store = PlaceStore(Journal.open(path))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        speaker = FakeSpeaker()
        tl = build_timeline(PLAN, Options(), speaker.length_s)
        buf = io.StringIO()
        coach = stepped_coach(
            Prepared(PLAN, Options(), tl, speaker),
            Output("plain", buf),
            ScriptedInputs([], []),
            store=store,
            plan_key="two",
        )
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
        [(hold.start_s + 2, "pause", "voice", "pause"), (0, "resume", "voice", "resume")],
        tmp_path,
        sources={"keys", "voice"},
    )
    assert finished
    i = lines.index("Heard: pause.")
    assert lines[i + 1] == "Paused (voice). Say the wake word, then resume."
    assert lines[i + 2 : i + 4] == ["Heard: resume.", "Resuming (voice)."]


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


def test_quit_with_a_journal_that_could_not_be_opened_does_not_claim_the_place_is_saved(tmp_path):
    """play opens the place store on no journal when the journal is locked or damaged: nothing is kept."""
    speaker = FakeSpeaker()
    tl = build_timeline(PLAN, Options(), speaker.length_s)
    beta = next(p for p in tl.phases if p.exercise == "Beta" and p.kind == "reps")
    buf = io.StringIO()
    inputs = ScriptedInputs([], [(beta.start_s + 1, "quit")])
    prepared = Prepared(PLAN, Options(), tl, speaker)
    coach = stepped_coach(prepared, Output("plain", buf), inputs, store=PlaceStore(None), plan_key="two")
    assert not coach.run()
    assert buf.getvalue().splitlines()[-1] == "Stopped. Your place could not be saved this time."


def test_an_answer_key_with_no_question_open_changes_nothing(tmp_path):
    """A digit pressed mid-session (no question asked) neither stops nor moves the session."""
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    finished, lines, _, _, player = run([(hold.start_s + 2, "answer")], tmp_path)
    assert finished and lines[1:-1] == [c.text for c in tl.cues]
    assert player.played_s >= tl.duration_s


def test_outputs_hear_one_typed_event_stream(tmp_path):
    """A new output subscribes without touching the others: it hears each exercise, set and side begin."""
    from voicecoach.live.events import EventType

    speaker = FakeSpeaker()
    tl = build_timeline(PLAN, Options(), speaker.length_s)
    coach = stepped_coach(Prepared(PLAN, Options(), tl, speaker), Output("quiet"), ScriptedInputs([], []))
    heard = []
    coach.events.subscribe(heard.append)
    assert coach.run()
    kinds = [e.type for e in heard]
    assert kinds[0] is EventType.STARTED and kinds[-1] is EventType.CLOSED
    assert EventType.FINISHED in kinds
    from voicecoach.core.replan import phase_at

    places = [phase_at(e.timeline, e.t) for e in heard if e.type is EventType.PLACE]
    sets = [(p.exercise, p.set) for p in places if p is not None and p.exercise_index is not None]
    # Setup, set 1, the rest before set 2 and set 2, the rest after, then Beta's setup and its set.
    assert sets == [("Alpha", None), ("Alpha", 1), ("Alpha", 2), ("Alpha", None), ("Beta", None), ("Beta", 1)]
    cues = [e.cue.text for e in heard if e.type is EventType.CUE]
    assert cues == [c.text for c in tl.cues]
