"""Self-paced sets in a live session, on the stepped clock: the wait for "done", its reminder, and exact timing after it."""

from __future__ import annotations

import io

import pytest
from helpers.coaching import ScriptedInputs, stepped_coach
from helpers.fakes import FakeSpeaker

from voicecoach.core import phrases
from voicecoach.core.planfile import parse_plan
from voicecoach.core.replan import phase_at
from voicecoach.core.schedule import GAP_S, Options, build_timeline, estimate_speech_s
from voicecoach.live.checkin import CheckIn
from voicecoach.live.events import EventType
from voicecoach.live.status import Output, status_text
from voicecoach.render.prepare import Prepared
from voicecoach.store.journal import Journal
from voicecoach.store.places import PlaceStore

PLAN = parse_plan("""\
title: Own pace
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 6}
exercises:
  - {name: Sit to stand, setup: Sit on a chair., reps: 10, sets: 2, rest_between_sets: 8, pace: self, estimate: 60}
  - {name: Bridge, setup: Lie down., hold: 20}
""")
SIDES = parse_plan("""\
title: Sides
defaults: {countdown: 2, get_ready: 2}
exercises:
  - {name: Step up, setup: Face a step., reps: 5, sides: each, switch_sides: 5, pace: self}
""")
KEYS_REMINDER = phrases.DONE_WHEN_READY_BY["keys"]


def _timeline(plan=PLAN):
    return build_timeline(plan, Options(intro=""), FakeSpeaker().length_s)


def run(by_clock=(), script=(), plan=PLAN, sources=None, checkin=None, limit_s=1000.0, options=None, **coach_kw):
    """Run a session; returns the printed lines, (clock, event) pairs, and the coach (``coach.run()``'s
    result is ``coach.finished_run``)."""
    speaker = FakeSpeaker()
    options = options or Options(intro="")
    prepared = Prepared(plan, options, build_timeline(plan, options, speaker.length_s), speaker)
    buf = io.StringIO()
    # No keys by default: no spoken hint before the session, so the clock and the session agree up to the first wait.
    inputs = ScriptedInputs([], list(script), sources if sources is not None else set(), by_clock=list(by_clock))
    coach = stepped_coach(prepared, Output("plain", buf), inputs, checkin=checkin, **coach_kw)
    seen = []

    def heard(event):
        seen.append((coach.clock(), event))
        if coach.clock() > limit_s:  # a wait nobody ends is the test's mistake: fail, never hang
            raise AssertionError(f"the session waited for more than {limit_s} s")

    coach.events.subscribe(heard)
    coach.finished_run = coach.run()
    assert coach.finished_run or coach_kw.get("store") is not None  # only the resume test stops a session
    return buf.getvalue().splitlines(), seen, coach


def _sounded(seen):
    """(clock, cue) for every cue as it started sounding."""
    return [(clock, e.cue) for clock, e in seen if e.type is EventType.CUE]


def test_the_coach_waits_for_done_and_the_rest_keeps_exact_timing_from_it():
    tl = _timeline()
    first = next(p for p in tl.phases if p.self_paced)
    lines, seen, coach = run(by_clock=[(100.0, "done"), (250.0, "done")])
    assert lines.count("In your own time. Begin.") == 2
    assert lines.count("Done.") == 2
    dones = [clock for clock, e in seen if e.type is EventType.SET_DONE]
    assert dones == [pytest.approx(100.0, abs=0.06), pytest.approx(250.0, abs=0.06)]
    # Nothing of the session sounds during the wait (the reminders are words, not cues).
    sounded = _sounded(seen)
    waiting = [c for clock, c in sounded if first.start_s + 1 < clock < 100.0]
    assert waiting == []
    # After each "done": the set's stop, then every later onset at its scheduled offset from "done".
    after_first = [(clock, c) for clock, c in sounded if 100.0 <= clock < 250.0]
    assert after_first[0][1].text == phrases.STOP_RELAX
    stop_at = after_first[0][0]
    assert stop_at == pytest.approx(100.0 + GAP_S, abs=0.1)
    planned = [c for c in tl.cues if first.end_s - 1e-6 <= c.start_s < first.end_s + 8 + 1]  # stop, rest, next start
    heard = [(clock, c) for clock, c in after_first if c.text in {p.text for p in planned}][: len(planned)]
    assert [c.text for _, c in heard] == [c.text for c in planned]
    for (clock, _), cue in zip(heard, planned):
        assert clock - stop_at == pytest.approx(cue.start_s - first.end_s, abs=0.1)
    # The hold after the self-paced exercise is exactly as long as planned.
    hold_start = next(clock for clock, c in sounded if c.kind == "start" and c.exercise == "Bridge")
    release = next(clock for clock, c in sounded if c.kind == "stop" and c.exercise == "Bridge")
    assert release - hold_start == pytest.approx(20.0, abs=0.1)


