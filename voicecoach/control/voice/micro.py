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
``probability_cutoff`` (0.97 for "hey jarvis"). The stride and the window
are used as the models' authors set them; the cutoff is the user's
``--wake-sensitivity`` (:mod:`voicecoach.core.wake`): by default a little
under the author's, which missed voices the model scores just below it.

A model a user names is checked before it reaches the native library, which
crashes the whole process on a file it cannot use: the ``.json`` and the
``.tflite`` must be regular files of a sane size (a folder, ``/dev/zero`` or
a 2 GB file never gets read), the ``.tflite`` must carry TensorFlow Lite's
identifier, and it is then loaded and run once in a child process
(:func:`_probe`), whose death by a signal cannot take the session with it.
Any of these failing is one line, ``cannot load the wake word model ...``,
before the session starts.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach import quiet
from voicecoach.core import wake
from voicecoach.errors import MissingDependencyError, VoicecoachError

INSTALL_HINT = "install the voice-control extra: pip install 'voicecoach[listen]' (or run ./scripts/run --listen)"
#: The shipped models, by how a user writes them.
BUILTIN = {"hey jarvis": "hey_jarvis", "okay nabu": "okay_nabu", "hey mycroft": "hey_mycroft", "alexa": "alexa"}
DEFAULT = "hey jarvis"
#: The shipped models are 52-81 KB (they are made for microcontrollers); their .json under 1 KB.
MAX_MODEL_BYTES = 4_000_000
MAX_MANIFEST_BYTES = 64_000
#: A FlatBuffer's file identifier sits at byte 4; TensorFlow Lite's is "TFL3".
_TFLITE_ID = b"TFL3"
#: Loading and running a model once in the child takes well under a second.
PROBE_TIMEOUT_S = 30.0


def available() -> bool:
    """Whether the listen extra is installed (checked without importing it)."""
    return all(importlib.util.find_spec(m) is not None for m in ("pymicro_wakeword", "pocketsphinx"))


def missing_error() -> MissingDependencyError:
    return MissingDependencyError("voice control is not installed", hint=INSTALL_HINT)


def _builtin_dir() -> Path:
    import pymicro_wakeword

    return Path(pymicro_wakeword.__file__).parent / "models"


def _config_path(spec: str) -> Path:
    """The model's JSON config for a built-in name or a user's file."""
    key = " ".join(spec.replace("_", " ").split()).casefold()
    if key in BUILTIN:
        return _builtin_dir() / f"{BUILTIN[key]}.json"
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
    """A :class:`~voicecoach.control.voice.WakeWordDetector` for one microWakeWord model.

    A model named by a path is checked, then tried in a child process first
    (``probe``); the shipped ones are not (they are known to load).
    ``sensitivity`` sets the cutoff (:mod:`voicecoach.core.wake`; None: its
    default level); :attr:`model_cutoff` is the one the model's author chose.
    """

    def __init__(self, spec: str = DEFAULT, *, probe: bool = True, sensitivity: wake.Sensitivity | None = None) -> None:
        if not available():
            raise missing_error()
        from pymicro_wakeword import MicroWakeWordFeatures

        path = _config_path(spec)
        builtin = path.parent == _builtin_dir()
        config = _manifest(path)
        model_file = path.parent / config["model"]
        _check_model_file(model_file)
        if probe and not builtin:
            _probe(path)
        self._model: Any = _load(path, config, model_file)
        self.phrase = str(config.get("wake_word") or path.stem.replace("_", " "))
        self.model_cutoff = float(config["micro"]["probability_cutoff"])
        self.cutoff = wake.cutoff(sensitivity, self.model_cutoff)
        self._model.probability_cutoff = self.cutoff  # the package fires above it (strictly)
        self._features = MicroWakeWordFeatures()

    def feed(self, pcm: np.ndarray) -> bool:
        woke = False
        for features in self._features.process_streaming(np.asarray(pcm, dtype="<i2").tobytes()):
            if self._model.process_streaming(features):
                woke = True
        return woke

    def probability(self, pcm: np.ndarray) -> float:
        """The highest detection probability over these samples (how clearly the wake word was heard)."""
        trace = self.trace(pcm)
        return float(trace.max()) if trace.size else 0.0

    def trace(self, pcm: np.ndarray) -> np.ndarray:
        """The detection probability after each 10 ms feature window of these samples (0 between model steps).

        What :meth:`feed` compares with :attr:`cutoff`; for the microphone
        check and the benchmarks, which score one take against any cutoff.
        """
        data = np.asarray(pcm, dtype="<i2").tobytes()
        probs = [float(self._model.process_streaming_prob(f) or 0.0) for f in self._features.process_streaming(data)]
        return np.asarray(probs, dtype=np.float32)

    def reset(self) -> None:
        self._model.reset()
        self._features.reset()


