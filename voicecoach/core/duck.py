"""The music bed's level over a session, planned from the cue times: ducked ahead of every cue, never pumping.

Pure: the plan is two piecewise-linear envelopes (breakpoints in seconds of
session time), computed from the cues' spans before anything is heard, so
the same plan serves a live session and an export, and the gain at a frame
depends on that frame alone (never on how the stream is cut into blocks).

* the *duck* (in dB): 0 dB, falling to ``-duck_db`` over :data:`FALL_S`,
  complete :data:`READY_S` before each span's first sample (so the fall
  starts at least 150 ms ahead); rising :data:`RELEASE_S` after the span's
  last sample over :data:`RISE_S`. Spans closer than :data:`HOLD_GAP_S`
  (more than the ~1 s the issue asks) are one duck: the bed never comes up
  part-way between close cues.
* the *fade* (linear amplitude): in from silence over :data:`FADE_IN_S`,
  out over the closing words (the ``end`` cue) to silence at the session's end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from voicecoach.core.timeline import Timeline

DUCK_DB = 14.0  # Android's normal duck
MUSIC_VOLUME_DB = (
    -20.0
)  # the bed between cues, against the speech: under the loudness gate, so the file keeps its target
#: The accessible preset: during cues the bed sits at least this far under the speech's loudness
#: (WCAG 2 G56 asks 20 dB; 5 LU more because music's short-term loudness swings above its integrated).
ACCESSIBLE_UNDER_LU = 25.0
PRESETS = ("accessible",)
READY_S = 0.02  # the duck is complete this long before a cue's first sample
FALL_S = 0.2  # so the fall starts READY_S + FALL_S = 220 ms ahead (at least the 150 ms asked)
RELEASE_S = 0.5  # the bed starts rising this long after a cue's last sample
RISE_S = 0.6
LEAD_S = READY_S + FALL_S
HOLD_GAP_S = RELEASE_S + RISE_S + LEAD_S  # 1.32 s: a shorter gap keeps the bed down (no partial rise)
FADE_IN_S = 3.0
FADE_OUT_S = 4.0  # without an ``end`` cue, the last seconds fade out

Span = tuple[float, float]


@dataclass(frozen=True)
class Envelope:
    """Breakpoints ``(times[i], values[i])``, times non-decreasing; constant before the first and after the last."""

    times: tuple[float, ...]
    values: tuple[float, ...]

    def at(self, t: float) -> float:
        """The value at ``t`` (linear between breakpoints)."""
        ts, vs = self.times, self.values
        if not ts:
            return 0.0
        if t <= ts[0]:
            return vs[0]
        for i in range(1, len(ts)):
            if t <= ts[i]:
                t0, t1 = ts[i - 1], ts[i]
                if t == t1 or vs[i - 1] == vs[i]:
                    return vs[i]
                frac = (t - t0) / (t1 - t0)
                return (1.0 - frac) * vs[i - 1] + frac * vs[i]
        return vs[-1]


@dataclass(frozen=True)
class DuckPlan:
    """The bed's gain over a session: ``duck`` in dB times ``fade`` (linear)."""

    duck: Envelope
    fade: Envelope


def preset_duck(duck_db: float, volume_db: float, preset: str | None) -> float:
    """The duck in effect: ``duck_db``, deepened by the accessible preset until the bed is far enough under."""
    if preset == "accessible":
        return max(duck_db, ACCESSIBLE_UNDER_LU + volume_db)
    return duck_db


def merged(spans: Iterable[Span], hold_gap_s: float = HOLD_GAP_S) -> list[Span]:
    """``spans`` sorted, with overlapping ones and those less than ``hold_gap_s`` apart joined."""
    out: list[Span] = []
    for start, end in sorted((s, max(s, e)) for s, e in spans):
        if out and start - out[-1][1] < hold_gap_s:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def duck_envelope(spans: Iterable[Span], duck_db: float = DUCK_DB) -> Envelope:
    """0 dB, down to ``-duck_db`` around every span (see the module's docstring)."""
    times: list[float] = []
    values: list[float] = []
    for start, end in merged(spans):
        times += [start - LEAD_S, start - READY_S, end + RELEASE_S, end + RELEASE_S + RISE_S]
        values += [0.0, -duck_db, -duck_db, 0.0]
    return Envelope(tuple(times), tuple(values))


