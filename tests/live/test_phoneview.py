"""The phone page's state as a live session moves (a stepped coach: no sound card, no sleeping)."""

from __future__ import annotations

import io

import pytest
from helpers.coaching import ScriptedInputs, stepped_coach
from helpers.fakes import FakeSpeaker

from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.live.events import Event, EventType
from voicecoach.live.phoneview import PhoneView
from voicecoach.live.status import Output
from voicecoach.render.prepare import Prepared

PLAN = parse_plan("""\
title: Two
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 5}
exercises:
  - {name: Alpha, setup: Sit., hold: 20, sets: 2, rest_between_sets: 5, sides: each}
  - {name: Beta, setup: Lie down., reps: 3}
""")


class Screen:
    def __init__(self) -> None:
        self.states: list[dict] = []

    def publish(self, state) -> None:
        self.states.append(state)


def session(script, sources=frozenset({"phone"})):
    speaker = FakeSpeaker()
    tl = build_timeline(PLAN, Options(), speaker.length_s)
    prepared = Prepared(PLAN, Options(), tl, speaker)
    buf = io.StringIO()
    inputs = ScriptedInputs([], list(script), set(sources))
    coach = stepped_coach(prepared, Output("plain", buf), inputs)
    screen = Screen()
    coach.events.subscribe(PhoneView(screen, PLAN.title, coach.playback.exercises, clock=coach.clock))
    finished = coach.run()
    return finished, buf.getvalue().splitlines(), tl, screen.states


def test_the_page_follows_the_session_to_its_end():
    finished, lines, tl, states = session([])
    assert finished
    assert states[0]["status"] == "starting" and states[0]["program"] == "Two"
    alpha = [s for s in states if s["doing"] and s["doing"]["kind"] == "hold"]
    assert alpha[0]["exercise"] == {"number": 1, "total": 2, "name": "Alpha", "set": 1, "sets": 2, "side": "right"}
    kinds = [s["doing"]["kind"] for s in states if s["doing"]]
    assert {"setup", "hold", "switch", "rest", "reps"} <= set(kinds)
    hold = next(s for s in states if s["doing"] and s["doing"]["kind"] == "hold")
    assert hold["doing"]["running"] and 0 < hold["doing"]["left_s"] <= 20
    rest = next(s for s in states if s["doing"] and s["doing"]["kind"] == "rest")
    assert rest["next"] == "Set 2 of 2, right side"
    between = [s["next"] for s in states if s["doing"] and s["doing"]["kind"] == "rest" and s["next"].startswith("Ex")]
    assert between[0] == "Exercise 2 of 2: Beta"
    assert states[-1]["end"] == "Session complete." and states[-1]["status"] == "complete"
    assert states[-1]["doing"] is None and states[-1]["question"] is None
    # Sent when something changes, not every turn of the loop: the page counts down by itself.
    turns = tl.duration_s / 0.05
    assert len(states) < turns / 20, (len(states), turns)


def test_a_pause_from_the_phone_stops_the_count_and_says_where_it_came_from():
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    script = [(hold.start_s + 3, "pause", "phone"), (0, "resume", "phone"), (hold.start_s + 6, "next", "phone")]
    finished, lines, _, states = session(script)
    assert "Paused (phone)." in lines and "Resuming (phone)." in lines and "Next exercise (phone)." in lines
    paused = next(s for s in states if s["status"] == "paused")
    assert paused["doing"]["kind"] == "hold" and not paused["doing"]["running"]
    assert abs(paused["doing"]["left_s"] - 17) < 0.2
    resumed = states[states.index(paused) + 1 :]
    assert any(s["status"] == "playing" and s["doing"]["running"] for s in resumed)
    assert any(s["exercise"]["name"] == "Beta" for s in resumed)


