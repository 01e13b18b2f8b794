"""The true-peak limiter: no peak over the ceiling, nothing moved, the same samples however it is streamed."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.fakes import tone
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from voicecoach.core.timeline import Cue, Timeline
from voicecoach.render import limiter, loudness, mix
from voicecoach.speech.clip import MIX_RATE_HZ as RATE
from voicecoach.speech.clip import Clip


def true_peak_db(x: np.ndarray) -> float:
    """BS.1770-4 Annex 2 style: the largest sample of a 4x oversampled signal, in dBTP."""
    return float(20 * np.log10(np.abs(signal.resample_poly(x.astype(np.float64), 4, 1)).max()))


def loud_session() -> tuple[Timeline, dict[str, Clip]]:
    """Speech-like bursts (a 20 dB crest, as the system voice has), overlapping, plus earcons over them."""
    rng = np.random.default_rng(7)
    # Band-limited like the voices (synthesized at 22.05 kHz): nothing above 11 kHz.
    noise = signal.sosfilt(signal.butter(8, 10000, fs=RATE, output="sos"), rng.standard_normal(int(0.8 * RATE)))
    envelope = np.abs(np.sin(np.linspace(0, 9 * np.pi, noise.size))) ** 3
    bursts = np.zeros_like(noise)
    for at in rng.integers(0, noise.size - 40, 3):  # sparse, loud consonant-like peaks
        bursts[at : at + 40] = 0.8 * np.sin(2 * np.pi * 4000 * np.arange(40) / RATE) * np.hanning(40)
    clips = {
        "speech": Clip(np.clip(0.06 * noise * envelope + bursts, -1, 1).astype(np.float32)),
        "tone": tone(3100, 0.5, amp=0.02),
    }
    cues = [Cue(i * 0.6, i * 0.6 + 0.8, "rep", "speech", earcon="tick" if i % 3 == 0 else None) for i in range(12)]
    cues += [Cue(2.05, 2.55, "rep", "tone"), Cue(5.3, 5.8, "rep", "tone")]
    return Timeline("loud", 8.0, tuple(sorted(cues, key=lambda c: c.start_s))), clips


@pytest.mark.parametrize("gain", [1.0, 4.0, 12.0], ids=["unity", "x4", "x12"])
def test_no_true_peak_over_the_ceiling(gain):
    tl, clips = loud_session()
    out = np.concatenate(list(mix.blocks(tl, clips, gain=gain)))
    raw = np.concatenate(list(mix.blocks(tl, clips, gain=gain, limit=False)))
    assert true_peak_db(out) <= limiter.CEILING_DBTP + 0.1  # 0.1 dB: resample_poly is not our interpolator
    if gain > 1:
        assert true_peak_db(raw) > 0  # the raw mix really went over: the limiter did the work


def test_quiet_mix_is_untouched_sample_for_sample():
    tl, clips = loud_session()
    out = np.concatenate(list(mix.blocks(tl, clips, gain=0.3)))
    raw = np.concatenate(list(mix.blocks(tl, clips, gain=0.3, limit=False)))
    assert np.array_equal(out, raw)


def test_nothing_moves_the_gain_only_falls_around_peaks():
    """Look-ahead, not delay: a click stays on its frame; away from it the gain is exactly 1."""
    x = np.zeros(3 * RATE, np.float32)
    x[RATE] = 3.0  # one peak far over the ceiling
    x[2 * RATE : 2 * RATE + 100] = 0.25  # a quiet sound later
    tl = Timeline("click", 3.0, (Cue(0.0, 3.0, "rep", "x"),))
    out = np.concatenate(list(mix.blocks(tl, {"x": Clip(x)}, earcons=False)))
    assert int(np.argmax(np.abs(out))) == RATE
    assert abs(out[RATE]) <= 10 ** (limiter.CEILING_DBTP / 20)
    assert np.array_equal(out[2 * RATE :], x[2 * RATE :])  # long after the peak: untouched
    assert np.array_equal(out[: RATE - limiter.LOOKAHEAD - 1], x[: RATE - limiter.LOOKAHEAD - 1])


@settings(max_examples=25, deadline=None)
@given(start_s=st.floats(0, 8.5), block_frames=st.integers(1, 70000))
def test_same_samples_whatever_the_blocks_and_the_start(start_s, block_frames):
    """What makes live playback (4096-frame blocks, starts mid-session) equal the exported file (65536)."""
    tl, clips = loud_session()
    whole = np.concatenate(list(mix.blocks(tl, clips, gain=6.0, block_frames=65536)))
    got = list(mix.blocks(tl, clips, gain=6.0, start_s=start_s, block_frames=block_frames))
    assert all(b.size == block_frames for b in got[:-1])
    out = np.concatenate(got) if got else np.zeros(0, np.float32)
    assert np.array_equal(out, whole[min(round(start_s * RATE), whole.size) :])


def test_sliding_min_matches_the_definition():
    rng = np.random.default_rng(3)
    for n, before, after in [(50, 3, 2), (1000, 17, 5), (7, 3, 9), (300, 0, 0)]:
        x = rng.random(n)
        want = [min([x[k] if 0 <= k < n else 1.0 for k in range(j - before, j + after + 1)]) for j in range(n)]
        assert limiter.sliding_min(x, before, after).tolist() == want


def test_level_reaches_the_target_through_the_limiter():
    """Where a gain capped at the peak stays far below the target, the limited mix reaches it."""
    tl, clips = loud_session()
    raw = loudness.measure(mix.blocks(tl, clips, limit=False))
    capped = loudness.gain_from(raw, target_lufs=-16.0, peak_ceiling_dbfs=-1.0)
    capped_lufs = loudness.measure(mix.blocks(tl, clips, gain=capped, limit=False)).integrated_lufs
    assert capped_lufs < -19  # the old way: the peaks decide, and the target is missed by 3 dB or more
    level = loudness.level_for(lambda g, lim: mix.blocks(tl, clips, gain=g, limit=lim), -16.0)
    got = loudness.measure(mix.blocks(tl, clips, gain=level.gain))
    assert abs(got.integrated_lufs + 16.0) <= loudness.TOLERANCE_LU
    assert level.lufs == pytest.approx(got.integrated_lufs)


def test_level_of_silence_is_unity_and_says_so():
    tl = Timeline("quiet", 2.0, ())
    level = loudness.level_for(lambda g, lim: mix.blocks(tl, {}, gain=g, limit=lim), -16.0)
    assert level.gain == 1.0 and level.lufs == float("-inf")
