"""Synthesizing ahead (speech.ahead) with a fake engine: order, priorities, errors, one thread in the background."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from voicecoach.errors import VoicecoachError
from voicecoach.speech.ahead import Ahead
from voicecoach.speech.engine import ResolvedVoice
from voicecoach.speech.speaker import Speaker, SpeechSettings


class FakeEngine:
    """A tone per phrase, after ``delay_s``; notes what it said, from which thread, and fails on ``bad``."""

    def __init__(self, delay_s: float = 0.0, workers: int = 1, bad: str | None = None) -> None:
        self.delay_s, self.bad = delay_s, bad
        self.said: list[tuple[str, int]] = []
        self.voice = ResolvedVoice(key=("fake",), label="fake", synthesize=self.synthesize, workers=workers)

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        time.sleep(self.delay_s)
        if text == self.bad:
            raise VoicecoachError(f"The fake voice failed on {text!r}.")
        self.said.append((text, threading.get_ident()))
        return np.full(2205 + 100 * len(text), 0.3, np.float32), 22050


def speaker(tmp_path, engine: FakeEngine) -> Speaker:
    return Speaker(SpeechSettings(engine="system"), tmp_path, voice=engine.voice)


TEXTS = [f"Phrase number {i}." for i in range(12)]


def test_phrases_are_made_in_order_and_their_lengths_become_known(tmp_path):
    engine = FakeEngine()
    sp = speaker(tmp_path, engine)
    with Ahead(sp, TEXTS).start() as ahead:
        assert ahead.wait(TEXTS, timeout_s=10)
    assert [t for t, _ in engine.said] == TEXTS
    assert all(sp.known_length(t) == pytest.approx((4410 + 200 * len(t)) / 44100) for t in TEXTS)
    assert sp.synthesized == len(TEXTS)


def test_prioritized_phrases_come_next(tmp_path):
    engine = FakeEngine(delay_s=0.02)
    with Ahead(speaker(tmp_path, engine), TEXTS).start() as ahead:
        ahead.prioritize([TEXTS[10], TEXTS[11]])
        assert ahead.wait(TEXTS, timeout_s=10)
    said = [t for t, _ in engine.said]
    assert said.index(TEXTS[10]) < said.index(TEXTS[3])  # jumped ahead of the queue
    assert sorted(said) == sorted(TEXTS)


def test_a_failing_voice_is_reported_to_whoever_waits(tmp_path):
    engine = FakeEngine(bad=TEXTS[2])
    with (
        Ahead(speaker(tmp_path, engine), TEXTS).start() as ahead,
        pytest.raises(VoicecoachError, match="failed on 'Phrase number 2.'"),
    ):
        ahead.wait(TEXTS, timeout_s=10)


def test_in_the_background_one_thread_makes_what_follows_the_urgent_phrases(tmp_path):
    engine = FakeEngine(delay_s=0.05, workers=2)
    idle = threading.Event()
    with Ahead(speaker(tmp_path, engine), TEXTS, urgent=2, background=True, on_idle=idle.set).start() as ahead:
        assert ahead.wait(TEXTS, timeout_s=10)
        assert idle.wait(5)  # run once everything is made (a live session measures its level then)
    later = {name for text, name in engine.said if text in TEXTS[3:]}
    assert len({name for _, name in engine.said[:2]}) == 2  # the urgent phrases: two at once
    assert len(later) == 1


def test_a_phrase_asked_for_twice_at_once_is_made_once(tmp_path):
    engine = FakeEngine(delay_s=0.1)
    sp = speaker(tmp_path, engine)
    clips = []
    threads = [threading.Thread(target=lambda: clips.append(sp.clip("Hold."))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sp.synthesized == 1 and len(engine.said) == 1
    assert all(np.array_equal(c.samples, clips[0].samples) for c in clips)


def test_close_stops_making_phrases(tmp_path):
    engine = FakeEngine(delay_s=0.05)
    ahead = Ahead(speaker(tmp_path, engine), TEXTS).start()
    time.sleep(0.08)
    ahead.close()
    made = len(engine.said)
    time.sleep(0.15)
    assert len(engine.said) == made < len(TEXTS)
    assert ahead.finished
