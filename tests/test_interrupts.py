"""The signal policy, in a child process of its own: an inherited "ignore" stays, the first signal interrupts,
the second only hurries, the third exits at once."""

from __future__ import annotations

import signal
import subprocess
import sys

CHILD = """
import os, signal, time
from voicecoach import interrupts
interrupts.install()
print("SIGHUP", "ignored" if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN else "handled", flush=True)
print("SIGTERM", "handled" if signal.getsignal(signal.SIGTERM) == interrupts.handle else "other", flush=True)
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)
except KeyboardInterrupt:
    print("first: interrupted", flush=True)
interrupts.stopping(lambda: print("second: hurried", flush=True))
os.kill(os.getpid(), signal.SIGINT)
time.sleep(0.1)
print("still cleaning up", flush=True)
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(5)
print("never printed", flush=True)
"""


def test_first_interrupts_second_hurries_third_exits_and_nohup_is_kept():
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    assert out.stdout.splitlines() == [
        "SIGHUP ignored",
        "SIGTERM handled",
        "first: interrupted",
        "second: hurried",
        "still cleaning up",
    ]
    assert out.returncode == 130 and out.stderr == ""
