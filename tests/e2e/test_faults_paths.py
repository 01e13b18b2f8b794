"""Fault injection, output paths: one family of path errors, one answer for every file voicecoach writes.

The export, its captions and transcript, the journal's chart and the config
file, each pointed at a name too long, a loop of links, a path through a
file, a folder, a missing folder or a read-only disk: ``voicecoach: error:
cannot write ...``, exit 6, before any work, nothing else on stderr,
nothing left behind. The file-size limit (``ulimit -f``) is the same
family: one line, exit 6, whether the voice or ffmpeg meets it first.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.files import part_files, tmpfs
from helpers.plans import EARLIER, TINY

KINDS = ["name-too-long", "link-loop", "through-a-file", "a-folder", "missing-folder"]
SAYS = {
    "name-too-long": "the file name is 304 bytes long, more than the 255 a file name can have.",
    "link-loop": "its path goes round a loop of symbolic links.",
    "through-a-file": "a part of its path is not a directory.",
    "a-folder": "it is a directory.",
    "missing-folder": "the directory {d}/no/such does not exist.",
    "read-only": "is on a read-only disk.",
}


def vc(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voicecoach", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        stdin=subprocess.DEVNULL,
        **kw,
    )


def _stem(d: Path, kind: str) -> Path:
    """Where an output named ``<stem>.<ext>`` cannot be written, for one kind of path error."""
    if kind == "name-too-long":
        return d / ("s" * 300)
    if kind == "link-loop":
        (d / "loop").symlink_to("loop")
        return d / "loop" / "s"
    if kind == "through-a-file":
        (d / "afile").write_text("")
        return d / "afile" / "s"
    if kind == "missing-folder":
        return d / "no" / "such" / "s"
    return d / "s"


def _assert_refused(out: subprocess.CompletedProcess, target: Path, kind: str, d: Path) -> None:
    assert out.returncode == 6, (out.returncode, out.stderr)
    first = out.stderr.splitlines()[0]
    assert first.startswith(f"voicecoach: error: cannot write {target}"), out.stderr
    assert first.endswith(SAYS[kind].format(d=d)), out.stderr
    for noise in ("Traceback", "internal error", "Usage:", "Errno"):
        assert noise not in out.stderr


@pytest.fixture
def plan(tmp_path) -> Path:
    p = tmp_path / "plan" / "tiny.yaml"
    p.parent.mkdir()
    p.write_text(TINY)
    return p


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", ["audio", "captions", "transcript"])
def test_export_outputs(tmp_path, plan, kind, which):
    d = tmp_path / "out"
    d.mkdir()
    stem = _stem(d, kind)
    target = {"audio": stem.with_suffix(".mp3"), "captions": stem.with_suffix(".srt")}.get(
        which, stem.with_suffix(".txt")
    )
    if kind == "a-folder":
        target.mkdir()
    audio = stem.with_suffix(".mp3")
    extra = {"audio": [], "captions": ["--captions", "srt"], "transcript": ["--transcript"]}[which]
    out = vc("export", str(plan), "--engine", "system", "-o", str(audio), *extra)
    # A sidecar sits beside the audio: but for a folder in its very place, the audio's path fails first.
    _assert_refused(out, target if kind == "a-folder" else audio, kind, d)
    assert out.stdout == ""  # refused before any work: nothing was prepared or said
    assert part_files(d) == []


@pytest.mark.parametrize("kind", KINDS)
def test_journal_chart(tmp_path, kind):
    pytest.importorskip("matplotlib")
    d = tmp_path / "out"
    d.mkdir()
    target = _stem(d, kind).with_suffix(".png")
    if kind == "a-folder":
        target.mkdir()
    assert vc("journal", "add", "inner-knee", "--pain-after", "2").returncode == 0
    out = vc("journal", "--chart", str(target))
    _assert_refused(out, target, kind, d)
    assert out.stdout == ""  # checked before the listing is printed
    assert not (d / "no").exists()  # a missing folder is refused, never made


def test_read_only_disk_for_a_chart_and_the_config(tmp_path):
    pytest.importorskip("matplotlib")
    assert vc("journal", "add", "inner-knee", "--pain-after", "2").returncode == 0
    with tmpfs(tmp_path / "ro", readonly=True, files={"c.png": EARLIER}) as ro:
        out = vc("journal", "--chart", str(ro / "c.png"))
        _assert_refused(out, ro / "c.png", "read-only", ro)
        config = vc("config", "set", "rate", "150", env=dict(os.environ, VOICECOACH_CONFIG=str(ro / "c.toml")))
        assert config.returncode == 6, config.stderr
        assert (
            config.stderr
            == f"voicecoach: error: cannot write the config file {ro / 'c.toml'}: the disk is read-only.\n"
        )
        assert (ro / "c.png").read_bytes() == EARLIER


# -- the file-size limit ---------------------------------------------------------------------------------

LIMIT_BYTES = 64 * 1024  # far below a whole session, far above a clip's header


def _file_size_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))


@pytest.mark.audio
@pytest.mark.parametrize("cache", ["warm", "empty"])
def test_a_file_size_limit_is_one_line_and_exit_6(tmp_path, plan, clip_cache, cache):
    """ulimit -f: the voice's temporary file (empty cache) or ffmpeg's (warm cache) is cut short."""
    d = tmp_path / "out"
    d.mkdir()
    (d / "s.wav").write_bytes(EARLIER)
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache if cache == "warm" else tmp_path / "cache"))
    if cache == "warm":
        assert vc("export", str(plan), "--engine", "system", "-o", str(tmp_path / "w.wav"), env=env).returncode == 0
    out = vc(
        "export", str(plan), "--engine", "system", "-o", str(d / "s.wav"), "--level", "low",
        env=env, preexec_fn=_file_size_limit,
    )  # fmt: skip
    assert out.returncode == 6, out.stderr
    [line] = out.stderr.splitlines()
    assert line.startswith("voicecoach: error: cannot write ")
    assert line.endswith(": it would be larger than the file-size limit (ulimit -f).")
    assert (d / "s.wav").read_bytes() == EARLIER
    assert part_files(d) == []
