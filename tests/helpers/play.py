"""`voicecoach play` as a user runs it, for the real-stack tests: in a pseudo-terminal, lines timestamped.

Shared by the tests that play a session for real (tests/e2e): the run, the
places it saved, and the silences in what the speakers played.
"""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from helpers.pulse import RATE


class PlayRun:
    """`voicecoach play PLAN --plain` in a pseudo-terminal, lines timestamped as they arrive."""

    def __init__(
        self, plan: Path, env: dict[str, str], extra: list[str] | None = None, check_in: bool = False, **popen
    ) -> None:
        self.master, slave = pty.openpty()
        root = [a for a in extra or [] if a == "--debug"]  # options of the root command go first
        rest = [a for a in extra or [] if a != "--debug"]  # options of play
        args = ["play", str(plan), "--plain", *([] if check_in else ["--no-check-in"]), *rest]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voicecoach", *root, *args],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            **popen,
        )
        self.tty = os.ttyname(slave)  # to look at the terminal's settings afterwards
        os.close(slave)
        self.lines: list[str] = []
        self.ended = False  # the program closed its output: no more lines will come
        self.seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.seen:
                self.lines.append(line.rstrip("\n"))
                self.seen.notify_all()
        with self.seen:
            self.ended = True
            self.seen.notify_all()

    def wait_for(self, text: str, timeout_s: float = 30) -> None:
        with self.seen:
            found = self.seen.wait_for(lambda: text in self.lines or self.ended, timeout_s) and text in self.lines
        if not found and self.ended:
            raise AssertionError(f"exit {self.proc.wait()}: {self.proc.stderr.read()}\n{self.lines}")
        if not found:
            print("\n".join(self.lines))  # pytest shows it on failure: the whole session, not a cut repr
        assert found, text

    def key(self, k: bytes) -> None:
        os.write(self.master, k)

    def finish(self, timeout_s: float = 60) -> tuple[int, str]:
        rc = self.proc.wait(timeout=timeout_s)
        os.close(self.master)
        return rc, self.proc.stderr.read()


def saved_places(data_dir: Path) -> list[tuple[int, str]]:
    """The places saved for --resume, from the journal file."""
    with sqlite3.connect(data_dir / "journal.sqlite3") as c:
        return c.execute("SELECT exercise_index, exercise FROM places").fetchall()


def silent_stretches(samples: np.ndarray, min_s: float) -> list[tuple[float, float]]:
    """(start, end) of stretches at least ``min_s`` long with no sound above -60 dBFS."""
    loud = np.abs(np.asarray(samples, np.float32)) > 1e-3  # float samples in [-1, 1]
    idx = np.flatnonzero(loud)
    gaps = []
    for a, b in zip(idx[:-1], idx[1:]):
        if (b - a) / RATE >= min_s:
            gaps.append((a / RATE, b / RATE))
    return gaps
