"""The real voice engines (microWakeWord, pocketsphinx) on generated speech, without a sound server.

The speaker is the Piper voice, made deterministic and shifted in pitch and
pace (helpers/speakers.py) to voices the recognizer's settings were not
chosen on; the audio goes into :class:`VoiceLogic` in the microphone's 80 ms
chunks, as the listening thread feeds it.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.speakers import piper_available, say

from voicecoach.control.voice import RATE, VOCABULARY
from voicecoach.control.voice.listener import CHUNK, VoiceLogic

pytestmark = pytest.mark.audio

SPEAKERS = [(1.08, 0.92), (0.9, 1.08)]


@pytest.fixture(scope="module")
def engines():
    pytest.importorskip("pymicro_wakeword", reason="the listen extra (./scripts/test installs it)")
    pytest.importorskip("pocketsphinx", reason="the listen extra (./scripts/test installs it)")
    pytest.importorskip("webrtc_noise_gain", reason="the listen extra (./scripts/test installs it)")
    if not piper_available():
        pytest.skip("the generated speaker is the Piper voice (the neural extra; ./scripts/test installs it)")
    from voicecoach.control.voice.micro import MicroWakeWordDetector
    from voicecoach.control.voice.sphinx import SphinxCommands

    return MicroWakeWordDetector, SphinxCommands


def _listen(engines, pcm: np.ndarray) -> list[tuple[str, int]]:
    """The commands heard, each with the sample at which it was handed over."""
    from voicecoach.control.voice import noise

    detector, recognizer = engines
    stages = noise.stages()  # as voicecoach play --listen builds it
    logic = VoiceLogic(
        detector(), recognizer(), cleaners=stages.cleaners, recognizer_cleaners=stages.recognizer_cleaners
    )
    got = []
    for i in range(0, len(pcm), CHUNK):
        command = logic.feed(pcm[i : i + CHUNK], (i + CHUNK) / RATE)
        if command is not None:
            got.append((command.action, i + CHUNK))
    return got


def _take(text: str, pitch: float, pace: float) -> tuple[np.ndarray, int]:
    """Half a second of silence, the words (at -12 dBFS peak), 3 s of silence; and where the words end."""
    words = (say(text, pitch=pitch, pace=pace) // 2).astype(np.int16)
    lead = np.zeros(RATE // 2, np.int16)
    return np.concatenate([lead, words, np.zeros(3 * RATE, np.int16)]), len(lead) + len(words)


@pytest.mark.parametrize(("pitch", "pace"), SPEAKERS, ids=["higher-slower", "lower-faster"])
@pytest.mark.parametrize("words", list(VOCABULARY), ids=list(VOCABULARY))
def test_every_command_is_obeyed_once(engines, words, pitch, pace):
    pcm, _ = _take(f"Hey Jarvis, {words}.", pitch, pace)
    assert [action for action, _ in _listen(engines, pcm)] == [VOCABULARY[words]]


@pytest.mark.parametrize(("pitch", "pace"), SPEAKERS, ids=["higher-slower", "lower-faster"])
def test_a_clear_command_is_taken_after_a_short_pause(engines, pitch, pace):
    """The early decision: handed over well before the full end-of-command silence has passed."""
    _, recognizer = engines
    pcm, end = _take("Hey Jarvis, next.", pitch, pace)
    [(action, at)] = _listen(engines, pcm)
    assert action == "next"
    assert at - end < (recognizer.end_silence_s + CHUNK / RATE) * RATE, (at - end) / RATE


def test_the_wake_word_alone_does_nothing(engines):
    pcm, _ = _take("Hey Jarvis.", 1.0, 1.0)
    assert _listen(engines, pcm) == []


def test_speech_that_is_not_a_command_is_not_obeyed(engines):
    pcm, _ = _take("Hey Jarvis, what a lovely morning for a walk.", 1.0, 1.0)
    assert [action for action, _ in _listen(engines, pcm)] in ([], ["unknown"])


@pytest.mark.parametrize("gap_s", [0.5, 1.0], ids=["half-second", "one-second"])
def test_a_pause_after_the_wake_word_still_hears_the_command(engines, gap_s):
    """People stop after "hey jarvis", waiting to be heard: the command that follows still counts."""
    wake, _ = _take("Hey Jarvis.", 1.08, 0.92)
    command = (say("Pause.", pitch=1.08, pace=0.92) // 2).astype(np.int16)
    pcm = np.concatenate(
        [wake[: -3 * RATE], np.zeros(int(gap_s * RATE), np.int16), command, np.zeros(3 * RATE, np.int16)]
    )
    assert [action for action, _ in _listen(engines, pcm)] == ["pause"]


def _pink(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    spectrum *= np.where(f >= 60, 1 / np.sqrt(np.maximum(f, 60.0)), 0.0)
    z = np.fft.irfft(spectrum, n)
    return (z / np.sqrt(np.mean(z**2)) * 1000).astype(np.int16)  # about -30 dBFS


def test_the_noise_stage_keeps_the_length_of_any_chunk_and_lowers_a_steady_noise():
    pytest.importorskip("webrtc_noise_gain", reason="the listen extra (./scripts/test installs it)")
    from voicecoach.control.voice.noise import NoiseCleaner

    cleaner = NoiseCleaner(auto_gain_dbfs=0)  # the suppressor alone: the gain would lift the rest again
    noise = _pink(4 * RATE)
    sizes = [1000, 320, 1280, 7, 4000]  # odd sizes too: what is left of a 10 ms frame waits for the next chunk
    out, i, k = [], 0, 0
    while i < len(noise):
        part = noise[i : i + sizes[k % len(sizes)]]
        cleaned = cleaner.process(part, 0.0)
        assert len(cleaned) == len(part) and cleaned.dtype == np.int16
        out.append(cleaned)
        i, k = i + len(part), k + 1
    last = np.concatenate(out)[-RATE:].astype(np.float64)
    before = noise[-RATE:].astype(np.float64)
    assert 20 * np.log10(np.sqrt(np.mean(last**2)) / np.sqrt(np.mean(before**2))) < -6.0


def test_without_the_noise_library_voice_control_is_off_in_one_line(monkeypatch):
    pytest.importorskip("pymicro_wakeword", reason="the listen extra (./scripts/test installs it)")
    pytest.importorskip("pocketsphinx", reason="the listen extra (./scripts/test installs it)")
    import sys

    from voicecoach.control.voice import noise
    from voicecoach.live import launch

    monkeypatch.setitem(sys.modules, "webrtc_noise_gain", None)  # as if the package or its library were missing
    with pytest.raises(noise.NoiseSuppressionMissing) as missing:
        noise.NoiseCleaner()
    assert "webrtc-noise-gain" in missing.value.message and "pip install" in (missing.value.hint or "")
    ears, line = launch._voice_logic(None)
    assert ears is None and line is not None
    assert line.startswith("Voice control is off: noise suppression (webrtc-noise-gain) cannot be loaded")
    assert "\n" not in line and "pip install 'voicecoach[listen]'" in line
