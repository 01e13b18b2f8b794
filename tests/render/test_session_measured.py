"""Export's preparation: every phrase made in the background, in the order heard, then the session's level.

A fake voice (tones, a few milliseconds a phrase, deterministic) stands in for
the engine: no audio device, no espeak. The gain must be exactly the one
measured over the finished session through the true-peak limiter (so a cold
export is byte for byte a warm one). The first of the level's passes (the raw
mix's loudness) is measured while the voice works, on the part of the session
that is final (``RawMeter``); the passes through the limiter follow.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from voicecoach import programs
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.render import loudness, mix
from voicecoach.render.level import MEASURE_BLOCK_FRAMES, RawMeter, cached_gain, session_gain
from voicecoach.render.prepare import Prepared, prepare_measured
from voicecoach.speech.engine import ResolvedVoice
from voicecoach.speech.speaker import Speaker, SpeechSettings

PLAN = programs.load("medial-knee")


def fake_voice(delay_s: float) -> ResolvedVoice:
    """A tone per phrase, its pitch and length from the text, at 22050 Hz like espeak-ng and piper."""

    def synthesize(text: str) -> tuple[np.ndarray, int]:
        time.sleep(delay_s)
        n = int(22050 * (0.2 + 0.06 * len(text)))
        t = np.arange(n) / 22050
        return (0.5 * np.sin(2 * np.pi * (150 + 7 * (len(text) % 40)) * t)).astype(np.float32), 22050

    return ResolvedVoice(key=("fake", 1), label="fake voice", synthesize=synthesize, workers=2)


@pytest.mark.parametrize("earcons", [True, False], ids=["earcons", "speech-only"])
def test_gain_after_synthesizing_is_the_whole_sessions_to_the_last_bit(tmp_path, earcons):
    speaker = Speaker(SpeechSettings(engine="system"), tmp_path / "cold", voice=fake_voice(0.08))
    done: list[tuple[int, int]] = []
    prepared, gain = prepare_measured(
        PLAN,
        Options(),
        SpeechSettings(engine="system"),
        earcons=earcons,
        speaker=speaker,
        progress=lambda d, n: done.append((d, n)),
    )
    assert prepared.complete and prepared.ahead is None
    assert done[-1][0] == done[-1][1] and [d for d, _ in done] == sorted(d for d, _ in done)
    # The same session measured in one pass over the finished mix, from scratch.
    whole = Prepared(PLAN, Options(), build_timeline(PLAN, Options(), speaker.length_s), speaker)
    assert prepared.timeline == whole.timeline
    assert cached_gain(whole, earcons=earcons) == gain  # cached for play and the next export
    for level in (tmp_path / "cold").glob("*.level"):
        level.unlink()
    assert session_gain(whole, earcons=earcons) == gain


def test_a_warm_cache_measures_nothing(tmp_path):
    settings = SpeechSettings(engine="system")
    _, cold_gain = prepare_measured(PLAN, Options(), settings, speaker=Speaker(settings, tmp_path, voice=fake_voice(0)))
    warm = Speaker(settings, tmp_path, voice=fake_voice(0))
    prepared, gain = prepare_measured(PLAN, Options(), settings, speaker=warm)
    assert warm.synthesized == 0 and gain == cold_gain
    assert prepared.timeline == build_timeline(PLAN, Options(), warm.length_s)


@pytest.mark.parametrize(
    "steps",
    [(), (0.1,), (0.05, 0.37, 0.8), (0.3, 0.3, 0.95, 1.0)],
    ids=["all-at-the-end", "one-step", "three-steps", "repeated-and-whole"],
)
def test_raw_meter_in_steps_is_the_first_pass_to_the_last_bit(tmp_path, steps):
    settings = SpeechSettings(engine="system")
    speaker = Speaker(settings, tmp_path, voice=fake_voice(0))
    timeline = build_timeline(PLAN, Options(), speaker.length_s)
    whole = Prepared(PLAN, Options(), timeline, speaker)
    raw = RawMeter()
    for share in steps:  # the session final up to there (later phrases would still be on their way)
        raw.feed(timeline, whole.clips, share * timeline.duration_s)
        assert raw.measured % MEASURE_BLOCK_FRAMES == 0
    if steps:
        assert raw.measured > 0
    want = loudness.measure(mix.blocks(timeline, whole.clips, block_frames=MEASURE_BLOCK_FRAMES, limit=False))
    assert raw.finish(timeline, whole.clips) == want.integrated_lufs


@pytest.mark.audio
@pytest.mark.parametrize("program", ["inner-knee", "medial-knee"])
def test_a_cold_live_session_starts_near_the_measured_level(program):
    """The first session on an empty cache plays at an estimate from its first words; the export's level is
    measured on all of them. The limiter makes both the same kind of gain: they must agree within 3 dB
    (they were 9-11 dB apart when the estimate still capped the gain at a full-scale peak)."""
    import math

    from voicecoach.core import phrases
    from voicecoach.render.prepare import live_gain, start_live

    plan, options = programs.load(program), Options()
    settings = SpeechSettings(engine="system")
    live = start_live(plan, options, settings, first=[phrases.KEYS_HINT])
    try:
        estimate = live_gain(live, [phrases.KEYS_HINT])
        assert live.ahead is not None
        live.ahead.wait([t for part in live.parts for t in part.texts])
    finally:
        assert live.ahead is not None
        live.ahead.close()
    whole = Prepared(plan, options, build_timeline(plan, options, live.speaker.length_s), live.speaker)
    measured = session_gain(whole)
    assert abs(20 * math.log10(estimate / measured)) < 3.0, (estimate, measured)
