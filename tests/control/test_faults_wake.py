"""Fault injection, the wake word model: a custom model that cannot be used is one clear line, never a crash.

TensorFlow Lite's C library takes the process down (SIGSEGV) on a file it
cannot read. Every kind of unusable model named by a microWakeWord .json
goes through the real ``play`` command, with no sound server: the answer
must be ``cannot load the wake word model ...`` and exit 1 before any
session starts, with none of the library's own ``ERROR:`` lines.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach.control.voice import micro

pytestmark = pytest.mark.skipif(not micro.available(), reason="the listen extra (./scripts/test installs it)")


def _shipped() -> tuple[dict, bytes]:
    import pymicro_wakeword

    models = Path(pymicro_wakeword.__file__).parent / "models"
    return json.loads((models / "hey_jarvis.json").read_text()), (models / "hey_jarvis.tflite").read_bytes()


def _manifest(tmp_path: Path, model: str, **micro_settings) -> Path:
    config, _ = _shipped()
    config["model"] = model
    config["micro"].update(micro_settings)
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(config))
    return path


def _model(tmp_path: Path, kind: str) -> str:
    """A .tflite of one unusable kind beside the manifest; its name in the manifest."""
    _, real = _shipped()
    target = tmp_path / "custom.tflite"
    rng = random.Random(kind)
    if kind == "random-4k":
        target.write_bytes(rng.randbytes(4096))
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "folder":
        target.mkdir()
    elif kind == "dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "huge":
        with open(target, "wb") as f:
            f.truncate(2 * 1024**3)  # sparse: 2 GB that take no disk
    elif kind == "tflite-header-then-garbage":
        target.write_bytes(real[:8] + rng.randbytes(4096))
    elif kind == "truncated":
        target.write_bytes(real[: len(real) // 2])
    elif kind == "missing":
        pass
    return target.name


def _play(manifest: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PULSE_SERVER=str(tmp_path / "no-such-server"))  # no sound server: it must not matter
    return subprocess.run(
        [sys.executable, "-m", "voicecoach", "play", "--no-mpris", "--no-check-in", "--wake-word", str(manifest)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


KINDS = [
    "random-4k",
    "empty",
    "folder",
    "dev-zero",
    "fifo",
    "huge",
    "tflite-header-then-garbage",
    "truncated",
    "missing",
]


@pytest.mark.parametrize("kind", KINDS)
def test_an_unusable_model_is_one_line_and_exit_1(tmp_path, kind):
    out = _play(_manifest(tmp_path, _model(tmp_path, kind)), tmp_path)
    assert out.returncode == 1, (out.returncode, out.stderr)
    [line] = out.stderr.splitlines()
    assert line.startswith("voicecoach: error: cannot load the wake word model "), line
    assert out.stdout == ""


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"probability_cutoff": "high"}, '"probability_cutoff" must be a number above 0 and at most 1'),
        ({"probability_cutoff": float("nan")}, '"probability_cutoff" must be a number above 0 and at most 1'),
        ({"sliding_window_size": -1}, '"sliding_window_size" must be a whole number from 1 to 1000'),
        ({"sliding_window_size": 2.5}, '"sliding_window_size" must be a whole number from 1 to 1000'),
    ],
    ids=["cutoff-text", "cutoff-nan", "window-negative", "window-fraction"],
)
def test_bad_numbers_in_the_manifest(tmp_path, settings, says):
    _, real = _shipped()
    (tmp_path / "custom.tflite").write_bytes(real)
    with pytest.raises(micro.VoicecoachError, match="cannot load the wake word model") as caught:
        micro.MicroWakeWordDetector(str(_manifest(tmp_path, "custom.tflite", **settings)))
    assert says in caught.value.message


def test_a_good_copy_of_a_shipped_model_loads_and_listens(tmp_path):
    _, real = _shipped()
    (tmp_path / "custom.tflite").write_bytes(real)
    detector = micro.MicroWakeWordDetector(str(_manifest(tmp_path, "custom.tflite")))
    assert detector.phrase == "Hey Jarvis"
    assert detector.feed(micro.np.zeros(16000, dtype=micro.np.int16)) is False


def test_a_crash_in_the_probe_is_a_clear_error_not_the_end(tmp_path, monkeypatch):
    """A model that passes every check and still kills TensorFlow Lite kills only the child."""
    _, real = _shipped()
    (tmp_path / "custom.tflite").write_bytes(real)
    monkeypatch.setattr(micro, "_PROBE", f"import os; os.kill(os.getpid(), {int(signal.SIGSEGV)})")
    with pytest.raises(micro.VoicecoachError) as caught:
        micro.MicroWakeWordDetector(str(_manifest(tmp_path, "custom.tflite")))
    assert caught.value.message.endswith("TensorFlow Lite crashed on it (SIGSEGV)")


@pytest.mark.parametrize("seed", range(12))
def test_damaged_real_models_never_crash_the_checked_load(tmp_path, seed):
    """Bytes changed inside a real model: the in-process load (no probe) raises or works, never crashes."""
    _, real = _shipped()
    rng = random.Random(seed)
    damaged = bytearray(real)
    for _ in range(rng.choice([1, 4, 32])):
        damaged[rng.randrange(8, len(damaged))] = rng.randrange(256)
    (tmp_path / "custom.tflite").write_bytes(bytes(damaged))
    manifest = _manifest(tmp_path, "custom.tflite")
    code = (
        "import sys, numpy as np\n"
        "from voicecoach.control.voice.micro import MicroWakeWordDetector, VoicecoachError\n"
        "try:\n"
        "    MicroWakeWordDetector(sys.argv[1], probe=False).feed(np.zeros(16000, dtype=np.int16))\n"
        "except VoicecoachError:\n"
        "    sys.exit(3)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(manifest)], capture_output=True, text=True, timeout=60)
    assert out.returncode in (0, 3), (out.returncode, out.stderr[-500:])
