"""The streaming mixer: renders a timeline to float32 blocks, sample-exact.

Each cue's clip starts at frame ``round(cue.start_s * MIX_RATE_HZ)`` and its
earcon (if any) at the same frame.  Nothing ever holds the whole session:
a two-hour session is 300+ million samples, so the mixer walks the events
(clip or earcon placements) in start order with a moving index and keeps
only the few that overlap the current block.  The work is therefore
O(session frames + clip frames + events log events), independent of how
many blocks there are times how many cues.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple, Protocol

import numpy as np

from voicecoach.core.timeline import Timeline
from voicecoach.render import limiter
from voicecoach.render.earcons import earcon as _earcon
from voicecoach.speech.clip import MIX_RATE_HZ, Clip

#: The block size of :func:`blocks` when the caller does not choose one
#: (about 93 ms: small enough for live playback latency).
DEFAULT_BLOCK_FRAMES = 4096


#: The speech's level in each channel of a stereo mix (with music): -3 dB, so it measures as loud as in mono.
STEREO_SPEECH = np.float32(np.sqrt(0.5))


class BedLike(Protocol):
    """Music under the coach (:class:`voicecoach.render.bed.Bed`): stereo blocks of session frames."""

    def blocks(self, start: int, end: int, block_frames: int) -> Iterator[np.ndarray]: ...


class _Event(NamedTuple):
    start: int  # first frame of the sound in session frames
    order: int  # tie-breaker: cue index * 2 (+1 for the earcon)
    is_earcon: bool
    key: str  # the clip's text, or the earcon's name


class _Active(NamedTuple):
    start: int
    end: int
    samples: np.ndarray


def total_frames(timeline: Timeline) -> int:
    """Frames in the rendered session: ``round(duration_s * MIX_RATE_HZ)``."""
    return max(0, int(round(timeline.duration_s * MIX_RATE_HZ)))


def _events(timeline: Timeline, earcons: bool) -> list[_Event]:
    events = []
    for i, cue in enumerate(timeline.cues):
        frame = int(round(cue.start_s * MIX_RATE_HZ))
        if cue.text:
            events.append(_Event(frame, 2 * i, False, cue.text))
        if earcons and cue.earcon:
            events.append(_Event(frame, 2 * i + 1, True, cue.earcon))
    # Cues are documented as sorted, but sorting here costs little and makes
    # the moving index correct for any input.
    events.sort()
    return events


def _samples(clip: Clip, what: str) -> np.ndarray:
    if clip.sample_rate_hz != MIX_RATE_HZ:
        raise ValueError(f"clip for {what} is at {clip.sample_rate_hz} Hz; the mixer needs {MIX_RATE_HZ} Hz")
    samples = np.asarray(clip.samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"clip for {what} must be mono (1-D), got shape {samples.shape}")
    return samples


def blocks(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    *,
    earcons: bool = True,
    start_s: float = 0.0,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    gain: float = 1.0,
    limit: bool = True,
    end_s: float | None = None,
    bed: BedLike | None = None,
) -> Iterator[np.ndarray]:
    """Render ``timeline`` as consecutive float32 mono blocks at MIX_RATE_HZ.

    ``clips[cue.text]`` is placed at frame ``round(cue.start_s * rate)`` and,
    when ``earcons`` is true, ``earcon(cue.earcon)`` at the same frame.
    Overlapping sounds add up; the sum is multiplied by ``gain``, then the
    true-peak limiter (:mod:`voicecoach.render.limiter`) keeps it under its
    ceiling; with ``limit=False`` the sum is only clipped to [-1, 1] (for
    measuring the raw mix). Sounds running past the end are cut off.

    Blocks have ``block_frames`` frames (the last one may be shorter) and
    together cover frames ``round(start_s * rate)`` to
    ``round(timeline.duration_s * rate)``, so ``start_s`` starts playback in
    the middle of a session with a clip that began earlier heard from its
    middle.  ``end_s`` stops the stream there instead (a session whose later
    phrases are still being synthesized is mixed up to where it is final,
    and continued later from that point). Every sample is the same whatever
    ``block_frames``, ``start_s`` and ``end_s`` are: live playback and the
    exported file agree exactly. Clips are looked up lazily, when they first
    overlap a block, so a missing text raises ``KeyError`` at that point of the stream.
    Each yielded array is new and owned by the caller.

    With a ``bed`` (music) the blocks are stereo, (frames, 2): the speech
    exactly as without music (limited the same way), at :data:`STEREO_SPEECH`
    in each channel (as loud in stereo as in mono), plus the bed's frames,
    and the sum through the limiter again. Without one, nothing differs
    from a mix before music existed.
    """
    if block_frames <= 0:
        raise ValueError(f"block_frames must be positive, got {block_frames}")
    end_frame = total_frames(timeline)
    if end_s is not None:
        end_frame = min(end_frame, max(0, int(round(end_s * MIX_RATE_HZ))))
    pos = min(max(0, int(round(start_s * MIX_RATE_HZ))), end_frame)

    if not limit:
        raw = _raw(timeline, clips, earcons, pos, end_frame, block_frames, gain)
        for out in raw if bed is None else _with_bed(raw, bed.blocks(pos, end_frame, block_frames)):
            np.clip(out, -1.0, 1.0, out=out)
            yield out
        return
    if bed is None:
        yield from _reblock(
            _limited(timeline, clips, earcons, pos, end_frame, gain), pos - limiter.grid_start(pos), block_frames
        )
        return
    # With music: the speech limited exactly as without it (the same samples, at STEREO_SPEECH), the bed
    # added, and the sum through the limiter again (it acts only where the two together would peak over).
    grid = limiter.grid_start(pos)
    raw_from = limiter.raw_start(pos)
    speech = _reblock(
        _limited(timeline, clips, earcons, raw_from, end_frame, gain),
        raw_from - limiter.grid_start(raw_from),
        limiter.CHUNK,
    )
    both = _with_bed(speech, bed.blocks(raw_from, end_frame, limiter.CHUNK))
    yield from _reblock(limiter.limit(both, raw_from, grid, end_frame, channels=2), pos - grid, block_frames)


def _limited(
    timeline: Timeline, clips: Mapping[str, Clip], earcons: bool, pos: int, end_frame: int, gain: float
) -> Iterator[np.ndarray]:
    """The speech through the limiter, in CHUNKs from the limiter's grid frame at or before ``pos``."""
    grid = limiter.grid_start(pos)
    raw_from = limiter.raw_start(pos)
    return limiter.limit(
        _raw(timeline, clips, earcons, raw_from, end_frame, limiter.CHUNK, gain), raw_from, grid, end_frame
    )


