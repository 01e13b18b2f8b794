"""Fault injection, outputs: every place voicecoach writes made unwritable, full, a directory or a dangling link.

Real files and real processes: the exports run the real command (espeak-ng
through the shared clip cache, ffmpeg); "unwritable" and "full" are real
small tmpfs mounts (read-only, or filled to the last byte), made when this
process may mount (root with CAP_SYS_ADMIN, as ./scripts/test runs) and
skipped otherwise; a full stdout is /dev/full. What must hold: a clear
message and exit status, never a traceback or ffmpeg's own text, an earlier
file untouched, no part file left, and a live session that never ends
because its place cannot be saved.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.coaching import ScriptedInputs, stepped_coach
from helpers.fakes import FakeSpeaker
from helpers.files import part_files, tmpfs
from helpers.places import store_for_play
from helpers.plans import EARLIER, TINY, TWO

from voicecoach.core import phrases
from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.live.status import Output
from voicecoach.render.prepare import Prepared

PLAN = parse_plan(TWO)


def vc(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True, env=env, timeout=120, **kw
    )


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("plan") / "tiny.yaml"
    p.write_text(TINY)
    return p


@pytest.fixture
def env(clip_cache, tmp_path) -> dict:
    return dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(tmp_path / "data"))


def assert_clean_failure(out: subprocess.CompletedProcess, status: int, says: str) -> None:
    assert out.returncode == status, out.stderr
    assert says in out.stderr, out.stderr
    for noise in ("Traceback", "internal error", "av_interleaved", "Error writing trailer", ".part"):
        assert noise not in out.stderr, out.stderr


# -- export outputs -----------------------------------------------------------------------------


@pytest.mark.audio
def test_export_to_a_full_disk_keeps_the_earlier_file(plan, env, tmp_path):
    with tmpfs(tmp_path / "disk", fill=True, files={"s.mp3": EARLIER}) as disk:
        out = vc("export", str(plan), "--engine", "system", "-o", str(disk / "s.mp3"), env=env)
        assert_clean_failure(out, 6, f"cannot write {disk / 's.mp3'}: the disk is full.")
        assert (disk / "s.mp3").read_bytes() == EARLIER
        assert part_files(disk) == []


@pytest.mark.audio
def test_export_to_a_read_only_disk(plan, env, tmp_path):
    with tmpfs(tmp_path / "disk", readonly=True, files={"s.mp3": EARLIER}) as disk:
        out = vc("export", str(plan), "--engine", "system", "-o", str(disk / "s.mp3"), "--captions", "vtt", env=env)
        assert_clean_failure(out, 6, f"cannot write {disk / 's.mp3'}: the directory {disk} is on a read-only disk.")
        assert (disk / "s.mp3").read_bytes() == EARLIER


@pytest.mark.audio
@pytest.mark.parametrize("blocked", ["s.mp3", "s.vtt", "s.txt"], ids=["audio", "captions", "transcript"])
def test_any_output_that_is_a_directory_fails_before_encoding(plan, env, tmp_path, blocked):
    """Regression: the audio used to be replaced before a sidecar failed. Every path is checked first."""
    for name in ("s.mp3", "s.vtt", "s.txt"):
        (tmp_path / name).write_bytes(EARLIER)
    (tmp_path / blocked).unlink()
    (tmp_path / blocked).mkdir()
    out = vc(
        "export",
        str(plan),
        "--engine",
        "system",
        "-o",
        str(tmp_path / "s.mp3"),
        "--captions",
        "vtt",
        "--transcript",
        env=env,
    )
    # -o itself too: voicecoach's own check and exit status, not click's usage error (exit 2)
    assert_clean_failure(out, 6, f"cannot write {tmp_path / blocked}: it is a directory.")
    for name in {"s.mp3", "s.vtt", "s.txt"} - {blocked}:
        assert (tmp_path / name).read_bytes() == EARLIER
    assert part_files(tmp_path) == []


@pytest.mark.audio
def test_export_through_a_dangling_symlink_writes_a_file_there(plan, env, tmp_path):
    """The link is replaced by the file; nothing is created where it pointed."""
    link = tmp_path / "s.mp3"
    link.symlink_to(tmp_path / "nowhere" / "x.mp3")
    out = vc("export", str(plan), "--engine", "system", "-o", str(link), env=env)
    assert out.returncode == 0, out.stderr
    assert link.is_file() and not link.is_symlink() and not (tmp_path / "nowhere").exists()


@pytest.mark.audio
@pytest.mark.parametrize("how", ["output", "transcript"])
def test_export_never_overwrites_its_own_plan(env, tmp_path, how):
    plan = tmp_path / ("p.mp3" if how == "output" else "p.txt")
    plan.write_text(TINY)
    extra = ["--transcript"] if how == "transcript" else []
    out = vc("export", str(plan), "--engine", "system", "-o", str(tmp_path / "p.mp3"), *extra, env=env)
    assert_clean_failure(out, 6, "it is the plan file this export reads")
    assert plan.read_text() == TINY


@pytest.mark.audio
def test_a_250_character_output_name(plan, env, tmp_path):
    """The part file's suffix would push such a name past 255 bytes: long names get a hashed part name."""
    target = tmp_path / ("s" * 246 + ".mp3")
    assert len(target.name) == 250
    out = vc("export", str(plan), "--engine", "system", "-o", str(target), "--captions", "vtt", env=env)
    assert out.returncode == 0, out.stderr
    assert target.stat().st_size > 1000 and target.with_suffix(".vtt").is_file()
    assert part_files(tmp_path) == []


