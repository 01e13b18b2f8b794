"""Spoken check-ins and the session record: the live controller with a fake player, scripted
answers and a real journal file (SQLite on disk)."""

from __future__ import annotations

import io
import sqlite3
from datetime import date, timedelta

import pytest
from helpers.coaching import ScriptedInputs, stepped_coach
from helpers.fakes import FakeSpeaker

from voicecoach.core import phrases
from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.live.checkin import CheckIn
from voicecoach.live.status import Output
from voicecoach.render.prepare import Prepared
from voicecoach.store import training
from voicecoach.store.journal import Journal
from voicecoach.store.places import PlaceStore
from voicecoach.store.training import decide_doses, dose_dict, record_doses

PLAN = parse_plan("""\
title: Ranges
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 4, rest_between_sets: 4}
exercises:
  - {name: Lift, setup: Lie down., reps: 3-5, sets: 1-2, tempo: {lift: 1, lower: 1}}
  - {name: Stretch, setup: Sit., hold: 10-20, sets: 1}
""")
PAIN_LINE = f"{phrases.PAIN_QUESTION} {phrases.ANSWER_KEYS_PRINTED['pain']}"
RED_LINE = f"{phrases.RED_FLAG_QUESTION} {phrases.ANSWER_KEYS_PRINTED['yes_no']}"


def checkin_for(journal, options, *, auto, ask):
    """The check-ins and options of a session of PLAN today, set up as ``play`` sets them up."""
    today = training.today(journal, "ranges", PLAN, options, auto=auto, ask=ask, live=True)
    return CheckIn.for_today(journal, "ranges", PLAN, today, ask=ask), today.options


def session(path, answers=None, script=(), sources=None, level="auto", ask=True, wait_s=1.0):
    """One live session of PLAN against the journal at ``path`` (None: no journal)."""
    journal = Journal.open(path) if path is not None else None
    try:
        options = Options(level="low" if level == "auto" else level)
        checkin, options = checkin_for(journal, options, auto=level == "auto", ask=ask)
        speaker = FakeSpeaker()
        prepared = Prepared(PLAN, options, build_timeline(PLAN, options, speaker.length_s), speaker)
        buf = io.StringIO()
        inputs = ScriptedInputs([], list(script), sources, answers)
        coach = stepped_coach(
            prepared,
            Output("plain", buf),
            inputs,
            store=PlaceStore(journal),
            plan_key="ranges",
            checkin=checkin,
            answer_wait_s=wait_s,
        )
        finished = coach.run()
    finally:
        if journal is not None:
            journal.close()
    return finished, buf.getvalue().splitlines(), [q.key for q in inputs.asked], coach


def rows(path, sql):
    with sqlite3.connect(path) as c:
        c.row_factory = sqlite3.Row
        return [dict(r) for r in c.execute(sql)]


def log_past_session(path, days_ago, *, pain=(2, 2), settled=True, doses=None):
    """A session done days ago (logged as with `journal add`), at the journal's doses."""
    with Journal.open(path) as j:
        day = date.today() - timedelta(days=days_ago)
        plan = decide_doses(j, "ranges", PLAN, day)
        sid = j.add_logged_session(
            "ranges",
            PLAN.title,
            "h",
            day,
            pain[0],
            pain[1],
            False,
            settled,
            [{"name": ex.name, "dose": dose_dict(d.dose)} for ex, d in zip(PLAN.exercises, plan.decisions)],
        )
        record_doses(j, "ranges", plan, sid)


def test_first_session_asks_red_flag_and_pain_before_and_after(tmp_path):
    path = tmp_path / "journal.sqlite3"
    finished, lines, asked, _ = session(path, {"red_flag": ["no"], "pain_before": ["2"], "pain_after": ["10"]})
    assert finished
    assert asked == ["red_flag", "pain_before", "pain_after"]  # no last session: no next-morning question
    assert lines[:7] == [
        "Press ? for the keys, q to quit.",
        RED_LINE,
        "Noted: no.",
        PAIN_LINE,
        "Noted: 2.",
        "Ranges. 2 exercises, about 1 minute.",
        "Stop if it hurts.",
    ]
    assert lines[-3:] == [phrases.PAIN_QUESTION, "Noted: 10.", "Session complete."]  # keys said once
    [s] = rows(path, "SELECT * FROM sessions")
    assert (s["pain_before"], s["pain_after"], s["red_flag"], s["ended_early"], s["source"]) == (2, 10, 0, 0, "live")
    assert s["plan_key"] == "ranges" and len(s["plan_hash"]) == 16 and s["ended_at"]
    ex = rows(path, "SELECT name, dose, status, repeated, hurt FROM exercises ORDER BY idx")
    assert ex == [
        {"name": "Lift", "dose": '{"sets": 1, "reps": 3}', "status": "done", "repeated": 0, "hurt": 0},
        {"name": "Stretch", "dose": '{"sets": 1, "hold_s": 10.0}', "status": "done", "repeated": 0, "hurt": 0},
    ]
    starts = rows(path, "SELECT exercise, change, rule FROM doses ORDER BY id")
    assert starts == [
        {"exercise": "Lift", "change": "start", "rule": "first-sessions"},
        {"exercise": "Stretch", "change": "start", "rule": "first-sessions"},
    ]