def test_questions_and_how_a_stopped_session_ends():
    screen = Screen()
    view = PhoneView(screen, "Two", 2)
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    view(Event(EventType.ASKED, tl, text="Pain?", choices=tuple(str(n) for n in range(11))))
    assert screen.states[-1]["status"] == "question"
    assert screen.states[-1]["question"] == {"text": "Pain?", "choices": [str(n) for n in range(11)]}
    view(Event(EventType.ANSWERED, tl, answer="3"))
    assert screen.states[-1]["question"] is None
    view(Event(EventType.CLOSED, tl))  # no session today (a red flag): stopped before it began
    assert screen.states[-1]["end"] == "Stopped before the first exercise."
    beta = next(p for p in tl.phases if p.exercise == "Beta")
    view = PhoneView(screen, "Two", 2)
    view(Event(EventType.STATE, tl, t=beta.start_s + 1))
    view(Event(EventType.STOPPED, tl, t=beta.start_s + 1))
    assert screen.states[-1]["end"] == "Stopped at exercise 2 of 2: Beta."
    view(Event(EventType.CLOSED, tl))
    assert screen.states[-1]["end"] == "Stopped at exercise 2 of 2: Beta."


def _own_pace():
    """One self-paced exercise: its plan, speaker, options, timeline and the self-paced phase."""
    plan = parse_plan("""\
title: Own pace
defaults: {countdown: 2, get_ready: 2}
exercises:
  - {name: Sit to stand, setup: Sit on a chair., reps: 10, pace: self, estimate: 60}
""")
    speaker = FakeSpeaker()
    options = Options(intro="")
    tl = build_timeline(plan, options, speaker.length_s)
    return plan, speaker, options, tl, next(p for p in tl.phases if p.self_paced)


def test_done_shows_only_while_the_coach_waits_and_a_tap_ends_the_set():
    """A set at your own pace: the page offers Done while the coach waits, and the phone's Done ends it."""
    plan, speaker, options, tl, paced = _own_pace()
    buf = io.StringIO()
    inputs = ScriptedInputs([], [], {"phone"}, by_clock=[(paced.start_s + 30, "done", "phone")])
    coach = stepped_coach(Prepared(plan, options, tl, speaker), Output("plain", buf), inputs)
    screen = Screen()
    coach.events.subscribe(PhoneView(screen, plan.title, coach.playback.exercises, clock=coach.clock))
    assert coach.run()
    shown = [s["awaiting"] for s in screen.states]
    assert shown.count(True) >= 1 and not shown[0] and not shown[-1]
    assert "Done (phone)." in buf.getvalue().splitlines()
    # While it waits the page counts the time spent up, never an estimate down; sent again only on drift.
    waiting = [s for s in screen.states if s["awaiting"]]
    assert all(s["doing"]["label"] == "At your own pace" and s["doing"]["left_s"] is None for s in waiting)
    assert all(s["doing"]["running"] for s in waiting)
    spent = [s["doing"]["spent_s"] for s in waiting]
    assert spent == sorted(spent) and spent[-1] < 30 and len(waiting) < 10, spent


def test_the_page_shows_the_time_spent_in_a_set_at_your_own_pace_and_stops_it_in_a_pause():
    plan, speaker, options, tl, paced = _own_pace()
    by_clock = [(paced.start_s + 20, "pause"), (paced.start_s + 50, "resume"), (paced.start_s + 90, "done")]
    inputs = ScriptedInputs([], [], {"phone"}, by_clock=[(t, a, "phone") for t, a in by_clock])
    coach = stepped_coach(Prepared(plan, options, tl, speaker), Output("plain", io.StringIO()), inputs)
    screen = Screen()
    coach.events.subscribe(PhoneView(screen, plan.title, coach.playback.exercises, clock=coach.clock))
    assert coach.run()
    own = [s for s in screen.states if s["doing"] and s["doing"]["label"] == "At your own pace"]
    paused = [s for s in own if s["status"] == "paused"]
    assert paused and not any(s["doing"]["running"] for s in paused)
    assert paused[0]["doing"]["spent_s"] == pytest.approx(20, abs=1.0)  # from the opening words; stopped
    counted = [s["doing"]["spent_s"] for s in own if s["doing"]["spent_s"] is not None]
    assert max(counted) < 90 - 30 + 1  # the pause's 30 s are not counted
    assert all(s["doing"]["left_s"] is None for s in own)  # no estimate counted down on the page
