"""The command line as a user meets it: output, exit codes, no tracebacks."""

from __future__ import annotations

import json

import pytest
from helpers.files import BAD_PLANS as BAD

from voicecoach.core.timeline import CUE_KINDS
from voicecoach.errors import ExitStatus

# The kinds `show --json` may print: a public contract, and what timeline.CUE_KINDS documents.
JSON_KINDS = {"intro", "setup", "start", "stop", "countdown", "rep", "tempo", "switch", "rest", "callout", "end"}


def test_documented_cue_kinds_are_the_json_kinds():
    assert set(CUE_KINDS) == JSON_KINDS


def test_help_lists_commands(run):
    result = run("--help")
    assert result.exit_code == 0
    for cmd in ("programs", "check", "show"):
        assert cmd in result.output


def test_programs_lists_builtins_with_length(run):
    result = run("programs")
    assert result.exit_code == 0
    assert "inner-knee: Inner knee pain, 9 exercises, about" in result.output
    assert "medial-knee: Medial knee pain, 6 exercises, about" in result.output


# The real voice's lengths (audio; slow while the clip cache is cold) or the estimate: the same shapes either way.
VOICES = [
    pytest.param((), id="voice", marks=[pytest.mark.audio, pytest.mark.slow]),
    pytest.param(("--estimate",), id="estimate"),
]


@pytest.mark.parametrize("voice", VOICES)
def test_show_json_shape(run, voice):
    result = run("show", "inner-knee", "--json", *voice)
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert set(doc) == {"title", "duration_s", "cues", "chapters"}
    assert doc["title"] == "Inner knee pain" and isinstance(doc["duration_s"], float)
    for cue in doc["cues"]:
        assert set(cue) == {"start_s", "end_s", "kind", "text", "exercise", "set", "side"}
        assert cue["kind"] in JSON_KINDS
    for ch in doc["chapters"]:
        assert set(ch) == {"start_s", "end_s", "title"}
    titles = [c["title"] for c in doc["chapters"]]
    assert titles[1:10] == [
        "Inner thigh stretch",
        "Supine hamstring stretch",
        "Side lunge stretch",
        "Seated butterfly stretch",
        "Seated straight leg raise",
        "Bridge",
        "Lateral leg raise",
        "Step ups",
        "Double knee to chest",
    ]
    starts = [c for c in doc["cues"] if c["kind"] == "start"]
    assert starts and all(c["exercise"] for c in starts)


@pytest.mark.parametrize("voice", VOICES)
def test_show_sheet_is_plain_text(run, voice):
    result = run("show", "medial-knee", *voice)
    assert result.exit_code == 0
    assert "== Wall slides (" in result.output
    assert "\x1b[" not in result.output  # no colour codes: screen readers read it as is
    assert result.output.rstrip().splitlines()[-1].startswith("Total: ")


def test_level_changes_the_session(run):
    low = json.loads(run("show", "inner-knee", "--json", "--estimate").output)["duration_s"]
    high = json.loads(run("show", "inner-knee", "--json", "--estimate", "--level", "high").output)["duration_s"]
    assert high > low * 1.3


def test_check_ok(run, tmp_path):
    plan = tmp_path / "p.yaml"
    plan.write_text("title: Mine\nexercises:\n  - name: Bridge\n    setup: Lie down.\n    reps: 10\n")
    result = run("check", str(plan))
    assert result.exit_code == 0
    assert result.output == f"{plan}: OK, Mine, 1 exercise\n"


@pytest.mark.parametrize("fixture", sorted(p.name for p in BAD.glob("*.yaml")), ids=lambda n: n[:-5])
def test_check_bad_plan_exit_code_and_no_traceback(run, fixture):
    result = run("check", str(BAD / fixture))
    assert result.exit_code == ExitStatus.INVALID_PLAN
    assert "Traceback" not in result.output
    assert f"{BAD / fixture}:" in result.output


def test_unknown_plan_is_clear(run):
    result = run("show", "no-such-program")
    assert result.exit_code == ExitStatus.ERROR
    assert "no plan file or built-in program named 'no-such-program'" in result.output
    assert "voicecoach programs" in result.output


def test_directory_as_plan(run, tmp_path):
    result = run("check", str(tmp_path))
    assert result.exit_code == ExitStatus.ERROR
    assert "is a directory" in result.output


def test_bad_option_is_usage_error(run):
    result = run("show", "--level", "extreme")
    assert result.exit_code == ExitStatus.USAGE


def test_help_never_touches_audio_libraries():
    import subprocess
    import sys

    code = (
        "import sys; from voicecoach.cli import cli; "
        "heavy = [m for m in ('sounddevice', 'pyttsx3', 'pydub', 'scipy', 'onnxruntime', 'piper') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
    out = subprocess.run([sys.executable, "-m", "voicecoach", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "Usage: " in out.stdout


OWN_PACE_PLANS = {
    "on-the-exercise": "title: Own pace\nexercises:\n"
    "  - {name: Sit to stand, setup: Sit on a chair., reps: 10, sets: 2, pace: self, estimate: 90}\n"
    "  - {name: Bridge, setup: Lie down., hold: 20}\n",
    "in-defaults": "title: Own pace\ndefaults: {pace: self, estimate: 90}\nexercises:\n"
    "  - {name: Sit to stand, setup: Sit on a chair., reps: 10, sets: 2}\n"
    "  - {name: Bridge, setup: Lie down., hold: 20}\n",  # a hold keeps the clock
}


@pytest.mark.parametrize("where", sorted(OWN_PACE_PLANS))
def test_show_marks_self_paced_sets_and_calls_the_total_an_estimate(run, tmp_path, where):
    plan = tmp_path / "own-pace.yaml"
    plan.write_text(OWN_PACE_PLANS[where])
    result = run("show", str(plan), "--estimate")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    marked = [line for line in lines if "[own pace, about 1 min 30 s]" in line]
    assert len(marked) == 2 and all("In your own time. Begin." in line for line in marked)
    assert sum("[own pace" in line for line in lines) == 2  # the hold is not marked
    assert lines[-1].startswith("Total: about ") and lines[-1].endswith("(an estimate: some sets go at your own pace)")
    doc = json.loads(run("show", str(plan), "--estimate", "--json").output)
    assert set(doc) == {"title", "duration_s", "cues", "chapters"}  # the JSON keeps its shape


def test_help_says_how_screen_readers_get_plain_lines(run):
    result = run("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "ACCESSIBLE set (any value), TERM=dumb" in text and "NO_COLOR is always honoured" in text
    assert "\x1b" not in result.output
