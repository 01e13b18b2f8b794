"""The speech engines: what the Speaker needs from one, their registry, and the helpers they share.

An engine (``system``: pyttsx3/espeak-ng, SAPI5, macOS; ``piper``: the neural
voice) is a small object satisfying :class:`Engine`, listed by :func:`engines`,
the one place that knows them all. The Speaker never compares engine names: it
asks that registry. A new engine goes in its own module, added there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from voicecoach.errors import MissingDependencyError


@dataclass(frozen=True)
class VoiceInfo:
    """An installed voice: ``id`` is what ``--voice`` takes; ``engine`` the driver (e.g. "espeak")."""

    id: str
    name: str
    languages: tuple[str, ...]
    engine: str


@dataclass(frozen=True)
class ResolvedVoice:
    """A voice ready to speak: its cache-key parts (before the text), its description,
    its synthesis (float32 samples, their rate) and how many phrases it can make at once."""

    key: tuple[object, ...]
    label: str
    synthesize: Callable[[str], tuple[np.ndarray, int]]
    workers: int = 1


class Engine(Protocol):
    """What the Speaker needs from a speech engine."""

    name: str

    def available(self) -> bool:
        """Whether it can run here (checked without importing anything heavy)."""
        ...

    def missing_error(self) -> MissingDependencyError:
        """The error (with what to install) when it is asked for but not available."""
        ...

    def voices(self) -> list[VoiceInfo]: ...

    def serves(self, voice: str | None, language: str | None) -> bool:
        """Whether the automatic choice may pick it for ``--voice``/``--language``."""
        ...

    def resolve(self, voice: str | None, language: str | None, rate: int | None, volume: float) -> ResolvedVoice: ...


# Each engine's module and the object in it, in the order the automatic choice prefers them.
# Named, not imported: each engine's module imports this one for the interface (a plug-in
# registry, so the dependency points from the engines to their interface, never back).
_REGISTRY = (("voicecoach.speech.piper", "PIPER"), ("voicecoach.speech.system", "SYSTEM"))


def engines() -> dict[str, Engine]:
    """The engines by name (:class:`voicecoach.core.vocab.EngineName`), in the order the automatic
    choice prefers them."""
    found: list[Engine] = [getattr(importlib.import_module(module), name) for module, name in _REGISTRY]
    return {engine.name: engine for engine in found}


def normalize_language(tag: object) -> str:
    """``en_US`` -> ``en-us``: one spelling for comparing language tags."""
    return str(tag).strip().lower().replace("_", "-")


def speaks(languages: tuple[str, ...], language: str) -> bool:
    """Whether a voice with these (normalized) tags speaks ``language`` or a variant of it."""
    lang = normalize_language(language)
    return any(x == lang or x.startswith(lang + "-") for x in languages)


def clean_text(text: str) -> str:
    """Control characters become spaces: no engine should ever see them."""
    return "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text)