# -- the clip cache and stdout -----------------------------------------------------------------------


@pytest.mark.audio
@pytest.mark.parametrize("kind", ["file", "dangling-link", "read-only", "full"])
def test_an_unusable_cache_costs_time_not_the_command(plan, tmp_path, kind):
    cache = tmp_path / "cache"
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(cache), VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    with contextlib.ExitStack() as stack:
        if kind == "file":
            cache.write_text("not a folder")
        elif kind == "dangling-link":
            cache.symlink_to(tmp_path / "gone")
        else:
            stack.enter_context(tmpfs(cache, readonly=kind == "read-only", fill=kind == "full"))
        out = vc("show", str(plan), "--engine", "system", env=env)
    assert out.returncode == 0, out.stderr
    assert "Total:" in out.stdout
    assert out.stderr.count("voicecoach: note: cannot write the speech cache") == 1, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("redirect", ["closed", "full"])
def test_stdout_closed_or_full(redirect):
    """`voicecoach show inner-knee >&-` and `> /dev/full`: no internal error."""
    if redirect == "closed":
        out = subprocess.run(
            f"{sys.executable} -m voicecoach show inner-knee --estimate >&-",
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0 and out.stderr == "", out.stderr
    else:
        with open("/dev/full", "w") as full:
            out = subprocess.run(
                [sys.executable, "-m", "voicecoach", "show", "inner-knee", "--estimate"],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
            )
        assert out.returncode == 6
        assert out.stderr == "voicecoach: error: cannot write the output: the disk is full.\n"


@pytest.mark.audio
def test_stderr_closed_with_a_progress_bar(plan, env):
    """Regression: a closed stderr made the progress bar an internal error (sys.stderr was None)."""
    out = subprocess.run(
        f"{sys.executable} -m voicecoach show {plan} 2>&-",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "Total:" in out.stdout


# -- the data folder of a live session -------------------------------------------------------------


class SayingSpeaker(FakeSpeaker):
    """A fake speaker that keeps every text it was asked to say."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def clip(self, text: str):
        self.said.append(text)
        return super().clip(text)


# What the journal is said to be when it cannot be opened (the session starts without it) or
# stops working during the session (then "The training journal stopped working..." is spoken).
UNUSABLE = {
    "file": "other",
    "dangling-link": "other",
    "read-only": "read-only",
    "full": "other",
    "full-later": "other",
    "locked-later": "busy",
}


@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_a_place_that_cannot_be_saved_is_said_once_and_the_session_goes_on(tmp_path, kind):
    """The saved places live in the journal: a data folder where it cannot be opened, or a journal
    that fails mid-session (the disk fills up; another program holds its lock longer than the
    busy timeout), never ends the session. It is said once, printed with the journal's path;
    nothing else about it is said."""
    data = tmp_path / "data"
    with contextlib.ExitStack() as stack:
        if kind == "file":
            data.write_text("a file where the data folder should be")
        elif kind == "dangling-link":
            data.symlink_to(tmp_path / "gone" / "deeper")
            (tmp_path / "gone").write_text("a file, so the link can never be made a folder")
        elif kind in ("read-only", "full", "full-later"):
            stack.enter_context(tmpfs(data, size="256k", readonly=kind == "read-only", fill=kind == "full"))
        else:
            data.mkdir()
        store, notes = stack.enter_context(store_for_play(data))
        assert (store.journal is None) is not kind.endswith("-later")
        if kind == "full-later":  # the disk fills up once the session has started
            with contextlib.suppress(OSError), open(data / ".filler", "wb", buffering=0) as f:
                while True:
                    f.write(b"\0" * 512)
        elif kind == "locked-later":  # another program holds the write lock all session long
            other = sqlite3.connect(data / "journal.sqlite3", isolation_level=None)
            stack.callback(other.close)
            other.execute("BEGIN IMMEDIATE")
            # Given up after 0.1 s, not the usual 2 s: the same path, but the fake player (200 times
            # real time) would finish the whole session meanwhile, and a note that comes after the
            # last sound is printed only.
            store.journal.read("PRAGMA busy_timeout = 100")
        speaker = SayingSpeaker()
        buf = io.StringIO()
        coach = stepped_coach(
            Prepared(PLAN, Options(), build_timeline(PLAN, Options(), speaker.length_s), speaker),
            Output("plain", buf),
            ScriptedInputs([], []),
            store=store,
            plan_key="two",
            notes=notes,
        )
        assert coach.run()
    lines = buf.getvalue().splitlines()
    note = phrases.journal_off(UNUSABLE[kind])
    assert [line for line in lines if "journal" in line] == [line for line in lines if line.startswith(note)]
    assert len([line for line in lines if line.startswith(note)]) == 1
    assert f"({data / 'journal.sqlite3'}" in next(line for line in lines if line.startswith(note))
    said = phrases.JOURNAL_LOST if kind.endswith("-later") else note
    assert [text for text in speaker.said if "journal" in text] == [said]
    assert not any(phrases.CANNOT_SAVE_PLACE in line for line in lines)
    assert lines[-1] == phrases.SESSION_COMPLETE_PRINTED