def test_a_reminder_about_once_a_minute_never_a_timeout_and_pausing_pauses_it():
    lines, seen, _ = run(by_clock=[(200.0, "done"), (210.0, "done")])
    assert lines.count(KEYS_REMINDER) == 3  # about 60, 120 and 180 s into the wait; no giving up
    # Paused from 30 s to 130 s into the first wait: the reminder waits too.
    tl = _timeline()
    first = next(p for p in tl.phases if p.self_paced)
    lines, seen, _ = run(
        by_clock=[(first.start_s + 30, "toggle"), (first.start_s + 130, "toggle"), (190.0, "done"), (300.0, "done")]
    )
    assert "Paused." in " ".join(lines)
    reminders = [clock for clock, e in seen if e.type is EventType.MESSAGE and e.text == KEYS_REMINDER]
    assert reminders and reminders[0] > first.start_s + 130  # not during the pause
    spent = next(e.seconds for _, e in seen if e.type is EventType.SET_DONE)
    # The time spent does not count the pause (100 s), nor the resume's count-in words much.
    assert spent == pytest.approx(190.0 - first.start_s - 100.0, abs=4.0)


def test_a_quarter_of_an_hour_of_waiting_gets_a_reminder_about_every_minute_and_no_timeout():
    tl = _timeline()
    first = next(p for p in tl.phases if p.self_paced)
    lines, seen, _ = run(by_clock=[(first.start_s + 900.0, "done"), (first.start_s + 960.0, "done")], limit_s=1200.0)
    reminders = [clock for clock, e in seen if e.type is EventType.MESSAGE and e.text == KEYS_REMINDER]
    first_wait = [clock for clock in reminders if clock < first.start_s + 900.0]
    assert len(first_wait) == 14  # one a minute for 15 minutes: never a time-out, never a burst
    gaps = [b - a for a, b in zip(first_wait, first_wait[1:])]
    assert all(59.0 < g < 63.0 for g in gaps), gaps  # about a minute (plus the reminder's own words)
    assert first_wait[0] == pytest.approx(first.start_s + 60.0, abs=4.0)
    done = [clock for clock, e in seen if e.type is EventType.SET_DONE]
    assert done[0] == pytest.approx(first.start_s + 900.0, abs=0.1)  # still waiting, and done is obeyed
    assert sum(e.type is EventType.SET_DONE for _, e in seen) == 2 and seen[-1][1].type is EventType.CLOSED


def test_the_reminder_speaks_to_the_inputs_at_hand():
    lines, *_ = run(by_clock=[(100.0, "done"), (110.0, "done")], sources={"keys", "voice"})
    assert phrases.DONE_WHEN_READY_BY["voice"] in lines


def test_the_headset_play_button_means_done_only_while_waiting():
    tl = _timeline()
    first = next(p for p in tl.phases if p.self_paced)
    # In the wait: PlayPause from the headset is "done"; the space key still pauses.
    lines, seen, _ = run(
        by_clock=[(first.start_s + 20, "toggle", "headset"), (80.0, "toggle", "headset")],
        script=[(first.start_s - 5, "toggle", "headset"), (first.start_s - 5, "toggle", "headset")],
    )
    # Before the set: pause and resume as ever; in the waits, done.
    assert sum(e.type is EventType.PAUSED for _, e in seen) == 1
    assert sum(e.type is EventType.SET_DONE for _, e in seen) == 2
    lines, seen, _ = run(
        by_clock=[(first.start_s + 20, "toggle"), (first.start_s + 30, "toggle"), (90, "done"), (200, "done")]
    )
    assert sum(e.type is EventType.PAUSED for _, e in seen) == 1  # the key keeps its meaning
    assert sum(e.type is EventType.SET_DONE for _, e in seen) == 2


