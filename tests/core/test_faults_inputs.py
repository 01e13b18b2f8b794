"""Fault injection, inputs: whatever a plan file or the saved progress holds, a located error or a valid result.

Never a traceback, never a hang: hypothesis writes plan files (random YAML
documents, random bytes, mutations of a real plan, deep nesting, huge
values, unicode and control characters) and damaged progress files (an
old store, imported once into the journal); each is read in-process
under a 10 s alarm, and a few go through the real CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import ANY

import pytest
import yaml
from helpers.places import saved_place, store_for_play, store_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach import programs
from voicecoach.core.plan import Plan
from voicecoach.core.planfile import MAX_DEPTH, PlanError, parse_plan_bytes
from voicecoach.core.schedule import Options, build_timeline, estimate_speech_s
from voicecoach.errors import VoicecoachError
from voicecoach.store.places import Saved

LIMIT_S = 10
REAL = (Path(programs.__file__).parent / "inner-knee.yaml").read_text(encoding="utf-8")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Hang(Exception):
    pass


@contextlib.contextmanager
def at_most(seconds: int) -> Iterator[None]:
    """Fail (not hang) when the block runs longer: SIGALRM interrupts pure-Python work such as PyYAML's."""

    def alarm(signum, frame):
        raise Hang(f"took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def read_plan(data: bytes) -> Plan | None:
    """The contract: a Plan that schedules, or a PlanError located inside the file, within LIMIT_S."""
    with at_most(LIMIT_S):
        try:
            plan = parse_plan_bytes(data, "fuzz.yaml")
        except PlanError as exc:
            lines = max(1, data.count(b"\n") + 1)
            assert exc.problems
            for p in exc.problems:
                assert 1 <= p.line <= lines + 1 and p.column >= 1, (p, data[:200])
            text = exc.render()
            assert "\x1b" not in text and "\x00" not in text  # nothing that acts on a terminal
            return None
        try:
            build_timeline(plan, Options(), estimate_speech_s)
        except VoicecoachError:
            pass  # e.g. a ScheduleError: a valid plan whose words cannot fit, said as such
        return plan


# -- strategies ---------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), max_size=40)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    texts,
    st.sampled_from(["10-15", "2-3", "30", "-5", "1e400", "9" * 400, "15-10", "each", "left"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.one_of(texts, st.sampled_from(["title", "exercises", "name", "setup", "hold", "reps", "sets", "tempo"])),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=30,
)


@st.composite
def mutated_plans(draw) -> str:
    """The real inner-knee plan with a few values replaced by anything at all."""
    plan = yaml.safe_load(REAL)
    for _ in range(draw(st.integers(1, 4))):
        exercise = draw(st.sampled_from(plan["exercises"]))
        key = draw(st.sampled_from(sorted(exercise) + ["tempo", "sides", "countdown", "minutes"]))
        exercise[key] = draw(documents)
    if draw(st.booleans()):
        plan[draw(st.sampled_from(["title", "safety", "defaults", "equipment"]))] = draw(documents)
    return yaml.safe_dump(plan, allow_unicode=draw(st.booleans()))


# -- the parser, in-process ---------------------------------------------------------------------


@FAST
@given(doc=documents)
def test_any_yaml_document(doc):
    read_plan(yaml.safe_dump(doc, allow_unicode=True).encode("utf-8"))


@FAST
@given(text=mutated_plans())
def test_a_real_plan_with_values_replaced(text):
    read_plan(text.encode("utf-8"))


@FAST
@given(data=st.binary(max_size=400))
def test_random_bytes(data):
    read_plan(data)


@FAST
@given(prefix=st.binary(max_size=40), cut=st.integers(0, len(REAL)))
def test_a_real_plan_cut_short_or_with_junk_in_front(prefix, cut):
    read_plan(prefix + REAL.encode("utf-8")[:cut])


@FAST
@given(char=st.characters(codec="utf-8", categories=["Cc", "Cf", "Co", "Zl", "Zp"]))
def test_control_and_format_characters_in_text(char):
    """Written as YAML escapes (raw ones are refused by YAML itself): a located error or harmless text."""
    escaped = json.dumps(f"Bridge{char}x")  # a JSON string is a valid YAML double-quoted scalar
    plan = read_plan(
        f"title: {escaped}\nexercises:\n  - {{name: {escaped}, setup: Sit., hold: 10}}\n".encode(
            "utf-8", "surrogatepass"
        )
    )
    if plan is not None:  # what was accepted prints and speaks safely
        # Printable, the joiners some scripts need, or private-use glyphs (shown as boxes, harmless).
        assert all(c.isprintable() or c in "\u200c\u200d" or unicodedata.category(c) == "Co" for c in plan.title)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "{a: " * 50_000,
        "".join("  " * i + "- \n" for i in range(600)),
        "- " * 100_000 + "x",
        "title: x\nexercises:\n" + "".join(" " * (2 * i + 2) + "- \n" for i in range(MAX_DEPTH + 5)),
        "a: &a [*a, *a]\nb: " + "[*a, " * 30 + "]" * 30,
    ],
    ids=["flow-100k", "mapping-50k", "block-600", "compact-100k", "just-over-the-limit", "aliases"],
)
def test_deep_nesting_is_a_located_error_not_a_recursion(text):
    t0 = time.monotonic()
    assert read_plan(text.encode()) is None
    assert time.monotonic() - t0 < LIMIT_S


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("title: x\nexercises: [" + "{name: a, setup: b, hold: 10}, " * 7000 + "]\n", False),  # too many values
        ("title: " + "x" * 900_000 + "\nexercises: [{name: a, setup: b, hold: 10}]\n", False),  # one huge text
        ("title: x\nexercises: [{name: a, setup: b, hold: " + "9" * 5000 + "}]\n", False),  # a 5000-digit number
        ("title: x\nexercises: [{name: a, setup: b, reps: " + "9" * 400 + ".5, sets: 1e400}]\n", False),
        ("title: x\n" + "#" * 900_000 + "\nexercises: [{name: a, setup: b, hold: 10}]\n", True),  # a long comment
    ],
    ids=["many-values", "huge-text", "huge-int", "huge-float", "huge-comment"],
)
def test_huge_values_in_time(text, valid):
    assert (read_plan(text.encode()) is not None) is valid


