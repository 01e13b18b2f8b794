"""The streaming mixer: sample placement, block equivalence, flat memory."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
from helpers.fakes import CountingClips, tone
from hypothesis import given, settings
from hypothesis import strategies as st

from voicecoach.core.timeline import Cue, Timeline
from voicecoach.render import mix
from voicecoach.render.earcons import earcon
from voicecoach.speech.clip import MIX_RATE_HZ, Clip, pcm16_bytes

RATE = MIX_RATE_HZ


def naive_render(timeline: Timeline, clips, *, earcons: bool = True, gain: float = 1.0) -> np.ndarray:
    """The obvious whole-array render the streaming mixer must equal."""
    out = np.zeros(int(round(timeline.duration_s * RATE)), dtype=np.float32)
    for cue in timeline.cues:
        start = int(round(cue.start_s * RATE))
        sounds = [clips[cue.text].samples] if cue.text else []
        if earcons and cue.earcon:
            sounds.append(earcon(cue.earcon).samples)
        for s in sounds:
            n = max(0, min(s.size, out.size - start))
            out[start : start + n] += s[:n]
    if gain != 1.0:
        out *= np.float32(gain)
    return np.clip(out, -1, 1)


def busy_timeline() -> tuple[Timeline, dict[str, Clip]]:
    """Overlapping clips, earcons, a clip running past the end, a repeated text."""
    clips = {"one": tone(440, 1.0), "two": tone(660, 0.7), "three": tone(220, 2.5, 0.6)}
    cues = (
        Cue(0.0, 1.0, "intro", "one", earcon="start"),
        Cue(0.5, 1.2, "rep", "two", earcon="tick"),  # overlaps "one"
        Cue(1.2345, 3.7, "rep", "three"),
        Cue(2.0, 2.7, "rep", "two", earcon="switch"),  # overlaps "three"
        Cue(3.0, 3.1, "stop", "", earcon="stop"),  # earcon only
        Cue(4.2, 6.7, "end", "three", earcon="end"),  # runs past the end
    )
    return Timeline("busy", 5.0, cues), clips


def test_clip_lands_on_exact_frame():
    ones = Clip(np.full(100, 0.5, dtype=np.float32))
    tl = Timeline("t", 3.0, (Cue(1.234, 1.3, "rep", "x"),))
    out = np.concatenate(list(mix.blocks(tl, {"x": ones}, block_frames=1000)))
    frame = round(1.234 * RATE)
    assert out.size == round(3.0 * RATE)
    assert out[frame - 1] == 0.0
    assert np.all(out[frame : frame + 100] == 0.5)
    assert out[frame + 100] == 0.0
    assert np.count_nonzero(out) == 100


def test_earcon_lands_at_cue_start():
    tl = Timeline("t", 2.0, (Cue(0.75, 0.8, "stop", "", earcon="stop"),))
    out = np.concatenate(list(mix.blocks(tl, {})))
    s = earcon("stop").samples
    start = round(0.75 * RATE)
    np.testing.assert_array_equal(out[start : start + s.size], s)
    assert not out[:start].any() and not out[start + s.size :].any()
    # ...and not at all without earcons.
    assert not np.concatenate(list(mix.blocks(tl, {}, earcons=False))).any()


@pytest.mark.parametrize("block_frames", [1, 7, 1000, 4096, 44100, 10**7], ids=lambda n: f"{n}-frames")
def test_blocks_equal_naive_render(block_frames):
    tl, clips = busy_timeline()
    got = list(mix.blocks(tl, clips, block_frames=block_frames, limit=False))
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in got)
    assert all(b.size == block_frames for b in got[:-1]) and 0 < got[-1].size <= block_frames
    np.testing.assert_array_equal(np.concatenate(got), naive_render(tl, clips))


@settings(max_examples=40, deadline=None)
@given(
    start_s=st.floats(0, 5.5),
    block_frames=st.integers(1, 30000),
    gain=st.sampled_from([1.0, 0.5, 3.0]),
    earcons=st.booleans(),
)
def test_start_mid_session_gain_and_clipping(start_s, block_frames, gain, earcons):
    """Without the limiter (how the raw mix is measured): exactly the naive sum, clipped."""
    tl, clips = busy_timeline()
    want = naive_render(tl, clips, earcons=earcons, gain=gain)[min(round(start_s * RATE), round(5.0 * RATE)) :]
    got = list(
        mix.blocks(tl, clips, start_s=start_s, block_frames=block_frames, gain=gain, earcons=earcons, limit=False)
    )
    out = np.concatenate(got) if got else np.zeros(0, np.float32)
    np.testing.assert_array_equal(out, want)
    assert out.size == 0 or (out.max() <= 1.0 and out.min() >= -1.0)


def test_gain_clips_to_unit_range():
    loud = Clip(np.full(10, 0.8, dtype=np.float32))
    tl = Timeline("t", 0.01, (Cue(0.0, 0.001, "rep", "x"),))
    out = np.concatenate(list(mix.blocks(tl, {"x": loud}, gain=2.0, limit=False)))
    assert out[:10].tolist() == [1.0] * 10


def test_each_clip_looked_up_once_and_lazily():
    clips = CountingClips({"a": tone(300, 0.2)})
    cues = tuple(Cue(i * 1.0, i * 1.0 + 0.2, "rep", "a") for i in range(10))
    tl = Timeline("t", 10.0, cues)
    it = mix.blocks(tl, clips, block_frames=RATE // 2, limit=False)
    next(it)
    assert clips.lookups == 1  # only the cue overlapping the first block
    for _ in it:
        pass
    assert clips.lookups == 10
    # The limiter reads ahead (its chunk and the look-ahead): still only what is near.
    clips.lookups = 0
    it = mix.blocks(tl, clips, block_frames=RATE // 2)
    next(it)
    assert clips.lookups == 2


def test_missing_clip_raises_keyerror_when_reached():
    clips = CountingClips({"a": tone(300, 0.2)}, fail_after=3)
    cues = tuple(Cue(i * 1.0, i * 1.0 + 0.2, "rep", "a") for i in range(10))
    got = []
    with pytest.raises(KeyError):
        for block in mix.blocks(Timeline("t", 10.0, cues), clips, block_frames=RATE, limit=False):
            got.append(block)
    assert len(got) == 3


def test_rejects_wrong_rate_and_bad_block_size():
    tl = Timeline("t", 1.0, (Cue(0.0, 0.5, "rep", "x"),))
    with pytest.raises(ValueError, match="22050"):
        list(mix.blocks(tl, {"x": Clip(np.zeros(10, np.float32), 22050)}))
    with pytest.raises(ValueError):
        list(mix.blocks(tl, {"x": tone(1, 0.1)}, block_frames=0))


def test_empty_and_zero_length_timelines():
    assert list(mix.blocks(Timeline("t", 0.0, ()), {})) == []
    out = np.concatenate(list(mix.blocks(Timeline("t", 1.0, ()), {})))
    assert out.size == RATE and not out.any()


def test_to_int16():
    data = pcm16_bytes(np.array([0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 1e-5], dtype=np.float32))
    assert np.frombuffer(data, "<i2").tolist() == [0, 32767, -32767, 32767, -32767, 16384, 0]


def two_hour_session() -> tuple[Timeline, dict[str, Clip]]:
    clips = {f"phrase {i}": tone(200 + 50 * i, 2.0) for i in range(8)}
    cues = tuple(
        Cue(t, t + 2.0, "rep", f"phrase {i % 8}", earcon="tick" if i % 3 == 0 else None)
        for i, t in enumerate(np.arange(0.5, 7200.0, 4.0))
    )
    return Timeline("long", 7200.0, cues), clips


def test_two_hours_in_flat_memory():
    tl, clips = two_hour_session()
    earcon("tick")  # the cached earcon is not the mixer's working memory
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        frames = 0
        for block in mix.blocks(tl, clips):
            frames += block.size
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert frames == 7200 * RATE
    # The whole session would be 1.27 GB of float32; a block is 16 KB.
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    print(
        f"\nmix: 2 h in {elapsed:.1f} s under tracemalloc = {7200 / elapsed:.0f}x real time, "
        f"peak {peak / 2**20:.2f} MiB"
    )