@pytest.mark.parametrize("confirm", [["no"], []], ids=["says-no", "no-answer"])
def test_red_flag_means_no_session_today(tmp_path, confirm):
    path = tmp_path / "journal.sqlite3"
    finished, lines, asked, coach = session(path, {"red_flag": ["yes"], "confirm": confirm})
    assert not finished
    assert asked == ["red_flag", "confirm"]
    assert lines == [
        "Press ? for the keys, q to quit.",
        RED_LINE,
        "Noted: yes.",
        phrases.RED_FLAG_ADVICE,
        phrases.RED_FLAG_CONFIRM,
        *(["Noted: no."] if confirm else []),
        phrases.NO_SESSION_TODAY,
    ]
    assert "as soon as possible" in phrases.RED_FLAG_ADVICE
    assert not any(c.text in lines for c in coach.timeline.cues)  # nothing of the session was said
    [s] = rows(path, "SELECT red_flag, ended_early, ended_at FROM sessions")
    assert s["red_flag"] == 1 and s["ended_early"] == 1 and s["ended_at"]
    assert rows(path, "SELECT * FROM exercises") == []


def test_red_flag_can_be_overridden_knowingly(tmp_path):
    path = tmp_path / "journal.sqlite3"
    finished, lines, _, _ = session(path, {"red_flag": ["yes"], "confirm": ["yes"], "pain_before": ["4"]})
    assert finished and phrases.GOING_AHEAD in lines
    assert rows(path, "SELECT kind FROM events") == [{"kind": "red-flag-override"}]
    assert rows(path, "SELECT red_flag, pain_before FROM sessions") == [{"red_flag": 1, "pain_before": 4}]


def test_no_answer_or_skip_moves_on_and_records_nothing(tmp_path):
    path = tmp_path / "journal.sqlite3"
    finished, lines, asked, _ = session(path, {"red_flag": ["skip"]})
    assert finished and asked == ["red_flag", "pain_before", "pain_after"]
    assert not any(line.startswith("Noted") for line in lines)
    assert rows(path, "SELECT red_flag, pain_before, pain_after FROM sessions") == [
        {"red_flag": None, "pain_before": None, "pain_after": None}
    ]


def test_answers_that_do_not_fit_the_question_are_ignored(tmp_path):
    path = tmp_path / "journal.sqlite3"
    _, lines, _, _ = session(path, {"red_flag": ["4"], "pain_before": ["yes", "3"]})
    assert "Noted: 4." not in lines and "Noted: yes." not in lines and "Noted: 3." in lines


@pytest.mark.parametrize(
    ("sources", "ask"), [({"headset"}, True), ({"keys"}, False)], ids=["no-input-can-answer", "no-check-in"]
)
def test_no_questions_without_a_way_to_answer_or_with_no_check_in(tmp_path, sources, ask):
    path = tmp_path / "journal.sqlite3"
    finished, lines, asked, _ = session(path, {"red_flag": ["no"]}, sources=sources, ask=ask)
    assert finished and asked == []
    assert len(rows(path, "SELECT * FROM exercises WHERE status = 'done'")) == 2  # still recorded


