"""`voicecoach journal`, `journal add`, `journal settled`, and --level auto in show: the user's view,
on a real journal file in the test's private data folder."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from voicecoach import programs
from voicecoach.core import phrases
from voicecoach.core.schedule import Options
from voicecoach.store.training import today_from_file


def journal_file() -> Path:
    return Path(os.environ["VOICECOACH_DATA_DIR"]) / "journal.sqlite3"


def bridge_intro(run) -> str:
    result = run("show", "inner-knee", "--json", "--estimate")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    return next(c["text"] for c in doc["cues"] if c["text"].startswith("Exercise 6 of 9: Bridge."))


def test_three_logged_sessions_raise_the_dose_then_a_painful_one_lowers_it(run):
    assert bridge_intro(run) == "Exercise 6 of 9: Bridge. 1 set of 10."  # a new user starts low
    first = run("journal", "add", "inner-knee", "--pain-before", "2", "--pain-after", "3", "--settled", "yes")
    assert first.exit_code == 0
    assert first.output.splitlines()[0] == (
        f"Logged Inner knee pain (inner-knee) on {date.today().isoformat()}: done; pain 2 -> 3; next morning: as usual."
    )
    second = run("journal", "add", "inner-knee", "--pain-before", "2", "--pain-after", "3", "--settled", "yes")
    assert "Next session: Bridge: 11 repetitions, up from 10: your last two sessions went well." in second.output
    assert bridge_intro(run) == "Exercise 6 of 9: Bridge. 1 set of 11."  # show reflects the journal
    third = run("journal", "add", "inner-knee", "--pain-before", "3", "--pain-after", "7", "--settled", "yes")
    assert "This session: Bridge: 11 repetitions, up from 10: your last two sessions went well." in third.output
    assert (
        "Next session: Bridge: 10 repetitions, down from 11: your pain went above 5 out of 10 last time."
        in third.output
    )
    assert bridge_intro(run) == "Exercise 6 of 9: Bridge. 1 set of 10."
    assert run("show", "inner-knee", "--json", "--estimate", "--level", "high").stdout.count("1 set of 10.") == 0


def test_show_previews_and_stores_nothing(run):
    run("journal", "add", "medial-knee", "--pain-before", "1", "--pain-after", "1", "--settled", "yes")
    run("journal", "add", "medial-knee", "--pain-before", "1", "--pain-after", "1", "--settled", "yes")
    with sqlite3.connect(journal_file()) as c:
        before = c.execute("SELECT count(*) FROM doses").fetchone()[0]
    result = run("show", "medial-knee", "--estimate")
    assert "Wall slides: 11 repetitions today, up from 10: your last two sessions went well." in result.stderr
    with sqlite3.connect(journal_file()) as c:
        assert c.execute("SELECT count(*) FROM doses").fetchone()[0] == before


def test_export_commits_the_doses_it_uses():
    plan = programs.load("medial-knee")
    today = today_from_file("medial-knee", plan, Options(level="low"), auto=True, commit=True)
    assert today.changes == () and dict(today.options.doses)[1].reps == 10
    with sqlite3.connect(journal_file()) as c:
        assert c.execute("SELECT change, rule FROM doses WHERE exercise = 'Wall slides'").fetchall() == [
            ("start", "first-sessions")
        ]
    forced = today_from_file("medial-knee", plan, Options(level="mid"), auto=False, commit=True).options
    assert forced.doses == () and forced.level == "mid"


BAD = [
    (["--pain-before", "11"], 2, "Invalid value for '--pain-before': 11 is not in the range 0<=x<=10."),
    (["--pain-after", "-1"], 2, "Invalid value for '--pain-after': -1 is not in the range 0<=x<=10."),
    (["--date", "2025/03/01"], 2, "Invalid value for '--date': '2025/03/01' does not match the format '%Y-%m-%d'."),
    (["--date", (date.today() + timedelta(days=1)).isoformat()], 2, "is in the future"),
    (["--settled", "maybe"], 2, "Invalid value for '--settled': 'maybe' is not one of 'yes', 'no'."),
]


@pytest.mark.parametrize(
    ("args", "code", "message"), BAD, ids=["pain-11", "pain-negative", "bad-date", "future-date", "settled-maybe"]
)
def test_bad_input_is_a_clear_error_and_changes_nothing(run, args, code, message):
    run("journal", "add", "inner-knee")  # one session already there
    before = journal_file().read_bytes()
    result = run("journal", "add", "inner-knee", *args)
    assert result.exit_code == code and message in result.output and "Traceback" not in result.output
    assert journal_file().read_bytes() == before


def test_an_unknown_plan_is_an_error_and_creates_no_journal(run):
    result = run("journal", "add", "no-such-plan")
    assert result.exit_code == 1
    assert "no plan file or built-in program named 'no-such-plan'" in result.output
    assert not journal_file().exists()


def test_settled(run):
    result = run("journal", "settled", "yes")
    assert result.exit_code == 1 and "there is no session in the journal to answer for yet" in result.output
    run("journal", "add", "inner-knee", "--date", "2025-03-01")
    result = run("journal", "settled", "no")
    assert result.output == (
        "Noted: after the session of 2025-03-01 (inner-knee), your knee was not back to "
        "its usual by the next morning.\n"
    )
    with sqlite3.connect(journal_file()) as c:
        assert c.execute("SELECT settled FROM sessions").fetchall() == [(0,)]


def test_listing_json_and_csv(run):
    assert "The journal is empty" in run("journal").output
    run(
        "journal",
        "add",
        "inner-knee",
        "--date",
        (date.today() - timedelta(days=8)).isoformat(),
        "--pain-before",
        "5",
        "--pain-after",
        "4",
        "--settled",
        "yes",
    )
    run("journal", "add", "inner-knee", "--pain-before", "3", "--pain-after", "3", "--partial")
    text = run("journal").output.splitlines()
    assert text[0] == "Recent sessions, newest first:"
    assert text[1].endswith("  inner-knee  partial (logged); pain 3 -> 3")
    assert text[2].endswith("  inner-knee  done (logged); pain 5 -> 4; next morning: as usual")
    assert (
        "Summary: 2 sessions in the last two weeks, 1 of them in full; pain before sessions from 5 "
        "(the week before) to 3 (this week)."
    ) in text
    assert text[-1].startswith("voicecoach is not medical advice")
    assert any(line.startswith("  - Your pain before sessions has averaged 3 out of 10 this week.") for line in text)
    doc = json.loads(run("journal", "--json").stdout)
    assert set(doc) == {"sessions", "current_doses", "advice", "summary", "not_medical_advice"}
    assert [s["status"] for s in doc["sessions"]] == ["partial", "done"]
    assert doc["current_doses"]["inner-knee"]["Bridge"] == {"sets": 1, "reps": 10}
    rows = list(csv.DictReader(io.StringIO(run("journal", "--csv").stdout)))
    assert [(r["status"], r["pain_before"], r["back_to_usual_next_morning"]) for r in rows] == [
        ("partial", "3", ""),
        ("done", "5", "yes"),
    ]
    both = run("journal", "--json", "--csv")
    assert both.exit_code == 2 and "choose one of --json and --csv" in both.output


@pytest.mark.parametrize(("name", "magic"), [("pain.png", b"\x89PNG"), ("pain.svg", b"<?xml")], ids=["png", "svg"])
def test_chart(run, tmp_path, name, magic):
    pytest.importorskip("matplotlib")
    run("journal", "add", "inner-knee", "--pain-before", "4", "--pain-after", "5", "--date", "2025-03-01")
    run("journal", "add", "inner-knee", "--pain-before", "3", "--pain-after", "3", "--date", "2025-03-10")
    out = tmp_path / name
    result = run("journal", "--chart", str(out))
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "Recent sessions, newest first:"  # the text is always there
    assert result.output.splitlines()[-1] == f"Wrote {out}"
    assert out.read_bytes().startswith(magic) and out.stat().st_size > 5000
    bad = run("journal", "--chart", str(tmp_path / "pain.jpg"))
    assert bad.exit_code == 6 and "a chart is a .png or .svg file" in bad.output


def test_a_damaged_journal_is_left_untouched_and_show_still_works(run):
    path = journal_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 20)
    before = path.read_bytes()
    shown = run("show", "inner-knee", "--json", "--estimate")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["title"] == "Inner knee pain"
    assert shown.stderr == f"voicecoach: {phrases.JOURNAL_OFF['damaged']} ({path}: cut short)\n"
    listing = run("journal")
    assert listing.exit_code == 1 and phrases.JOURNAL_OFF["damaged"] in listing.output
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["journal.sqlite3"]