def test_next_back_and_it_hurts_work_inside_the_wait():
    tl = _timeline()
    first = next(p for p in tl.phases if p.self_paced)
    lines, seen, _ = run(by_clock=[(first.start_s + 20, "next")])
    assert "Next exercise." in lines and "Exercise 2 of 2: Bridge." in " ".join(lines)
    assert not any(e.type is EventType.SET_DONE for _, e in seen)
    lines, seen, _ = run(by_clock=[(first.start_s + 20, "back"), (90.0, "done"), (150.0, "done")])
    assert lines.count("In your own time. Begin.") == 3  # the first set again, then both sets
    lines, seen, _ = run(
        by_clock=[(first.start_s + 20, "hurt"), (first.start_s + 40, "resume"), (120.0, "done"), (200.0, "done")]
    )
    assert sum(e.type is EventType.HURT for _, e in seen) == 1
    assert sum(e.type is EventType.SET_DONE for _, e in seen) == 2


SECOND = parse_plan("""\
title: Second
defaults: {countdown: 2, get_ready: 2}
exercises:
  - {name: Bridge, setup: Lie down., hold: 10}
  - {name: Sit to stand, setup: Sit on a chair., reps: 10, sets: 2, rest_between_sets: 8, pace: self}
""")


def test_stop_inside_the_wait_saves_the_place_and_resume_waits_there_again(tmp_path):
    store = PlaceStore(Journal.open(tmp_path / "journal.sqlite3"))
    first = next(p for p in _timeline(SECOND).phases if p.self_paced)
    lines, seen, coach = run(plan=SECOND, by_clock=[(first.start_s + 30, "quit")], store=store, plan_key="second")
    assert not coach.finished_run and "Stopped. Your place is saved: continue with --resume." in lines
    # --resume: the session starts at the saved exercise (as launch does), whose sets wait again.
    index, intro = store.resume("second", SECOND)
    assert index == 1
    options = Options(first_exercise=index, intro=intro)
    start = next(p for p in build_timeline(SECOND, options, FakeSpeaker().length_s).phases if p.self_paced)
    lines, seen, coach = run(
        plan=SECOND,
        options=options,
        by_clock=[(start.start_s + 40, "done"), (start.start_s + 100, "done")],
        store=store,
        plan_key="second",
    )
    assert coach.finished_run and lines[0] == intro
    assert lines.count("In your own time. Begin.") == 2 and "Bridge" not in " ".join(lines)
    dones = [clock for clock, e in seen if e.type is EventType.SET_DONE]
    assert dones[0] == pytest.approx(start.start_s + 40, abs=0.1) and len(dones) == 2
    assert store.load("second") is None  # finished: nothing left to resume


def test_with_sides_each_side_waits_for_its_own_done():
    lines, seen, _ = run(plan=SIDES, by_clock=[(40.0, "done"), (80.0, "done")])
    assert [p.side for p in _timeline(SIDES).phases if p.self_paced] == ["right", "left"]
    done = [(clock, e) for clock, e in seen if e.type is EventType.SET_DONE]
    # The left side waited for its own "done" (40 s after the first), after the switch.
    assert [clock for clock, _ in done] == [pytest.approx(40.0, abs=0.1), pytest.approx(80.0, abs=0.1)]
    sides = [(p.side, p.self_paced) for p in (phase_at(e.timeline, e.t) for _, e in done)]
    assert sides == [("right", False), ("left", False)]  # each done ended its own side
    assert lines.count("In your own time. Begin.") == 2


def test_done_outside_a_self_paced_set_changes_nothing():
    lines, seen, _ = run(
        script=[(1.0, "done")], plan=parse_plan("title: T\nexercises:\n  - {name: A, setup: S., hold: 10}\n")
    )
    assert "Done." not in lines
    assert not any(e.type is EventType.SET_DONE for _, e in seen)


