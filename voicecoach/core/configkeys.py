"""The settings file's keys: each one's type, what is valid, and its default (pure data).

:mod:`voicecoach.core.configrules` checks values against them (and re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from voicecoach.core.plan import LEVELS
from voicecoach.core.vocab import EngineName

Value = str | int | float | bool | tuple[str, ...]
Kind = Literal["choice", "text", "int", "number", "bool", "device", "paths"]

# The loudness a session is made to (integrated, EBU R128): the `loudness` setting's default, and the
# target of every level measured and gain computed below the command line.
DEFAULT_LOUDNESS_LUFS = -16.0


@dataclass(frozen=True)
class Setting:
    """One key of the settings file: its type, what is valid, and its default."""

    key: str
    kind: Kind
    valid: str  # what is valid, in words ("a whole number ... from 80 to 400")
    default: Value | None  # None: not set, the program decides (``unset`` says how)
    unset: str = ""  # how "not set" reads, e.g. "the voice's own pace"
    choices: tuple[str, ...] = ()
    lo: float = 0.0
    hi: float = 0.0


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "engine",
            "choice",
            "system or piper",
            None,
            "automatic, piper when installed, else system",
            choices=tuple(e.value for e in EngineName),
        ),
        Setting(
            "voice",
            "text",
            "a voice id or name (see voicecoach voices), or the path of a piper .onnx voice",
            None,
            "the engine's default voice",
        ),
        Setting(
            "rate",
            "int",
            "a whole number of words per minute from 80 to 400",
            None,
            "the voice's own pace",
            lo=80,
            hi=400,
        ),
        Setting("volume", "number", "a number from 0 to 1", 1.0, lo=0, hi=1),
        Setting("language", "text", "a language code such as en-us", None, "any"),
        Setting("level", "choice", "auto, low, mid or high", "auto", choices=("auto", *LEVELS)),
        Setting(
            "loudness", "number", "a loudness in LUFS from -40 to -5 (export)", DEFAULT_LOUDNESS_LUFS, lo=-40, hi=-5
        ),
        Setting("earcons", "bool", "true or false", True),
        Setting(
            "device",
            "device",
            "a sound output device number or name (see voicecoach devices)",
            None,
            "the system's default output",
        ),
        Setting("listen", "bool", "true or false (voice control: play --listen)", False),
        Setting("mic", "device", "a microphone number or name (play --mic)", None, "the system's default microphone"),
        Setting("wake_word", "text", "a wake word name or model file (play --wake-word)", None, "none"),
        Setting("mpris", "bool", "true or false (appear as a media player on Linux)", True),
        Setting("remote", "bool", "true or false (the phone as a remote: play --remote)", False),
        Setting(
            "music",
            "paths",
            'a list of music files and folders, e.g. ["~/Music/walk.mp3"] (play and export --music)',
            None,
            "no music",
        ),
        Setting("cache_limit_mb", "int", "a whole number of megabytes from 0 to 1000000", 500, lo=0, hi=1_000_000),
    )
}
