"""The microphone check's judgement (control/voice/check.py): pure."""

from __future__ import annotations

import numpy as np
import pytest

from voicecoach.control.voice import RATE, check

RNG = np.random.default_rng(3)


def noise(seconds: float, dbfs: float) -> np.ndarray:
    """White noise whose RMS is ``dbfs``."""
    x = RNG.standard_normal(int(seconds * RATE))
    return np.clip(x * 32768 * 10 ** (dbfs / 20), -32768, 32767).astype(np.int16)


def tone(seconds: float, dbfs: float, hz: float = 300.0) -> np.ndarray:
    """A sine whose RMS is ``dbfs`` (peak 3 dB higher)."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * hz * t) * 32768 * 10 ** (dbfs / 20) * np.sqrt(2)).astype(np.int16)


# -- levels -------------------------------------------------------------------------------


def test_levels_in_dbfs():
    assert check.noise_floor(noise(2, -60)) == pytest.approx(-60, abs=0.5)
    assert check.noise_floor(np.zeros(RATE, np.int16)) == check.SILENCE_DBFS
    assert check.noise_floor(np.zeros(10, np.int16)) == check.SILENCE_DBFS  # under one frame
    assert check.peak_dbfs(tone(0.5, -20)) == pytest.approx(-17, abs=0.2)


def test_the_noise_floor_ignores_a_cough():
    quiet = noise(3, -62)
    quiet[RATE : RATE + RATE // 5] = tone(0.2, -15)  # a cough: 200 ms of 3 s
    assert check.noise_floor(quiet) == pytest.approx(-62, abs=1)


def test_speech_level_is_the_loud_frames_only():
    take = np.concatenate([noise(1, -60), tone(0.8, -30) + noise(0.8, -60), noise(1, -60)])
    heard = check.speech(take, -60)
    assert heard.level_dbfs == pytest.approx(-30, abs=0.5)
    assert heard.seconds == pytest.approx(0.8, abs=0.05)
    assert check.speech(noise(2, -60), -60).level_dbfs is None
    click = noise(1, -60)
    click[100:400] = 20000  # one frame: not a word
    assert check.speech(click, -60).level_dbfs is None


def test_end_of_speech_waits_for_speech_then_its_end():
    end = check.EndOfSpeech(-60, after_s=0.5)
    assert not end.feed(noise(2, -60))  # nothing said yet: never done
    assert not end.heard
    assert not end.feed(tone(0.6, -25))
    assert end.heard and not end.done
    assert not end.feed(noise(0.3, -60))
    assert end.feed(noise(0.3, -60))  # 0.6 s of quiet after it
    # fed in odd-sized blocks, the same
    end = check.EndOfSpeech(-60, after_s=0.5)
    audio = np.concatenate([tone(0.6, -25), noise(0.7, -60)])
    done = [end.feed(audio[i : i + 333]) for i in range(0, len(audio), 333)]
    assert done[-1] and not done[0]


# -- verdicts ----------------------------------------------------------------------------


def test_take_words():
    assert check.take_word(0.99, 0.94) == "clear"
    assert check.take_word(0.95, 0.94) == "just"
    assert check.take_word(0.94, 0.94) == "missed"  # the detector fires strictly above its cutoff
    assert check.take_word(0.3, 0.94) == "missed"


def speech_at(level: float | None, peak: float = -10.0) -> check.Speech:
    return check.Speech(level, peak, 0.8 if level is not None else 0.0)


def test_a_good_room_has_no_warnings():
    assert check.room_warnings(-62, [speech_at(-30), speech_at(-28), speech_at(-32)]) == []


@pytest.mark.parametrize(
    ("floor", "levels", "peak", "keys"),
    [
        (-40, [-33, -32, -31], -20, ["noisy"]),  # 8 dB above the noise
        (-70, [-50, -52, -49], -40, ["quiet"]),
        (-45, [-50, -52, -49], -40, ["noisy", "quiet"]),
        (-70, [-20, -19, -21], 0.0, ["clipping"]),
        (-60, [None, None, None], -50, ["silent"]),
    ],
)
def test_warnings(floor, levels, peak, keys):
    found = check.room_warnings(floor, [speech_at(v, peak) for v in levels])
    assert [w.key for w in found] == keys
    assert all(w.text and w.spoken and "\n" not in w.text for w in found)


def test_the_noise_margin_uses_the_median_take():
    # one loud take does not hide two drowned ones
    assert [w.key for w in check.room_warnings(-40, [speech_at(-10), speech_at(-35), speech_at(-34)])] == ["noisy"]


def test_room_words():
    assert check.room_words(-70) == "quiet"
    assert check.room_words(-50) == "some noise"
    assert check.room_words(-40) == "noisy"
    assert check.room_words(-60, -30) == "quiet"
    assert check.room_words(-45, -30) == "some noise"
    assert check.room_words(-35, -30) == "too noisy"


def test_proposal_lowers_the_cutoff_just_enough():
    p = check.propose([0.93, 0.96, 0.95], model_cutoff=0.97, cutoff=0.94, floor=0.9)
    assert p.value == 0.9 and p.status == "lower"  # 0.93 - 0.03, rounded down to two places
    assert "0.93 to 0.96" in p.reason


def test_no_proposal_when_the_level_in_use_already_works():
    p = check.propose([0.985, 0.99], model_cutoff=0.97, cutoff=0.94, floor=0.9)
    assert p.value is None and p.status == "keep" and "clearly" in p.reason
    assert check.propose([1.0, 1.0], model_cutoff=0.97, cutoff=0.94, floor=0.9).value is None  # never stricter


def test_no_proposal_under_the_safe_floor_or_without_takes():
    p = check.propose([0.5, 0.9], model_cutoff=0.97, cutoff=0.94, floor=0.9)
    assert p.value is None and p.status == "none" and "0.50" in p.reason
    assert check.propose([], 0.97, 0.94, 0.9).value is None
    # a custom model (no measured floor): never under the cutoff in use
    assert check.propose([0.9], 0.97, 0.94, None).value is None


def test_suggest_another_word_only_when_it_does_better():
    scores = {"hey jarvis": ([0.6, 0.9], 0.94), "okay nabu": ([0.95, 0.99], 0.7), "alexa": ([0.99, 0.85], 0.8)}
    assert check.suggest_word("hey jarvis", scores) == "okay nabu"  # margin 0.25 beats alexa's 0.05
    scores["hey jarvis"] = ([0.99, 1.0], 0.7)
    assert check.suggest_word("hey jarvis", scores) is None  # the chosen one does as well
    assert check.suggest_word("hey jarvis", {"hey jarvis": ([0.5], 0.94), "alexa": ([0.7], 0.8)}) is None
    assert check.suggest_word("hey jarvis", {"hey jarvis": ([0.5], 0.94), "alexa": ([], 0.8)}) is None


def test_weak():
    assert check.weak([0.99, 0.99], 0.94) is False
    assert check.weak([0.99, 0.95], 0.94) is True  # only just
    assert check.weak([0.99, 0.5], 0.94) is True
    assert check.weak([], 0.94) is True


def test_a_voice_5_db_over_a_steady_noise_is_still_speech():
    floor = check.noise_floor(noise(3, -50))
    take = np.concatenate([noise(1, -50), tone(0.8, -45) + noise(0.8, -50), noise(1, -50)])
    heard = check.speech(take, floor)
    assert heard.level_dbfs == pytest.approx(-45, abs=1.0)  # the voice alone, the noise's power taken out
    assert [w.key for w in check.room_warnings(floor, [heard])] == ["noisy"]