def test_two_good_sessions_then_the_dose_rises_and_the_session_says_why(tmp_path):
    path = tmp_path / "journal.sqlite3"
    log_past_session(path, 3)
    log_past_session(path, 2)  # answered "back to usual" already: no question about it
    _, lines, asked, coach = session(path, {"red_flag": ["no"], "pain_before": ["1"]})
    assert "settled" not in asked
    said = "Lift: 4 repetitions today, up from 3: your last two sessions went well."
    assert said in lines and "Stretch: 15 second holds today, up from 10: your last two sessions went well." in lines
    assert any(line.startswith("Exercise 1 of 2: Lift. 1 set of 4.") for line in lines)
    assert coach.timeline.to_json()["cues"][2]["text"].startswith("Exercise 1 of 2: Lift. 1 set of 4.")
    changes = rows(path, "SELECT exercise, change, rule, session_id FROM doses WHERE change = 'progress'")
    live = rows(path, "SELECT id FROM sessions WHERE source = 'live'")[0]["id"]
    assert [(c["exercise"], c["rule"], c["session_id"]) for c in changes] == [
        ("Lift", "two-good-sessions", live),
        ("Stretch", "two-good-sessions", live),
    ]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("yes", "Lift: 4 repetitions today, up from 3: your last two sessions went well."),
        ("no", None),
        (None, None),
    ],
    ids=["usual", "not-usual", "no-answer"],
)
def test_the_next_morning_answer_decides_todays_dose(tmp_path, answer, expected):
    path = tmp_path / "journal.sqlite3"
    log_past_session(path, 3)
    log_past_session(path, 1, settled=None)  # yesterday, next morning not known yet
    answers = {"red_flag": ["no"], "settled": [answer] if answer else [], "pain_before": ["2"]}
    _, lines, asked, _ = session(path, answers)
    assert asked[:3] == ["red_flag", "settled", "pain_before"]
    assert (expected in lines) if expected else not any("up from" in line for line in lines)
    settled = rows(path, "SELECT settled FROM sessions WHERE source = 'logged' ORDER BY started_at")[-1]["settled"]
    assert settled == {"yes": 1, "no": 0, None: None}[answer]


def test_a_painful_session_brings_the_dose_down(tmp_path):
    path = tmp_path / "journal.sqlite3"
    log_past_session(path, 4)
    log_past_session(path, 3)
    session(path, {"red_flag": ["no"], "pain_before": ["2"], "pain_after": ["7"]})  # at the raised dose
    with Journal.open(path) as j:  # the next morning it had settled
        j.set_settled(True)
    _, lines, _, _ = session(path, {"red_flag": ["no"]})
    assert "Lift: 3 repetitions today, down from 4: your pain went above 5 out of 10 last time." in lines


def hold_start(level="low"):
    tl = build_timeline(PLAN, Options(level=level), FakeSpeaker().length_s)
    return next(p for p in tl.phases if p.kind == "reps").start_s


@pytest.mark.parametrize(
    ("pain", "then"),
    [("7", "skip"), ("3", "resume"), (None, "stay")],
    ids=["above-5-stops-the-exercise", "5-or-less-goes-on-gently", "no-answer-stays-paused"],
)
def test_it_hurts(tmp_path, pain, then):
    path = tmp_path / "journal.sqlite3"
    script = [(hold_start() + 1, "hurt"), *([(0, "toggle")] if then == "stay" else [])]
    answers = {"red_flag": ["no"], "pain_before": ["1"], "hurt": [pain] if pain else []}
    finished, lines, asked, _ = session(path, answers, script=script)
    assert finished and "hurt" in asked
    if then == "skip":
        i = lines.index(phrases.HURT_STOP)
        assert lines[i + 1] == "Next exercise." and lines[i + 2].startswith("Exercise 2 of 2: Stretch.")
        assert "Stop. Relax." not in lines[:i]  # Lift never finished
    elif then == "resume":
        i = lines.index(phrases.HURT_GENTLY)
        assert lines[i + 1] == "Resuming." and "Stop. Relax." in lines[i:]
    else:
        assert lines[lines.index(phrases.PAIN_QUESTION) + 1] == "Paused. Press space to resume."
    [lift] = rows(path, "SELECT status, hurt, pain_at_hurt FROM exercises WHERE name = 'Lift'")
    assert lift == {
        "status": "partial" if then == "skip" else "done",
        "hurt": 1,
        "pain_at_hurt": int(pain) if pain else None,
    }
    assert [c["action"] for c in rows(path, "SELECT action FROM controls")][:1] == ["hurt"]


def test_it_hurts_in_the_exercise_backs_it_off_next_time(tmp_path):
    path = tmp_path / "journal.sqlite3"
    log_past_session(path, 4)
    log_past_session(path, 3)
    session(
        path,
        {"red_flag": ["no"], "pain_before": ["1"], "hurt": ["3"], "pain_after": ["2"]},
        script=[(hold_start() + 1, "hurt")],
    )
    with Journal.open(path) as j:
        j.set_settled(True)
    _, lines, _, _ = session(path, {"red_flag": ["no"]})
    assert "Lift: 3 repetitions today, down from 4: you told me it hurt last time." in lines
    assert not any(line.startswith("Stretch:") for line in lines)  # it did not hurt there


