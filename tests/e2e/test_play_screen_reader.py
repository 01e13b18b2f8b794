"""`voicecoach play` under a screen reader's conventions, for real: the whole program in a pseudo-terminal.

Standard input, output and error are one real pseudo-terminal (as in a terminal window), the
session plays on the test's PulseAudio null sink, and nothing says --plain: ``ACCESSIBLE=1``
or ``TERM=dumb`` alone must give whole lines, no carriage return but the terminal's own
line endings, and no escape sequence at all (no redrawn status line, no progress bar, no
colour). Without them the same run redraws its status line (the test can fail).
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from helpers.pulse import PulseServer

pytestmark = [pytest.mark.audio, pytest.mark.slow]

PLAN = """\
title: Plain
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2}
exercises:
  - {name: Stretch, setup: Sit tall., hold: 20}
"""


def _play_in_a_terminal(plan, env: dict[str, str], timeout_s: float = 120) -> str:
    """Run play with the pty as its terminal; quit with q once the first exercise is set up; all it wrote."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "play", str(plan), "--no-check-in", "--engine", "system"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,  # the pty becomes its controlling terminal, as in a terminal window
    )
    os.close(slave)
    out = b""
    quit_sent = False
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the program ended and closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if not quit_sent and b"Exercise 1 of 1: Stretch" in out:  # a line, or the status line
                os.write(master, b"q")
                quit_sent = True
            if proc.poll() is not None and not ready:
                break
        assert proc.wait(timeout=30) == 0, out.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert quit_sent, out.decode(errors="replace")
    return out.decode()


@pytest.mark.parametrize(
    ("extra", "plain"),
    [({"ACCESSIBLE": "1"}, True), ({"TERM": "dumb"}, True), ({}, False)],
    ids=["accessible", "term-dumb", "terminal"],
)
def test_plain_lines_in_a_real_terminal(tmp_path, clip_cache, pulse: PulseServer, extra, plain):
    plan = tmp_path / "plain.yaml"
    plan.write_text(PLAN)
    env = {k: v for k, v in os.environ.items() if k not in ("ACCESSIBLE", "NO_COLOR", "DBUS_SESSION_BUS_ADDRESS")}
    env.update(TERM="xterm-256color", VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(tmp_path / "d"))
    env.update(extra)
    written = _play_in_a_terminal(plan, env)
    lines = [line for line in written.replace("\r\n", "\n").split("\n") if line]
    if plain:
        assert "\x1b" not in written, repr(written)
        assert "\r" not in written.replace("\r\n", "\n"), repr(written)  # only the terminal's own "\r\n"
        assert "Stop if it hurts." in lines and "Exercise 1 of 1: Stretch. 1 set, hold 20 seconds." in lines, lines
        assert "Stopped. Your place is saved: continue with --resume." in lines, lines  # (stderr may follow)
    else:
        assert "\r\x1b[2K" in written, repr(written)  # the status line is redrawn in place
    assert not re.search("\x1b\\[[0-9;]*m", written), repr(written)  # never a colour (NO_COLOR or not)
