"""Fault injection, the output encoding: a non-UTF-8 stdout shows what it can and the command goes on.

A plan whose names have emoji and non-Latin letters, printed with
``PYTHONIOENCODING=latin-1`` (a Latin-1 terminal): ``show`` (the sheet and
--json) and a real ``play`` on the test PulseAudio server finish with exit 0;
what Latin-1 lacks is an escape, never a UnicodeEncodeError.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers.pulse import PulseServer

PLAN = """\
title: "Morgen 🏋️ Übung — 膝"
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2}
exercises:
  - {name: "Dehnen 🦵 膝", setup: "Sit down ✅.", hold: 3}
"""


def _vc(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voicecoach", *args],
        capture_output=True,
        env=dict(env, PYTHONIOENCODING="latin-1"),
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def plan(tmp_path):
    p = tmp_path / "emoji.yaml"
    p.write_text(PLAN, encoding="utf-8")
    return p


def test_show_prints_what_latin1_can_show(plan):
    out = _vc("show", str(plan), "--estimate", env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode("latin-1")
    assert "Morgen \\U0001f3cb\\ufe0f Übung \\u2014 \\u819d" in text.splitlines()[0]
    assert "Dehnen \\U0001f9b5 \\u819d" in text
    assert b"internal error" not in out.stderr


def test_show_json_stays_valid_json(plan):
    out = _vc("show", str(plan), "--estimate", "--json", env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert out.stdout.isascii()  # JSON's own \\u escapes
    assert json.loads(out.stdout)["title"] == "Morgen 🏋️ Übung — 膝"


@pytest.mark.audio
@pytest.mark.slow
def test_play_prints_what_latin1_can_show(plan, pulse: PulseServer, clip_cache, tmp_path):
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    out = _vc("play", str(plan), "--plain", "--no-check-in", "--no-mpris", "--engine", "system", env=env)
    assert out.returncode == 0, out.stderr.decode("latin-1")
    assert b"internal error" not in out.stderr
    assert "Dehnen \\U0001f9b5 \\u819d" in out.stdout.decode("latin-1")
