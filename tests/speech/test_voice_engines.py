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
    if not piper_available():
        pytest.skip("the generated speaker is the Piper voice (the neural extra; ./scripts/test installs it)")
    from voicecoach.control.voice.micro import MicroWakeWordDetector
    from voicecoach.control.voice.sphinx import SphinxCommands

    return MicroWakeWordDetector, SphinxCommands


def _listen(engines, pcm: np.ndarray) -> list[tuple[str, int]]:
    """The commands heard, each with the sample at which it was handed over."""
    detector, recognizer = engines
    logic = VoiceLogic(detector(), recognizer())
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
