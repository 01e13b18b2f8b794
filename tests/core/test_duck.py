"""The music bed's ducking plan: down before every cue, never up between close cues."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voicecoach.core import duck
from voicecoach.core.timeline import Cue, Timeline

spans_st = st.lists(
    st.tuples(st.floats(0, 600, allow_nan=False), st.floats(0, 8, allow_nan=False)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=40,
)
depth_st = st.floats(1, 40, allow_nan=False)


@given(spans_st, depth_st)
def test_the_duck_is_complete_at_every_first_sample_and_through_the_span(spans, depth):
    env = duck.duck_envelope(spans, depth)
    for start, end in spans:
        for t in (start - duck.READY_S, start, (start + end) / 2, end, end + duck.RELEASE_S):
            assert env.at(t) == -depth


@given(spans_st, depth_st)
def test_the_fall_starts_at_least_150_ms_ahead_and_never_before_a_rise_ends(spans, depth):
    env = duck.duck_envelope(spans, depth)
    assert list(env.times) == sorted(env.times)
    for start, _ in spans:
        # 150 ms before the first sample the duck has begun, but is still under way or later.
        assert env.at(start - 0.15) < 0
    assert all(-depth <= v <= 0 for v in env.values)


@given(spans_st, depth_st)
def test_no_rise_inside_a_gap_under_one_second(spans, depth):
    env = duck.duck_envelope(spans, depth)
    ordered = sorted(spans)
    for (_, end), (start, _) in zip(ordered, ordered[1:]):
        if 0 < start - end < 1.0:
            inside = [t for t in env.times if end < t < start]
            assert all(env.at(t) == -depth for t in [end, start, *inside])


@given(spans_st)
def test_far_apart_cues_let_the_bed_come_back_up(spans):
    env = duck.duck_envelope(spans)
    for a, b in zip(duck.merged(spans), duck.merged(spans)[1:]):
        assert b[0] - a[1] >= duck.HOLD_GAP_S
        assert env.at(a[1] + duck.RELEASE_S + duck.RISE_S) == 0.0


def test_no_cues_no_duck():
    env = duck.duck_envelope([])
    assert env.at(5.0) == 0.0


@given(st.floats(0.1, 7200, allow_nan=False), st.one_of(st.none(), st.floats(0, 7200, allow_nan=False)))
def test_the_fade_starts_and_ends_in_silence(duration, closing):
    env = duck.fade_envelope(duration, closing)
    assert env.at(0.0) == 0.0 and env.at(duration) == 0.0
    assert list(env.times) == sorted(env.times)
    assert all(0.0 <= v <= 1.0 for v in env.values)


def test_plan_ducks_under_earcons_and_fades_over_the_closing_words():
    cues = (
        Cue(2.0, 4.0, "intro", "Hello."),
        Cue(10.0, 10.5, "countdown", "3", earcon="tick"),
        Cue(20.0, 23.0, "end", "Well done."),
    )
    timeline = Timeline("t", 25.0, cues)
    p = duck.plan(timeline, 14.0, earcon_s=lambda name: 0.9)
    assert p.duck.at(10.8) == -14.0  # the tick outlasts its word
    assert p.fade.at(20.0) == 1.0 and p.fade.at(22.5) < 1.0 and p.fade.at(25.0) == 0.0
    assert p.fade.at(1.5) == 0.5