def test_a_fifo_as_plan_is_an_error_not_a_wait(tmp_path):
    """Regression: a FIFO with no writer blocked forever (only regular files are read)."""
    fifo = tmp_path / "plan.yaml"
    os.mkfifo(fifo)
    with at_most(LIMIT_S), pytest.raises(VoicecoachError, match="not a regular file"):
        programs.load(str(fifo))


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/proc/self/status"], ids=["zero", "null", "proc"])
def test_devices_and_special_files_as_plan(path):
    with at_most(LIMIT_S), pytest.raises(VoicecoachError):
        programs.load(path)


# -- the saved places: an old progress.json, imported once into the journal -----------------------

json_texts = st.one_of(st.text(max_size=10), st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2))
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([2**63, -(2**63) - 1, 10**400]),
        st.floats(allow_nan=False),
        json_texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(json_texts, inner, max_size=4)),
    max_leaves=20,
)


def start_session(data: Path) -> tuple[int, str] | None:
    """What `play inner-knee --resume` finds, by play's own code: the journal opens (no note,
    however damaged the old file) and the place it resumes at, if any."""
    with at_most(LIMIT_S), store_for_play(data) as (store, notes):
        assert store.journal is not None and notes == []
        return store.resume("inner-knee", programs.load("inner-knee"))


@FAST
@given(
    entry=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"exercise_index": json_values, "exercise": json_values},
            optional={"set": json_values, "side": json_values, "saved_at": json_values},
        ),
    )
)
def test_damaged_progress_entries_mean_no_saved_place(tmp_path_factory, entry):
    """Regression: 30-digit numbers and lone surrogates ("\\ud800") in progress.json crashed the import."""
    data = tmp_path_factory.mktemp("data")
    raw = json.dumps({"inner-knee": entry}).encode()
    (data / "progress.json").write_bytes(raw)
    found = start_session(data)
    assert found is None or (isinstance(found[0], int) and isinstance(found[1], str))
    assert (data / "progress.json.migrated").read_bytes() == raw  # imported once, kept, never deleted
    assert not (data / "progress.json").exists()
    with store_in(data) as store:  # and saving over it works
        store.save("inner-knee", Saved(1, "Supine hamstring stretch"))
    assert saved_place(data, "inner-knee") == Saved(1, "Supine hamstring stretch", saved_at=ANY)


