"""Fault injection, device names: ``--device`` and ``--mic`` that name no device exit with the device code.

Exit status 5 (a sound device problem, as with no device at all), the
message, and the list of devices to choose from; never exit 1.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers.pulse import PulseServer

pytestmark = pytest.mark.audio


def _play(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voicecoach", "play", "--no-mpris", "--no-check-in", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(("option", "kind"), [("--device", "output"), ("--mic", "input")])
@pytest.mark.parametrize("spec", ["99", "no such card"], ids=["number", "name"])
def test_a_device_that_is_not_there_exits_5(pulse: PulseServer, option, kind, spec):
    if option == "--mic":
        pytest.importorskip("pymicro_wakeword", reason="--mic needs the listen extra")
    out = _play(option, spec)
    assert out.returncode == 5, out.stderr
    said = f"no {kind} device number 99" if spec == "99" else f"no {kind} device matches 'no such card'"
    assert out.stderr.startswith(f"voicecoach: error: {said}\n{kind} devices:\n"), out.stderr
    assert "pulse" in out.stderr