def _with_bed(speech: Iterator[np.ndarray], bed: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """The mono speech in both channels (at :data:`STEREO_SPEECH`) plus the bed: the same block sizes, in step."""
    for voice, music in zip(speech, bed):
        out = music
        out += (voice * STEREO_SPEECH)[:, None]
        yield out


def _reblock(chunks: Iterator[np.ndarray], skip: int, size: int) -> Iterator[np.ndarray]:
    """Drop the first ``skip`` frames of ``chunks`` and re-cut the rest into blocks of ``size`` (last shorter)."""
    pending: list[np.ndarray] = []
    have = 0
    for chunk in chunks:
        if skip:
            cut = min(skip, chunk.shape[0])
            chunk, skip = chunk[cut:], skip - cut
        if chunk.shape[0] == 0:
            continue
        pending.append(chunk)
        have += chunk.shape[0]
        while have >= size:
            joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
            yield joined[:size].copy()
            rest = joined[size:]
            pending, have = ([rest] if rest.shape[0] else []), rest.shape[0]
    if have:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0].copy()


def _raw(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    earcons: bool,
    pos: int,
    end_frame: int,
    block_frames: int,
    gain: float,
) -> Iterator[np.ndarray]:
    """The mix of frames ``[pos, end_frame)`` times ``gain``, unclipped, in blocks of ``block_frames``."""
    events = _events(timeline, earcons)
    g = np.float32(gain)
    next_event = 0
    active: list[_Active] = []

    while pos < end_frame:
        block_end = min(pos + block_frames, end_frame)
        # Admit every event that starts before this block ends.  When
        # starting mid-session the first block also sweeps past the earlier
        # events, keeping only those still sounding.
        while next_event < len(events) and events[next_event].start < block_end:
            ev = events[next_event]
            next_event += 1
            if ev.is_earcon:
                samples = _samples(_earcon(ev.key), f"earcon {ev.key!r}")
            else:
                samples = _samples(clips[ev.key], f"cue {ev.key!r}")
            end = ev.start + samples.shape[0]
            if end > pos:
                active.append(_Active(ev.start, end, samples))

        out = np.zeros(block_end - pos, dtype=np.float32)
        for a in active:
            lo, hi = max(a.start, pos), min(a.end, block_end)
            if lo < hi:
                out[lo - pos : hi - pos] += a.samples[lo - a.start : hi - a.start]
        # Keep list order (= event order) so summation order is deterministic.
        active = [a for a in active if a.end > block_end]

        if g != 1.0:
            out *= g
        yield out
        pos = block_end