def test_the_status_line_shows_the_time_spent():
    tl = _timeline()
    first = next(p for p in tl.phases if p.self_paced)
    _, seen, _ = run(by_clock=[(first.start_s + 75, "done"), (200.0, "done")])
    done_at = next(i for i, (_, e) in enumerate(seen) if e.type is EventType.SET_DONE)
    waits = [e for _, e in seen[:done_at] if e.type is EventType.AWAITING]
    assert waits and waits[-1].seconds > 70
    text = status_text(waits[-1].timeline, waits[-1].t, 2, waits[-1].seconds)
    assert text.startswith("Exercise 1 of 2: Sit to stand, set 1 of 2, your own pace, 1:")
    assert text.endswith(" so far")


def test_the_journal_keeps_the_time_each_self_paced_set_took(tmp_path):
    journal = Journal.open(tmp_path / "journal.sqlite3")
    checkin = CheckIn(journal, "own", PLAN, Options(intro=""), ask=False)
    tl = _timeline()
    first = next(p for p in tl.phases if p.self_paced)
    run(by_clock=[(first.start_s + 45, "done"), (first.start_s + 45 + 40, "done")], checkin=checkin)
    rows = journal.paced_sets_of(checkin.session_id)
    assert [(r.idx, r.exercise, r.set) for r in rows] == [(0, "Sit to stand", 1), (0, "Sit to stand", 2)]
    assert rows[0].seconds == pytest.approx(45.0, abs=0.2)
    assert 20 < rows[1].seconds < 40  # from its opening words, after the rest
    assert [r.status for r in journal.exercises_of(checkin.session_id)] == ["done", "done"]


# -- how long is left? ---------------------------------------------------------------------------


def test_how_long_is_left_is_said_as_repeat_is_and_shown_to_media_players():
    plan = parse_plan("""\
title: Long
defaults: {countdown: 2, get_ready: 2}
exercises:
  - {name: Stretch, setup: Sit., hold: 100}
  - {name: Lift, setup: Stand., hold: 30}
""")
    tl = _timeline(plan)
    hold = next(p for p in tl.phases if p.kind == "hold")
    lines, seen, coach = run(plan=plan, script=[(hold.start_s + 30, "time_left")], sources={"keys", "headset"})
    left = tl.duration_s - (hold.start_s + 30)
    said = f"About {round(left / 60)} minutes left. Exercise 1 of 2. This hold: 70 seconds."
    assert said in lines
    # Nothing was talked over: every cue of the session sounded whole, in order.
    cues = [e.cue.text for _, e in seen if e.type is EventType.CUE]
    assert cues == [c.text for c in tl.cues]
    artists = {s.artist for s in coach.inputs.states}
    assert f"voicecoach, about {round(tl.duration_s / 60)} min left" in artists
    assert "voicecoach, less than a minute left" in artists


def test_how_long_in_a_self_paced_set_says_so():
    tl = _timeline()
    first = next(p for p in tl.phases if p.self_paced)
    lines, *_ = run(by_clock=[(first.start_s + 10, "time_left"), (60.0, "done"), (120.0, "done")])
    answer = next(line for line in lines if line.endswith("This set: at your own pace."))
    assert answer.startswith("About ") and "Exercise 1 of 2." in answer


def test_how_long_asked_over_a_cue_cuts_it_answers_then_says_it_again_whole():
    """Said as repeat is: the stream stops, the answer alone, then on from the cue cut off (never mixed over it)."""
    tl = _timeline()
    setup = next(c for c in tl.cues if c.kind == "setup" and c.text.startswith("Exercise 1 of 2"))
    asked = (setup.start_s + setup.end_s) / 2
    lines, seen, _ = run(script=[(asked, "time_left")], by_clock=[(200.0, "done"), (300.0, "done")])
    answer = next(
        i for i, line in enumerate(lines) if line.startswith("About ") and line.endswith("left. Exercise 1 of 2.")
    )
    assert lines[answer - 1] == setup.text and lines[answer + 1] == setup.text  # cut, answered, said again
    said = next(clock for clock, e in seen if e.type is EventType.MESSAGE and e.text == lines[answer])
    again = [clock for clock, e in seen if e.type is EventType.CUE and e.cue.text == setup.text]
    assert len(again) == 2 and again[1] >= said + estimate_speech_s(lines[answer]) - 0.1  # after the answer's words
