"""The registry of speech engines: the one place that knows them all."""

from __future__ import annotations

from voicecoach.speech.engine import Engine


def engines() -> dict[str, Engine]:
    """The engines by name, in the order the automatic choice prefers them."""
    from voicecoach.speech.piper import PIPER
    from voicecoach.speech.system import SYSTEM

    return {PIPER.name: PIPER, SYSTEM.name: SYSTEM}
