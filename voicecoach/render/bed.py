"""The music bed: a playlist laid along the session, looped with a crossfade, ducked under every cue.

The music's time is the session's time: session frame ``n`` always plays the
same moment of the same track (the layout comes from the tracks' probed
lengths), so a stream started anywhere continues the song where it would
be, and an export and a live session from the start are the same samples.
Each track is brought to the bed's loudness (``level_lufs``: the speech's
target plus ``--music-volume``) by its own measured loudness, then the
ducking plan (:mod:`voicecoach.core.duck`) is applied frame by frame from
the frame's session time alone, so the block size never changes a sample.

A track that fails while a live session plays (``on_error`` given) turns
the music off with one line; the coaching goes on. Without ``on_error``
(an export) the failure is raised: a file must not lose its music halfway.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from voicecoach.core import duck
from voicecoach.core.duck import DuckPlan
from voicecoach.core.timeline import Timeline
from voicecoach.errors import MusicError
from voicecoach.render import music
from voicecoach.speech.clip import MIX_RATE_HZ

CROSSFADE_S = 2.0  # where the playlist loops, its end and its start overlap this long
MAX_TRACK_GAIN_DB = 20.0  # a very quiet track is raised at most this much


@dataclass(frozen=True)
class _Placement:
    start: int  # session frame of the track's first frame
    track: int  # index in the playlist
    fade_in: int  # frames of crossfade at its start (0: none)
    fade_out: int  # frames of crossfade at its end

    def end(self, tracks: Sequence[music.Track]) -> int:
        return self.start + tracks[self.track].frames


def _placements(tracks: Sequence[music.Track], crossfade: int) -> Iterator[_Placement]:
    """The playlist again and again; each loop starts ``crossfade`` frames before the last one ends."""
    total = sum(t.frames for t in tracks)
    loop = 0
    while True:
        at = loop * (total - crossfade)
        for i, track in enumerate(tracks):
            yield _Placement(at, i, crossfade if (i == 0 and loop > 0) else 0, crossfade if i == len(tracks) - 1 else 0)
            at += track.frames
        loop += 1


class Bed:
    """The bed's stereo blocks for any span of a session (see the module's docstring)."""

    def __init__(
        self,
        tracks: Sequence[music.Track],
        plan: DuckPlan,
        level_lufs: float,
        *,
        on_error: Callable[[str], None] | None = None,
        lufs: Callable[[music.Track], float] | None = None,
    ) -> None:
        if not tracks:
            raise ValueError("a bed needs at least one track")
        self.tracks = tuple(tracks)
        self.plan = plan
        self.level_lufs = level_lufs
        self.on_error = on_error
        self.failed = False  # a live session's music stopped (once)
        self.current: music.Track | None = None  # the track heard last (a live session names it if it fails)
        self._lufs = lufs or (lambda track: music.track_lufs(track.path))
        self._gains: dict[int, np.float32] = {}
        first, last = self.tracks[0].frames, self.tracks[-1].frames
        total = sum(t.frames for t in self.tracks)
        self.crossfade = max(0, min(int(CROSSFADE_S * MIX_RATE_HZ), first, last, total // 4))

    def gain(self, index: int) -> np.float32:
        """Track ``index``'s gain to the bed's level (measured once, when the track is first heard)."""
        if index not in self._gains:
            lufs = self._lufs(self.tracks[index])
            db = 0.0 if not math.isfinite(lufs) else min(MAX_TRACK_GAIN_DB, self.level_lufs - lufs)
            self._gains[index] = np.float32(10.0 ** (db / 20.0))
        return self._gains[index]

    def envelope(self, lo: int, hi: int) -> np.ndarray:
        """The ducking plan's gain (duck times fade) for session frames ``[lo, hi)``, float32."""
        t = np.arange(lo, hi, dtype=np.float64) / MIX_RATE_HZ
        duck, fade = self.plan.duck, self.plan.fade
        db = np.interp(t, duck.times, duck.values) if duck.times else np.zeros_like(t)
        amp = np.interp(t, fade.times, fade.values) if fade.times else np.ones_like(t)
        return (np.power(10.0, db / 20.0) * amp).astype(np.float32)

    def blocks(self, start: int, end: int, block_frames: int) -> Iterator[np.ndarray]:
        """Session frames ``[start, end)`` of the bed, as float32 (frames, 2) blocks of ``block_frames``."""
        pos = start
        for out in self.raw_blocks(start, end, block_frames):
            stop = pos + out.shape[0]
            if not self.failed:
                out *= self.envelope(pos, stop)[:, None]
            yield out
            pos = stop

    def raw_blocks(self, start: int, end: int, block_frames: int) -> Generator[np.ndarray, None, None]:
        """Frames ``[start, end)`` of the levelled, looped playlist, before the ducking plan.

        A live session reads the music on its own clock (:class:`voicecoach.render.feed.MusicFeed`)
        and puts each stream's plan on it; an export takes :meth:`blocks`, the same frames times its plan.
        """
        placements = _placements(self.tracks, self.crossfade)
        pending = next(placements)
        active: list[tuple[_Placement, music.Decoder | None]] = []
        pos = start
        try:
            while pos < end:
                stop = min(pos + block_frames, end)
                out = np.zeros((stop - pos, music.CHANNELS), dtype=np.float32)
                if not self.failed:
                    while pending.start < stop:
                        if pending.end(self.tracks) > pos:
                            active.append((pending, None))
                        pending = next(placements)
                    try:
                        active = self._mix(active, out, pos, stop)
                    except (MusicError, OSError) as exc:
                        self._fail(exc, active)
                        active = []
                yield out
                pos = stop
        finally:
            for _, decoder in active:
                if decoder is not None:
                    decoder.close()

    def _mix(
        self, active: list[tuple[_Placement, music.Decoder | None]], out: np.ndarray, pos: int, stop: int
    ) -> list[tuple[_Placement, music.Decoder | None]]:
        """Add the sounding tracks' frames ``[pos, stop)`` to ``out``; the placements still sounding after."""
        kept = []
        for place, decoder in active:
            end = place.end(self.tracks)
            lo, hi = max(place.start, pos), min(end, stop)
            if lo < hi:
                self.current = self.tracks[place.track]
                if decoder is None:
                    decoder = music.Decoder(self.tracks[place.track], lo - place.start)
                x = decoder.read(hi - lo)
                x *= self.gain(place.track)
                _crossfade(x, place, lo, end)
                out[lo - pos : hi - pos] += x
            if end > stop:
                kept.append((place, decoder))
            elif decoder is not None:
                decoder.close()
        return kept

    def _fail(self, exc: BaseException, active: list[tuple[_Placement, music.Decoder | None]]) -> None:
        for _, decoder in active:
            if decoder is not None:
                decoder.close()
        if self.on_error is None:
            raise exc
        self.failed = True
        self.on_error(f"The music stopped ({exc}); the coaching goes on.")


