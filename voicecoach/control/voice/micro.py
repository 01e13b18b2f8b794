"""The wake word: microWakeWord models run by ``pymicro-wakeword`` (the ``listen`` extra).

The package (Apache-2.0, from the Home Assistant voice project) ships four
trained models, "hey jarvis", "okay nabu", "hey mycroft" and "alexa", and a
small TensorFlow Lite runtime: nothing is downloaded. A custom model is a
microWakeWord ``.json`` file with its ``.tflite`` beside it (``--wake-word
PATH``; the ``.tflite`` path works too when the ``.json`` sits beside it).

How it streams (``pymicro_wakeword/microwakeword.py``): 16 kHz 16-bit audio
goes through the TFLite Micro audio front end in 10 ms steps (a feature
window every 10 ms); the model runs on every ``stride`` windows (3: 30 ms)
and the detection probability is the mean of the last
``sliding_window_size`` outputs (5), compared with the model's
``probability_cutoff`` (0.97 for "hey jarvis"). We use those values as the
models' authors set them.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach.errors import MissingDependencyError, VoicecoachError

INSTALL_HINT = "install the voice-control extra: pip install 'voicecoach[listen]' (or run ./scripts/run --listen)"
#: The shipped models, by how a user writes them.
BUILTIN = {"hey jarvis": "hey_jarvis", "okay nabu": "okay_nabu", "hey mycroft": "hey_mycroft", "alexa": "alexa"}
DEFAULT = "hey jarvis"


def available() -> bool:
    """Whether the listen extra is installed (checked without importing it)."""
    return all(importlib.util.find_spec(m) is not None for m in ("pymicro_wakeword", "pocketsphinx"))


def missing_error() -> MissingDependencyError:
    return MissingDependencyError("voice control is not installed", hint=INSTALL_HINT)


def _config_path(spec: str) -> Path:
    """The model's JSON config for a built-in name or a user's file."""
    key = " ".join(spec.replace("_", " ").split()).casefold()
    if key in BUILTIN:
        import pymicro_wakeword

        return Path(pymicro_wakeword.__file__).parent / "models" / f"{BUILTIN[key]}.json"
    path = Path(spec).expanduser()
    if path.suffix == ".tflite":
        path = path.with_suffix(".json")
    if not path.is_file():
        raise VoicecoachError(
            f"no wake word model {spec!r}",
            hint="use one of "
            + ", ".join(f'"{n}"' for n in BUILTIN)
            + ", or the path of a microWakeWord model (.json with its .tflite beside it)",
        )
    return path


class MicroWakeWordDetector:
    """A :class:`~voicecoach.control.voice.WakeWordDetector` for one microWakeWord model."""

    def __init__(self, spec: str = DEFAULT) -> None:
        if not available():
            raise missing_error()
        from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures

        path = _config_path(spec)
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
            self._model: Any = MicroWakeWord.from_config(path)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise VoicecoachError(f"cannot load the wake word model {str(path)!r}: {exc}") from exc
        self.phrase = str(config.get("wake_word") or path.stem.replace("_", " "))
        self._features = MicroWakeWordFeatures()

    def feed(self, pcm: np.ndarray) -> bool:
        woke = False
        for features in self._features.process_streaming(np.asarray(pcm, dtype="<i2").tobytes()):
            if self._model.process_streaming(features):
                woke = True
        return woke

    def probability(self, pcm: np.ndarray) -> float:
        """The highest detection probability over these samples (for the benchmark's threshold study)."""
        best = 0.0
        for features in self._features.process_streaming(np.asarray(pcm, dtype="<i2").tobytes()):
            best = max(best, float(self._model.process_streaming_prob(features) or 0.0))
        return best

    def reset(self) -> None:
        self._model.reset()
        self._features.reset()
