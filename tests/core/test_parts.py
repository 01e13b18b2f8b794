"""Scheduling a session part by part, as phrases are synthesized: the result is the timeline built at once.

Properties over random plans, options and fake voices (no audio): whatever
order the phrases become known in, everything before the horizon is final,
and the timeline stitched together part by part equals the one built with
every length known, and keeps every rule of the scheduler.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers.strategies import fake_voice, options, plans
from helpers.timeline_rules import assert_rules
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from voicecoach import programs
from voicecoach.core.parts import horizon, part_start, partial_timeline, parts, stitch
from voicecoach.core.replan import adjust_phase
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.core.timeline import Timeline
from voicecoach.errors import ScheduleError

PROPS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPS = 1e-9


def before(tl: Timeline, t: float) -> tuple:
    """What of ``tl`` is settled before ``t``: cues begun, phases and chapters ended."""
    return (
        tuple(c for c in tl.cues if c.start_s < t - EPS),
        tuple(p for p in tl.phases if p.end_s <= t + EPS),
        tuple(c for c in tl.chapters if c.end_s <= t + EPS),
    )


def full_or_skip(plan, opts, voice) -> Timeline:
    try:
        return build_timeline(plan, opts, voice)
    except ScheduleError:
        assume(False)  # a voice too slow for the plan: nothing to stitch
        raise


@PROPS
@given(data=st.data(), base=st.floats(0.05, 0.6), per_char=st.floats(0.0, 0.12))
def test_the_parts_hold_every_phrase_said_in_them(data, base, per_char):
    plan = data.draw(plans())
    opts = data.draw(options(plan))
    full = full_or_skip(plan, opts, fake_voice(base, per_char))
    ps = parts(plan, opts)
    starts = [part_start(full, p) for p in ps] + [full.duration_s + 1]
    assert starts == sorted(starts)
    for cue in full.cues:
        k = max(i for i, s in enumerate(starts) if s <= cue.start_s + EPS)
        assert cue.text in ps[k].texts, (cue, ps[k])


@PROPS
@given(data=st.data(), base=st.floats(0.05, 0.6), per_char=st.floats(0.0, 0.12))
def test_timeline_built_part_by_part_is_the_one_built_at_once(data, base, per_char):
    """Phrases become known in a random order; each partial timeline is final up to its horizon, and the
    stitched result is exactly the timeline built with every length known."""
    plan = data.draw(plans())
    opts = data.draw(options(plan))
    voice = fake_voice(base, per_char)
    full = full_or_skip(plan, opts, voice)
    assert_rules(plan, opts, full)
    ps = parts(plan, opts)
    texts = list(dict.fromkeys(t for p in ps for t in p.texts))
    order = data.draw(st.permutations(texts))
    known: set[str] = set()
    current, ready = partial_timeline(plan, opts, lambda t: voice(t) if t in known else None, ps)
    assert ready == 0 and horizon(current, ps, 0) == part_start(full, ps[0]) == 0.0
    step = max(1, len(order) // 6)
    for i in range(0, len(order), step):
        known.update(order[i : i + step])
        new, now_ready = partial_timeline(plan, opts, lambda t: voice(t) if t in known else None, ps)
        h = horizon(new, ps, now_ready)
        assert h == pytest.approx(horizon(full, ps, now_ready), abs=EPS)
        assert before(new, h) == before(full, h)
        if now_ready > ready:
            # What was final stays, and the newly final part follows it.
            current = stitch(current, new, ps[ready]) if ready < len(ps) else current
            ready = now_ready
        assert before(current, h) == before(full, h)
    assert ready == len(ps)
    assert current == full


@PROPS
@given(data=st.data(), per_char=st.floats(0.02, 0.1), delta=st.sampled_from([-15.0, 15.0]))
def test_live_edits_carry_over_when_the_rest_arrives(data, per_char, delta):
    """A hold lengthened (or shortened) before the later phrases were known: the stitched timeline is the
    full one with the same edit."""
    plan = data.draw(plans(realistic=True))
    opts = data.draw(options(plan))
    voice = fake_voice(0.1, per_char)
    full = full_or_skip(plan, opts, voice)
    ps = parts(plan, opts)
    ready = data.draw(st.integers(1, len(ps) - 1))
    known = {t for p in ps[:ready] for t in p.texts}
    partial, got = partial_timeline(plan, opts, lambda t: voice(t) if t in known else None, ps)
    assert got >= ready
    h = horizon(partial, ps, got)
    adjustable = [p for p in partial.phases if p.kind in ("hold", "rest", "timed") and p.end_s <= h + EPS]
    assume(adjustable)
    phase = data.draw(st.sampled_from(adjustable))
    t = phase.start_s + data.draw(st.floats(0.0, 0.9)) * phase.duration_s
    edited, applied = adjust_phase(partial, t, delta)
    expected, applied_full = adjust_phase(full, t, delta)
    assert applied == applied_full
    assert same(stitch(edited, full, ps[got]), expected)


def same(a: Timeline, b: Timeline) -> bool:
    """Equal but for float rounding in the times (an edit's shift is added in another order)."""

    def rounded(tl: Timeline) -> Timeline:
        r = lambda x: round(x, 9)  # noqa: E731
        return replace(
            tl,
            duration_s=r(tl.duration_s),
            cues=tuple(replace(c, start_s=r(c.start_s), end_s=r(c.end_s)) for c in tl.cues),
            phases=tuple(replace(p, start_s=r(p.start_s), end_s=r(p.end_s)) for p in tl.phases),
            chapters=tuple(replace(c, start_s=r(c.start_s), end_s=r(c.end_s)) for c in tl.chapters),
        )

    return rounded(a) == rounded(b)


def test_the_built_in_programs_split_into_their_exercises():
    plan = programs.load("inner-knee")
    ps = parts(plan, Options())
    assert [(p.kind, p.index) for p in ps] == (
        [("intro", 0), ("intro", 1)] + [("exercise", i) for i in range(9)] + [("end", 0)]
    )
    assert ps[0].texts[0].startswith("Inner knee pain. 9 exercises, about ")
    resumed = parts(plan, Options(first_exercise=4, intro="Resuming."))
    assert [(p.kind, p.index) for p in resumed][:2] == [("intro", 0), ("exercise", 4)]
    assert [(p.kind, p.index) for p in parts(plan, Options(first_exercise=8, intro=""))] == [
        ("exercise", 8),
        ("end", 0),
    ]


def test_the_introduction_says_the_estimated_length_whatever_the_voice():
    """The intro is spoken before the rest is synthesized: its "about N minutes" cannot wait for the voice."""
    plan = programs.load("inner-knee")
    slow, fast = build_timeline(plan, Options(), fake_voice(0.5, 0.12)), build_timeline(plan, Options())
    assert slow.cues[0].text == fast.cues[0].text
    assert slow.duration_s > fast.duration_s + 60