def _crossfade(x: np.ndarray, place: _Placement, lo: int, end: int) -> None:
    """Equal-power fades over the placement's first ``fade_in`` and last ``fade_out`` frames, in place."""
    n = x.shape[0]
    if place.fade_in:
        i = np.arange(lo - place.start, lo - place.start + n)
        inside = i < place.fade_in
        if inside.any():
            u = (i[inside] + 0.5) / place.fade_in
            x[inside] *= np.sin(0.5 * np.pi * u).astype(np.float32)[:, None]
    if place.fade_out:
        left = end - np.arange(lo, lo + n)  # frames to the track's end, 1 at its last
        inside = left <= place.fade_out
        if inside.any():
            u = (left[inside] - 0.5) / place.fade_out
            x[inside] *= np.sin(0.5 * np.pi * u).astype(np.float32)[:, None]


def for_session(
    timeline: Timeline,
    tracks: Sequence[music.Track],
    *,
    target_lufs: float,
    volume_db: float = duck.MUSIC_VOLUME_DB,
    duck_db: float = duck.DUCK_DB,
    earcons: bool = True,
    on_error: Callable[[str], None] | None = None,
) -> Bed:
    """The bed of ``timeline``: at ``target_lufs + volume_db``, ducked ``duck_db`` under its cues (and earcons)."""
    from voicecoach.render.earcons import earcon

    plan = duck.plan(timeline, duck_db, earcon_s=(lambda name: earcon(name).duration_s) if earcons else None)
    return Bed(tracks, plan, target_lufs + volume_db, on_error=on_error)
