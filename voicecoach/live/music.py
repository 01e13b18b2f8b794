"""Music under a live session: each stream's bed, on the music's own clock.

A live session is a series of streams (:class:`voicecoach.live.playback.Playback`):
words, then the session from a point. The music goes on across them where
it was heard (:class:`voicecoach.render.feed.MusicFeed` holds its frames),
so a skip does not make it jump and a pause (whose words play without it)
stops it where it was. Each stream gets a :class:`StreamMusic`: the music
frame at each of its frames, and its ducking plan, made from the words it
plays and the session's cues from its start (:mod:`voicecoach.core.duck`).
Words at a stream's very start cannot be led: the bed moves from where it
was to ducked within :data:`voicecoach.core.duck.QUICK_S`; every later cue is
led as in an export.

The first stream from the session's start, with nothing before it, is the
export's bed to the sample: the same frames, the same plan, the same arithmetic.

It also tells the voice control's echo gate when the coach speaks (its words
and earcons, never the bed): :meth:`StreamMusic.voiced`.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator

import numpy as np

from voicecoach.core import duck
from voicecoach.core.duck import Envelope
from voicecoach.core.timeline import Timeline
from voicecoach.render import music
from voicecoach.render.feed import LATE_S, MusicFeed
from voicecoach.speech.clip import MIX_RATE_HZ

#: At the live start, the music's first frames are waited for at most this long (the voice is being
#: prepared meanwhile); later, the music begins at the next block where they are ready, fading in.
START_WAIT_S = 1.5
START_AHEAD_FRAMES = 2 * MIX_RATE_HZ  # what is waited for: the stream's first reads (its queue) find it decoded


def _interp(t: np.ndarray, env: Envelope, empty: float) -> np.ndarray:
    out: np.ndarray = np.interp(t, env.times, env.values) if env.times else np.full_like(t, empty)
    return out


class LiveMusic:
    """The music's clock across a live session's streams, and the line said when it stops."""

    def __init__(
        self,
        feed: MusicFeed,
        timeline: Timeline,
        *,
        duck_db: float = duck.DUCK_DB,
        earcon_s: Callable[[str], float] | None = None,
        late_s: float = LATE_S,
    ) -> None:
        self.feed = feed
        self.late_s = late_s  # how long a stream waits for frames not decoded yet (then the music is off)
        self.duck_db = duck_db
        self.earcon_s = earcon_s
        closing = [c.start_s for c in timeline.cues if c.kind == "end"]
        self.fade_in = duck.fade_parts(timeline.duration_s, closing[-1] if closing else None)[0]  # on music time
        self.heard = 0  # music frames heard so far: where the next stream goes on
        self.begun = False  # the music has started (its first frame is placed)
        self._level_db: float | None = None  # the duck where the last stream was cut (None: never heard)
        self._said = False
        self._lock = threading.Lock()

    def stream(self, prefix: Timeline | None, start_s: float, timeline: Timeline | None) -> StreamMusic:
        """The next stream's music: ``prefix``, then ``timeline`` (the session, if it goes on) from ``start_s``.

        Music plays only in a stream that goes on into the session: words alone (a pause, a question) have none.
        """
        return StreamMusic(self, prefix, start_s, timeline)

    def stopped(self, stream: StreamMusic, heard_s: float) -> None:
        """``stream`` stopped (or ended) after ``heard_s`` of it was heard: the music goes on from there."""
        with self._lock:
            if stream.accounted:
                return
            stream.accounted = True
            if stream.join is None:
                return
            frames = int(round(heard_s * MIX_RATE_HZ))
            self.heard = stream.m_base + max(0, frames - stream.join)
            self._level_db = stream.duck_db_at(heard_s)

    def notice(self) -> str | None:
        """The line saying the music stopped, once."""
        if self.feed.error is None or self._said:
            return None
        self._said = True
        return self.feed.error


class StreamMusic:
    """One stream's music: which music frame each of its frames plays, and its ducking plan."""

    def __init__(self, live: LiveMusic, prefix: Timeline | None, start_s: float, timeline: Timeline | None) -> None:
        self.live = live
        self.prefix = prefix
        self.start_s = start_s
        self.plays = timeline is not None
        self.accounted = False
        self.prefix_frames = int(round(prefix.duration_s * MIX_RATE_HZ)) if prefix is not None else 0
        self.prefix_s = prefix.duration_s if prefix is not None else 0.0
        self.m_base = live.heard
        self.carry_db = live._level_db  # None: nothing heard before, the plan is the export's
        # The stream frame where the music's frame m_base plays: 0, or (the very first music) where it begins.
        self.join: int | None = 0 if (self.plays and live.begun) else None
        self._duck = Envelope((), ())
        self._fade_out = Envelope((), ())
        self._voice: list[tuple[int, int]] = []  # the coach's sounds in stream frames, sorted, for the gate
        self._voice_ends: list[int] = []
        self.plan(timeline)

    # -- the plan -------------------------------------------------------------------------
    def plan(self, timeline: Timeline | None) -> None:
        """The stream's plan from its words and ``timeline`` (the session as it is now) from its start."""
        spans = duck.cue_spans(self.prefix, self.live.earcon_s) if self.prefix is not None else []
        fade_out = Envelope((), ())
        if timeline is not None:
            shift = self.prefix_s - self.start_s
            spans += duck.played_spans(duck.cue_spans(timeline, self.live.earcon_s), self.start_s, shift)
            closing = [c.start_s for c in timeline.cues if c.kind == "end"]
            out = duck.fade_parts(timeline.duration_s, closing[-1] if closing else None)[1]
            fade_out = Envelope(tuple(t + shift for t in out.times), out.values)
        envelope = duck.duck_envelope(spans, self.live.duck_db)
        if self.carry_db is not None:
            envelope = duck.carried(envelope, self.carry_db)
        voice = sorted((int(round(a * MIX_RATE_HZ)), int(round(b * MIX_RATE_HZ))) for a, b in duck.merged(spans, 0.0))
        self._duck, self._fade_out, self._voice = envelope, fade_out, voice
        self._voice_ends = [b for _, b in voice]

    def duck_db_at(self, stream_s: float) -> float:
        return self._duck.at(stream_s) if self._duck.times else 0.0

    def voiced(self, lo: int, hi: int) -> bool:
        """Whether the coach's words or earcons sound in stream frames ``[lo, hi)`` (the bed does not count)."""
        voice = self._voice
        i = bisect.bisect_right(self._voice_ends, lo)
        return i < len(voice) and voice[i][0] < hi

    # -- the bed ----------------------------------------------------------------------------
    def prefix_bed(self) -> _View:
        """The bed under the words (their frames from 0)."""
        return _View(self, 0)

    def session_bed(self, timeline: Timeline) -> _View:
        """The bed under the session's frames (``timeline`` as it is now)."""
        self.plan(timeline)
        return _View(self, self.prefix_frames - int(round(self.start_s * MIX_RATE_HZ)))

    def blocks(self, lo: int, hi: int, block_frames: int) -> Iterator[np.ndarray]:
        """Stream frames ``[lo, hi)`` of the bed: the music where it is, times the plan."""
        feed, live = self.live.feed, self.live
        pos = lo
        while pos < hi:
            stop = min(pos + block_frames, hi)
            n = stop - pos
            out = np.zeros((n, music.CHANNELS), dtype=np.float32)
            if self.plays and feed.error is None:
                if self.join is None and feed.ready():
                    self.join, live.begun = max(pos, 0), True
                if self.join is not None:
                    m_lo = self.m_base + pos - self.join
                    skip = min(n, max(0, -m_lo))  # frames before the music's first (the limiter looks back)
                    got = feed.read(m_lo + skip, m_lo + n, live.late_s) if skip < n else None
                    if got is not None:
                        out[skip:] = got
                        out *= self._gain(pos, stop, m_lo)[:, None]
            yield out
            pos = stop

    def _gain(self, lo: int, hi: int, m_lo: int) -> np.ndarray:
        """The plan's gain for stream frames ``[lo, hi)`` whose music starts at frame ``m_lo``: as the export's."""
        t = np.arange(lo, hi, dtype=np.float64) / MIX_RATE_HZ
        m = np.arange(m_lo, m_lo + (hi - lo), dtype=np.float64) / MIX_RATE_HZ
        db = _interp(t, self._duck, 0.0)
        amp = _interp(m, self.live.fade_in, 1.0) * _interp(t, self._fade_out, 1.0)
        gain: np.ndarray = (np.power(10.0, db / 20.0) * amp).astype(np.float32)
        return gain


class _View:
    """A part of a stream's bed in that part's own frames (what :func:`voicecoach.render.mix.blocks` asks for)."""

    def __init__(self, stream: StreamMusic, offset: int) -> None:
        self.stream = stream
        self.offset = offset  # stream frame = the part's frame + offset

    def blocks(self, start: int, end: int, block_frames: int) -> Iterator[np.ndarray]:
        return self.stream.blocks(start + self.offset, end + self.offset, block_frames)