def fade_envelope(duration_s: float, closing_s: float | None = None) -> Envelope:
    """In from silence at 0, out to silence at ``duration_s``, from ``closing_s`` (the closing words)."""
    if duration_s <= 0:
        return Envelope((0.0,), (0.0,))
    fade_in = min(FADE_IN_S, duration_s / 2)
    out_from = duration_s - min(FADE_OUT_S, duration_s / 2) if closing_s is None else closing_s
    out_from = max(min(out_from, duration_s - min(1.0, duration_s / 2)), fade_in)  # a fade, however late the words
    return Envelope((0.0, fade_in, out_from, duration_s), (0.0, 1.0, 1.0, 0.0))


def cue_spans(timeline: Timeline, earcon_s: Callable[[str], float] | None = None) -> list[Span]:
    """What the bed ducks under: each cue's speech, and its earcon (``earcon_s(name)`` long) when given."""
    spans: list[Span] = []
    for cue in timeline.cues:
        if cue.text:
            spans.append((cue.start_s, cue.end_s))
        if earcon_s is not None and cue.earcon:
            spans.append((cue.start_s, cue.start_s + earcon_s(cue.earcon)))
    return spans


def plan(timeline: Timeline, duck_db: float = DUCK_DB, earcon_s: Callable[[str], float] | None = None) -> DuckPlan:
    """The bed's plan for ``timeline``: ducked under every cue and earcon, faded in and out over the closing words."""
    closing: Sequence[float] = [c.start_s for c in timeline.cues if c.kind == "end"]
    return DuckPlan(
        duck_envelope(cue_spans(timeline, earcon_s), duck_db),
        fade_envelope(timeline.duration_s, closing[-1] if closing else None),
    )


# -- live: one stream at a time -----------------------------------------------------------
#: Speech that cannot be known ahead (a confirmation, an answer) starts at once: the bed goes from the
#: level it had to the planned one over this, from the stream's first sample (the words are never delayed).
QUICK_S = 0.03


def played_spans(spans: Iterable[Span], start_s: float, shift_s: float) -> list[Span]:
    """The parts of ``spans`` heard from ``start_s`` on, moved by ``shift_s`` (into a stream's time)."""
    return [(max(a, start_s) + shift_s, b + shift_s) for a, b in spans if b > start_s]


def carried(envelope: Envelope, level_db: float, quick_s: float = QUICK_S) -> Envelope:
    """``envelope`` from time 0, starting at ``level_db`` (where the bed was) and reaching the plan by ``quick_s``.

    A stream that starts with words ducks at once: whatever the plan held before its
    first sample (the fall that would have led the words) is replaced by one quick move.
    """
    later = [(t, v) for t, v in zip(envelope.times, envelope.values) if t > quick_s]
    return Envelope((0.0, quick_s, *(t for t, _ in later)), (level_db, envelope.at(quick_s), *(v for _, v in later)))


def fade_parts(duration_s: float, closing_s: float | None = None) -> tuple[Envelope, Envelope]:
    """:func:`fade_envelope` as two factors: the fade-in (0 to 1) and the fade-out (1 to 0).

    Their product is the fade at every time, to the bit (one of the two is exactly 1
    wherever the other is not), so a live stream may put the fade-in on the music's
    own clock and the fade-out on the session's.
    """
    whole = fade_envelope(duration_s, closing_s)
    if len(whole.times) < 4:
        return whole, Envelope((0.0,), (1.0,))
    return Envelope(whole.times[:2], whole.values[:2]), Envelope(whole.times[2:], whole.values[2:])