def test_controls_quit_and_repeats_are_recorded(tmp_path):
    path = tmp_path / "journal.sqlite3"
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    stretch = next(p for p in tl.phases if p.kind == "hold")
    script = [(hold_start() + 0.5, "toggle"), (0, "toggle"), (hold_start() + 1, "back"), (stretch.start_s + 1, "quit")]
    finished, _, _, _ = session(path, {"red_flag": ["no"], "pain_before": ["1"]}, script=script)
    assert not finished
    assert [c["action"] for c in rows(path, "SELECT action FROM controls ORDER BY id")] == [
        "toggle",
        "toggle",
        "back",
        "quit",
    ]
    assert rows(path, "SELECT name, status, repeated FROM exercises ORDER BY idx") == [
        {"name": "Lift", "status": "done", "repeated": 1},
        {"name": "Stretch", "status": "partial", "repeated": 0},
    ]
    assert rows(path, "SELECT ended_early, pain_after FROM sessions") == [{"ended_early": 1, "pain_after": None}]
    assert rows(path, "SELECT exercise_index FROM places") == [{"exercise_index": 1}]  # --resume still works


def test_without_a_journal_the_red_flag_is_still_asked(tmp_path):
    finished, lines, asked, _ = session(None, {"red_flag": ["no"]})
    assert finished and asked == ["red_flag"]


def test_a_journal_locked_mid_session_is_said_once_and_the_session_goes_on(tmp_path):
    path = tmp_path / "journal.sqlite3"
    Journal.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    script = [(hold_start() + 0.5, "toggle"), (0, "toggle")]

    class Locking(ScriptedInputs):
        def wait(self, timeout_s):
            got = super().wait(timeout_s)
            if got and got[0].action == "toggle" and not other.in_transaction:
                other.execute("BEGIN EXCLUSIVE")  # another program takes the file
            return got

    import test_checkin

    original = test_checkin.ScriptedInputs
    test_checkin.ScriptedInputs = Locking
    try:
        finished, lines, _, _ = session(path, {"red_flag": ["no"], "pain_before": ["2"]}, script=script)
    finally:
        test_checkin.ScriptedInputs = original
        other.execute("ROLLBACK")
        other.close()
    assert finished
    notes = [line for line in lines if "journal" in line]
    assert notes == [f"{phrases.JOURNAL_OFF['busy']} ({path})"]
    assert rows(path, "SELECT pain_before FROM sessions") == [{"pain_before": 2}]  # earlier entries kept


def test_a_journal_that_cannot_be_opened_is_one_note_spoken_and_printed(tmp_path, monkeypatch):
    from voicecoach.live.launch import open_journal_for_play

    (tmp_path / "journal.sqlite3").write_bytes(b"not a database at all, but the user's file")
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path))
    journal, notes = open_journal_for_play()
    assert journal is None
    spoken = phrases.JOURNAL_OFF["damaged"]
    assert notes == [(spoken, f"{spoken} ({tmp_path / 'journal.sqlite3'}: not a journal file)")]
    speaker = FakeSpeaker()
    tl = build_timeline(PLAN, Options(), speaker.length_s)
    buf = io.StringIO()
    coach = stepped_coach(
        Prepared(PLAN, Options(), tl, speaker), Output("plain", buf), ScriptedInputs([], []), notes=notes
    )
    assert coach.run()
    assert buf.getvalue().splitlines()[:2] == [notes[0][1], "Press ? for the keys, q to quit."]
    assert (tmp_path / "journal.sqlite3").read_bytes() == b"not a database at all, but the user's file"


@pytest.mark.parametrize(
    ("can_ask", "ask", "opening"),
    [(True, True, (phrases.RED_FLAG_QUESTION, phrases.ANSWER_KEYS["yes_no"])), (False, True, ()), (True, False, ())],
    ids=["asks", "no-way-to-answer", "no-check-in"],
)
def test_the_opening_words_are_what_the_check_in_says_first(tmp_path, can_ask, ask, opening):
    """A live session has them made beside its first words: they must be the first question asked."""
    with Journal.open(tmp_path / "journal.sqlite3") as journal:
        checkin, _ = checkin_for(journal, Options(), auto=True, ask=ask)
        assert checkin.opening(can_ask) == opening
        if opening:
            first = next(checkin.before(can_ask))
            assert (first.question.text, phrases.ANSWER_KEYS[first.question.kind]) == opening
