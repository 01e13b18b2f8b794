"""A room for voice control on the real stack: the coach's sink, and a second sink whose monitor is the microphone."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.pulse import PulseServer
from helpers.speakers import piper_available


def needs_voice_control() -> None:
    """Skip without the listen extra or the Piper voice the generated speaker uses (./scripts/test installs both)."""
    pytest.importorskip("pymicro_wakeword", reason="the listen extra (./scripts/test installs it)")
    pytest.importorskip("pocketsphinx", reason="the listen extra (./scripts/test installs it)")
    if not piper_available():
        pytest.skip("the generated speaker is the Piper voice (the neural extra; ./scripts/test installs it)")


@contextlib.contextmanager
def listening_room(pulse: PulseServer, clip_cache: Path, data: Path) -> Iterator[dict[str, str]]:
    """The environment of a `voicecoach` run that listens, while a room sink exists (removed after).

    No session bus: media buttons stay out of these tests.
    """
    needs_voice_control()
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env.update(VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(data))
    room = pulse.add_room()
    try:
        yield env
    finally:
        pulse.unload(room)
