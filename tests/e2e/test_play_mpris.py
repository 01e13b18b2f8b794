"""`voicecoach play` driven by playerctl over a private session bus, on PulseAudio's null sink.

The headset path for real: the program owns the MPRIS2 name while it plays,
playerctl's play-pause silences the sink (the recording) and resumes with the
count-in, next skips, metadata and status follow the session, stop quits with
the place saved, and the name is gone afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from helpers.dbus import missing_tools, private_bus
from helpers.play import PlayRun, saved_places, silent_stretches
from helpers.pulse import RATE, PulseServer, find_onsets

pytestmark = pytest.mark.audio

PLAN = """\
title: Buttons
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 3}
exercises:
  - {name: Stretch, setup: Sit down., hold: 12}
  - {name: Lift, setup: Stand up., hold: 6}
"""


@pytest.fixture
def bus_env(tmp_path, clip_cache):
    missing = missing_tools()
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (./scripts/test installs them)")
    with private_bus() as bus:
        plan = tmp_path / "buttons.yaml"
        plan.write_text(PLAN)
        env = dict(
            os.environ,
            VOICECOACH_CACHE_DIR=str(clip_cache),
            VOICECOACH_DATA_DIR=str(tmp_path / "data"),
            DBUS_SESSION_BUS_ADDRESS=bus.address,
        )
        yield plan, env


def playerctl(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(["playerctl", "-p", "voicecoach", *args], env=env, capture_output=True, text=True, timeout=10)
    return out.stdout.strip()


def wait_until(check, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_playerctl_pauses_resumes_skips_and_stops(bus_env, pulse: PulseServer):
    plan, env = bus_env
    rec = pulse.start_recording()
    t0 = time.monotonic()
    run = PlayRun(plan, env)
    run.wait_for("Hold.")
    assert wait_until(lambda: playerctl(env, "status") == "Playing")
    assert playerctl(env, "metadata", "xesam:title") == "Exercise 1 of 2: Stretch, set 1 of 1"
    assert playerctl(env, "metadata", "xesam:album") == "Buttons"
    # A headset has no button to ask how long is left: the widget shows it beside the player's name.
    assert re.fullmatch(
        r"voicecoach, (about \d+ min|less than a minute) left", playerctl(env, "metadata", "xesam:artist")
    )
    assert int(playerctl(env, "metadata", "mpris:length")) > 12_000_000  # the exercise, setup included

    time.sleep(1.0)
    playerctl(env, "play-pause")
    run.wait_for("Paused (headset). Press play to resume.")
    assert wait_until(lambda: playerctl(env, "status") == "Paused")
    time.sleep(4.5)  # after the spoken "Paused..." the recording must go silent
    resumed_at = time.monotonic() - t0
    playerctl(env, "play-pause")
    run.wait_for("Resuming (headset).")
    assert wait_until(lambda: playerctl(env, "status") == "Playing")

    time.sleep(1.0)
    playerctl(env, "next")
    run.wait_for("Next exercise (headset).")
    run.wait_for("Exercise 2 of 2: Lift. 1 set, hold 6 seconds.")
    assert wait_until(lambda: playerctl(env, "metadata", "xesam:title").startswith("Exercise 2 of 2: Lift"))

    playerctl(env, "stop")
    rc, err = run.finish()
    samples = rec.stop()
    assert rc == 0, err
    assert "Traceback" not in err
    assert "Stopped (headset). Your place is saved: continue with --resume." in run.lines
    assert saved_places(Path(env["VOICECOACH_DATA_DIR"])) == [(1, "Lift")]
    # The name is released with the session: media keys go back to other players.
    names = subprocess.run(["playerctl", "-l"], env=env, capture_output=True, text=True).stdout
    assert "voicecoach" not in names
    # The pause really silenced the sink: seconds without sound up to the moment play-pause was
    # sent again (recording time runs with the wall clock, give or take the output latency).
    gaps = silent_stretches(samples, 1.5)
    assert any(a <= resumed_at - 1.0 and b >= resumed_at - 0.3 for a, b in gaps), (resumed_at, gaps)
    onsets = np.array(find_onsets(samples, RATE))
    assert onsets.size > 5


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_without_a_session_bus_media_buttons_are_silently_off(tmp_path, clip_cache, pulse: PulseServer, debug):
    plan = tmp_path / "buttons.yaml"
    plan.write_text(PLAN)
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env.update(VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    run = PlayRun(plan, env, extra=["--debug"] if debug else [])
    run.wait_for("Hold.")
    run.key(b"q")
    rc, err = run.finish()
    assert rc == 0, err
    assert "Stopped. Your place is saved: continue with --resume." in run.lines
    if debug:
        assert "voicecoach: media buttons are off: no session bus" in err
    else:
        assert err == ""