def _cannot(path: Path, why: str) -> VoicecoachError:
    return VoicecoachError(f"cannot load the wake word model {str(path)!r}: {why}")


def _read_regular(path: Path, limit: int, head: int) -> bytes:
    """The first ``head`` bytes of ``path``, a regular file of at most ``limit`` bytes (raises VoicecoachError).

    Opened without blocking and checked on the open descriptor: a FIFO, a
    device such as /dev/zero or a folder is refused before a byte is read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _cannot(path, exc.strerror or str(exc)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _cannot(path, "it is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise _cannot(path, "it is not a regular file")
        if st.st_size == 0:
            raise _cannot(path, "the file is empty")
        if st.st_size > limit:
            raise _cannot(path, f"the file is {st.st_size:,} bytes, more than the {limit:,} a model can have")
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(head)
    except OSError as exc:
        raise _cannot(path, exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def _number(value: object, low: float, high: float) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


def _manifest(path: Path) -> dict[str, Any]:
    """The model's .json, checked: the model file it names and the numbers the detector uses."""
    data = _read_regular(path, MAX_MANIFEST_BYTES, MAX_MANIFEST_BYTES)
    try:
        config: dict[str, Any] = json.loads(data.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError too
        raise _cannot(path, f"not a microWakeWord model file (.json): {exc}") from None
    micro = config.get("micro") if isinstance(config, dict) else None
    if not isinstance(micro, dict):
        raise _cannot(path, 'not a microWakeWord model file (.json): no "micro" settings')
    if not isinstance(config.get("model"), str) or not config["model"].strip():
        raise _cannot(path, 'no "model" file (.tflite) named in it')
    if not isinstance(config.get("wake_word", ""), str):
        raise _cannot(path, '"wake_word" is not text')
    cutoff, window = micro.get("probability_cutoff"), micro.get("sliding_window_size")
    if not _number(cutoff, 0.0, 1.0) or cutoff == 0:
        raise _cannot(path, f'"probability_cutoff" must be a number above 0 and at most 1, not {cutoff!r}')
    if not _number(window, 1, 1000) or not isinstance(window, int):
        raise _cannot(path, f'"sliding_window_size" must be a whole number from 1 to 1000, not {window!r}')
    return config


def _check_model_file(path: Path) -> None:
    """A regular file of a sane size that starts as a TensorFlow Lite FlatBuffer does."""
    head = _read_regular(path, MAX_MODEL_BYTES, 8)
    if len(head) < 8 or head[4:8] != _TFLITE_ID:
        raise _cannot(path, "it is not a TensorFlow Lite model (.tflite)")


def _load(path: Path, config: dict[str, Any], model_file: Path) -> Any:
    """The model, loaded in this process with every native call's result checked."""
    from voicecoach.control.voice.tflite import CheckedModel, library

    lib = library()
    if lib is None:
        raise missing_error()
    micro = config["micro"]
    try:
        return CheckedModel(
            model_file.stem,
            wake_word=str(config.get("wake_word") or model_file.stem),
            tflite_model=model_file,
            probability_cutoff=float(micro["probability_cutoff"]),
            sliding_window_size=int(micro["sliding_window_size"]),
            trained_languages=[],
            libtensorflowlite_c_path=lib,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        raise _cannot(model_file, str(exc)) from exc


# The child: the package root first on its path (voicecoach may not be installed), then the same load.
_PROBE = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from voicecoach.control.voice.micro import _probe_child; sys.exit(_probe_child(sys.argv[2]))"
)


def _probe(config: Path) -> None:
    """Load the model and run it on a second of silence in a child process first.

    TensorFlow Lite is not made to take files it cannot trust: a model that
    passes every check here can still crash it. In a child, that crash is a
    signal we read, not the end of voicecoach. Costs one Python start (about
    0.3 s), only for a model a user names. The child's own messages are shown
    only with --debug.
    """
    root = str(Path(__file__).resolve().parents[3])
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, root, str(config)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},  # the message comes back as UTF-8 whatever the locale
        )
    except subprocess.TimeoutExpired:
        raise _cannot(config, f"loading it took more than {PROBE_TIMEOUT_S:g} s") from None
    except OSError:
        return  # no child process here: the checked load in this process is all there is
    if quiet.verbose():
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
    if done.returncode == 0:
        return
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        raise _cannot(config, f"TensorFlow Lite crashed on it ({name})")
    said = done.stdout.decode("utf-8", "replace").strip().splitlines()
    raise VoicecoachError(said[-1] if said else f"cannot load the wake word model {str(config)!r}")


def _probe_child(config: str) -> int:
    """In the child: load the model here (no probe) and run it on one second of silence; 0 when it works."""
    try:
        detector = MicroWakeWordDetector(config, probe=False)
        detector.feed(np.zeros(16000, dtype=np.int16))
    except VoicecoachError as exc:
        print(exc.message)
        return 3
    return 0
