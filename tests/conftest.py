"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pulse import PulseError, PulseServer, missing_tools  # tests/pulse.py


@pytest.fixture(scope="session")
def pulse() -> Iterator[PulseServer]:
    """A private PulseAudio server whose null sink ``vc_test`` is this process's default output.

    PortAudio is re-initialised so its ALSA ``pulse``/``default`` devices
    reach the server; the monitor ``vc_test.monitor`` records what is played
    (``pulse.start_recording()``). Skips when PulseAudio is not installed,
    except under CI (``CI`` set), where ./scripts/test installs it and a
    skip would hide a broken set-up.
    """

    def unavailable(reason: str) -> None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the live audio tests)")
        pytest.skip(reason)

    missing = missing_tools()
    if missing:
        unavailable(f"PulseAudio not installed ({', '.join(missing)} not found): "
                    "sudo apt-get install pulseaudio pulseaudio-utils, or run ./scripts/test")
    from voicecoach.errors import MissingDependencyError
    from voicecoach.live import devices

    try:
        devices.import_sounddevice()
    except MissingDependencyError as exc:
        unavailable(exc.render())
    server = PulseServer()
    try:
        server.start()
    except PulseError as exc:
        server.stop()
        unavailable(f"cannot start a private PulseAudio server: {exc}")
    server.apply_env()
    devices.rescan()  # PortAudio lists devices only when initialised
    try:
        yield server
    finally:
        server.stop()
        devices.rescan()  # forget the server's devices