@pytest.mark.parametrize(
    "content",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"inner-knee": ' * 50_000,
        "\x00\xff" * 10,
        "",
        '{"inner-knee": {"exercise_index": 1e999, "exercise": "x"}}',
        '{"inner-knee": {"exercise_index": 2, "exercise": "Side lunge stretch", "saved_at": ' + "9" * 400 + "}}",
        '{"inner-knee": {"exercise_index": true, "exercise": "Supine hamstring stretch"}}',
        '{"inner-knee": {"exercise_index": ' + "9" * 30 + ', "exercise": "Side lunge stretch"}}',
        '{"inner-knee": {"exercise_index": 2, "exercise": "Side lunge stretch", "set": ' + "9" * 30 + "}}",
        '{"inner-knee": {"exercise_index": 2, "exercise": "Side lunge stretch", "side": "\\udc00"}}',
        '{"\\ud800": {"exercise_index": 2, "exercise": "Side lunge stretch"}}',
    ],
    ids=[
        "deep-list",
        "deep-object",
        "binary",
        "empty",
        "inf-index",
        "huge-time",
        "bool-index",
        "huge-index",
        "huge-set",
        "surrogate-side",
        "surrogate-key",
    ],
)
def test_deep_or_absurd_progress_files(tmp_path, content):
    path = tmp_path / "progress.json"
    path.write_bytes(raw := content.encode("utf-8", "surrogateescape"))
    assert start_session(tmp_path) is None
    assert (tmp_path / "progress.json.migrated").read_bytes() == raw and not path.exists()


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_progress_json_that_is_not_a_file_is_left_alone(tmp_path, kind):
    """Regression: a FIFO named progress.json made every session wait forever before it started."""
    path = tmp_path / "progress.json"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    assert start_session(tmp_path) is None
    assert path.exists() and not (tmp_path / "progress.json.migrated").exists()


def test_an_old_progress_json_is_imported_from_beside_the_journal(tmp_path, monkeypatch):
    """Regression: open_journal(path) imported (and renamed) the progress.json of the default data
    folder, not the one beside ``path``."""
    default = tmp_path / "default"
    default.mkdir()
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(default))
    (default / "progress.json").write_text('{"inner-knee": {"exercise_index": 3, "exercise": "A"}}')
    other = tmp_path / "other"
    other.mkdir()
    (other / "progress.json").write_text('{"inner-knee": {"exercise_index": 2, "exercise": "Side lunge stretch"}}')
    assert saved_place(other, "inner-knee") == Saved(2, "Side lunge stretch", saved_at=ANY)
    assert (default / "progress.json").exists() and not (default / "journal.sqlite3").exists()


SESSION = """
import sys
from voicecoach.store.places import PlaceStore, Saved
from voicecoach.store.training import open_journal
print("ready", flush=True)
sys.stdin.readline()  # all of them open the (new) journal at once
with open_journal() as journal:
    store = PlaceStore(journal)
    for i in range(60):
        store.save(sys.argv[1], Saved(i, f"exercise {i}"))
print("done")
"""


def test_concurrent_sessions_keep_every_saved_place(tmp_path):
    """Sessions saving at once, each through its own connection to one new journal (threads here,
    processes there): no place lost and nothing raised. Regression: two sessions opening a new
    journal together both created its tables, or found it locked while it turned to WAL, and one
    went on without a journal."""
    errors: list[BaseException] = []
    go = threading.Barrier(4)

    def session(key: str) -> None:
        try:
            go.wait()
            with store_in(tmp_path) as store:
                for i in range(60):
                    store.save(key, Saved(i, f"exercise {i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(f"plan-{k}",)) for k in range(4)]
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SESSION, f"proc-{k}"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(3)
    ]
    assert [p.stdout.readline() for p in procs] == ["ready\n"] * 3
    for t in threads:
        t.start()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=60) for p in procs]
    for t in threads:
        t.join()
    assert not errors
    assert outs == [("done\n", "")] * 3
    with store_in(tmp_path) as store:
        keys = [r[0] for r in store.journal.read("SELECT plan_key FROM places ORDER BY plan_key")]
        assert keys == [f"plan-{k}" for k in range(4)] + [f"proc-{k}" for k in range(3)]
        assert all(store.load(k) == Saved(59, "exercise 59", saved_at=ANY) for k in keys)


# -- a few through the real command line -----------------------------------------------------------


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=200), mutated_plans().map(str.encode)))
def test_check_command_on_fuzzed_files(tmp_path, data):
    plan = tmp_path / "fuzz.yaml"
    plan.write_bytes(data)
    out = subprocess.run(
        [sys.executable, "-m", "voicecoach", "check", str(plan)], capture_output=True, text=True, timeout=LIMIT_S + 20
    )
    assert out.returncode in (0, 3), out.stderr
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr
    assert "\x1b" not in out.stdout + out.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["export", "inner-knee", "-o", "x.mp3", "--loudness", "nan"],
        ["show", "inner-knee", "--volume", "nan"],
        ["export", "inner-knee", "-o", "x.mp3", "--loudness", "inf"],
    ],
    ids=["loudness-nan", "volume-nan", "loudness-inf"],
)
def test_not_a_number_is_a_usage_error(args, tmp_path):
    """Regression: click's FloatRange let NaN through (every comparison with NaN is false): a silent file."""
    out = subprocess.run(
        [sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert out.returncode == 2, out.stderr
    assert "Invalid value for" in out.stderr and not (tmp_path / "x.mp3").exists()
