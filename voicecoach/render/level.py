"""The session's level: one static gain that brings a session to its loudness target, for play and export.

Export measures the whole mix through the true-peak limiter (BS.1770 integrated
loudness, :mod:`voicecoach.render.loudness`, :mod:`voicecoach.render.limiter`)
and caches the gain and the loudness reached beside the clips, keyed by the timeline, so the next export
and every ``play`` of the same session use the same gain and sound the same.

A live session that starts before all its phrases exist cannot measure what
is not synthesized yet, and its level must never jump mid-session. So it
plays at the cached gain when there is one, and otherwise at a gain
*estimated* the same way from what it has when it starts (its first words and
their earcons, through the limiter, measured with numpy alone, in
milliseconds), kept for the whole session. When every phrase has been made,
the real level is measured in the background and cached, so later sessions
and exports use it. The estimate is off by how much the first words'
loudness differs from the whole session's (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from voicecoach.atomic import write_atomic
from voicecoach.core.configrules import DEFAULT_LOUDNESS_LUFS
from voicecoach.core.timeline import Timeline
from voicecoach.speech.cache import read_regular
from voicecoach.speech.clip import MIX_RATE_HZ, Clip

if TYPE_CHECKING:
    from voicecoach.render.loudness import Level


class Prepared(Protocol):
    """What measuring needs of a prepared session (:class:`voicecoach.render.prepare.Prepared`)."""

    @property
    def timeline(self) -> Timeline: ...
    @property
    def speaker(self) -> Any: ...
    @property
    def clips(self) -> Mapping[str, Clip]: ...


LEVEL_VERSION = 3  # 3: the gain is found with the true-peak limiter (ceiling -2 dBTP) on
GAIN_RANGE = (0.01, 20.0)  # -40 dB to +26 dB: any level cached outside it is damaged
MEASURE_BLOCK_FRAMES = 65536


class Cancelled(Exception):
    """A measurement stopped before its end (the session ended first)."""


def _path(prepared: Prepared, earcons: bool, target_lufs: float) -> Path:
    doc = json.dumps([LEVEL_VERSION, prepared.timeline.to_json(), earcons, target_lufs], sort_keys=True)
    return Path(prepared.speaker.cache.directory) / f"{hashlib.sha256(doc.encode()).hexdigest()}.level"


def cached_level(
    prepared: Prepared, *, earcons: bool = True, target_lufs: float = DEFAULT_LOUDNESS_LUFS
) -> Level | None:
    """The level measured earlier for this very timeline, if it is cached (and sane)."""
    from voicecoach.render.loudness import Level

    path = _path(prepared, earcons, target_lufs)
    data = read_regular(path, 256)  # "gain lufs": a bigger file (or a link to /dev/zero) is damaged, never read
    try:
        gain_text, lufs_text = (data or b"").decode("ascii").split()
        cached, lufs = float(gain_text), float(lufs_text)
    except ValueError:  # UnicodeDecodeError too
        return None
    # A damaged entry ("nan", 0, 100) must not make a silent or deafening session.
    if not (math.isfinite(cached) and GAIN_RANGE[0] <= cached <= GAIN_RANGE[1] and not math.isnan(lufs)):
        return None
    prepared.speaker.cache.touch(path)  # recently used: the cache's trim keeps it longer
    return Level(cached, lufs)


def cached_gain(
    prepared: Prepared, *, earcons: bool = True, target_lufs: float = DEFAULT_LOUDNESS_LUFS
) -> float | None:
    """The gain of :func:`cached_level`, if there is one."""
    level = cached_level(prepared, earcons=earcons, target_lufs=target_lufs)
    return None if level is None else level.gain


def store_level(
    prepared: Prepared, level: Level, *, earcons: bool = True, target_lufs: float = DEFAULT_LOUDNESS_LUFS
) -> None:
    try:  # a cache that cannot be written only costs time next run
        write_atomic(_path(prepared, earcons, target_lufs), f"{level.gain!r} {level.lufs!r}")
    except OSError:
        pass


def session_level(
    prepared: Prepared,
    *,
    earcons: bool = True,
    target_lufs: float = DEFAULT_LOUDNESS_LUFS,
    cancelled: Callable[[], bool] | None = None,
    raw_lufs: float | None = None,
) -> Level:
    """The (complete) session's gain and the loudness it reaches, through the limiter play and export apply.

    Measuring means mixing the whole session a few times (about 1500x real
    time each), so the result is kept beside the clip cache, keyed by the
    timeline: a warm session starts without measuring. ``cancelled`` is
    polled while measuring (:class:`Cancelled` when it says so). ``raw_lufs``:
    the first pass's result (the raw mix's loudness), when a :class:`RawMeter`
    measured it already.
    """
    found = cached_level(prepared, earcons=earcons, target_lufs=target_lufs)
    if found is not None:
        return found
    from voicecoach.render import loudness, mix  # scipy: only when measuring (its import alone takes ~0.6 s)

    def render(gain: float, limit: bool) -> Iterator[np.ndarray]:
        blocks = mix.blocks(
            prepared.timeline,
            prepared.clips,
            earcons=earcons,
            block_frames=MEASURE_BLOCK_FRAMES,
            gain=gain,
            limit=limit,
        )
        return _until(blocks, cancelled)

    level = loudness.level_for(render, target_lufs, raw_lufs=raw_lufs)
    store_level(prepared, level, earcons=earcons, target_lufs=target_lufs)
    return level


def session_gain(
    prepared: Prepared,
    *,
    earcons: bool = True,
    target_lufs: float = DEFAULT_LOUDNESS_LUFS,
    cancelled: Callable[[], bool] | None = None,
    raw_lufs: float | None = None,
) -> float:
    """The static gain that brings this (complete) session to ``target_lufs`` (see :func:`session_level`)."""
    return session_level(
        prepared, earcons=earcons, target_lufs=target_lufs, cancelled=cancelled, raw_lufs=raw_lufs
    ).gain


class RawMeter:
    """The first pass of :func:`session_level` (the raw mix's loudness), measured as a session becomes final.

    An export's phrases are made in the order heard, so the session is final
    up to a point that moves on while the voice works: :meth:`feed` measures
    up to there in the meantime, and :meth:`finish` the rest once every
    phrase exists. The measuring blocks are the ones :func:`session_level`
    mixes (whole :data:`MEASURE_BLOCK_FRAMES` from frame 0, and every sample
    before the point is final), so the result is the same to the last bit.
    """

    def __init__(self, *, earcons: bool = True) -> None:
        self.earcons = earcons
        self.measured = 0  # frames measured: a whole number of measuring blocks until finish()
        self._meter: Any = None

    def feed(self, timeline: Timeline, clips: Mapping[str, Clip], final_s: float) -> None:
        """Measure ``timeline`` (final up to ``final_s``) from where the last call stopped, in whole blocks."""
        final = int(round(final_s * MIX_RATE_HZ)) // MEASURE_BLOCK_FRAMES * MEASURE_BLOCK_FRAMES
        if final > self.measured:
            self._measure(timeline, clips, final)

    def finish(self, timeline: Timeline, clips: Mapping[str, Clip]) -> float:
        """The complete session's raw loudness (LUFS): the rest of it measured."""
        self._measure(timeline, clips, None)
        return float(self._meter.integrated_lufs())

    def _measure(self, timeline: Timeline, clips: Mapping[str, Clip], end: int | None) -> None:
        from voicecoach.render import loudness, mix  # scipy's import overlaps the voice's work too

        if self._meter is None:
            self._meter = loudness.LoudnessMeter(MIX_RATE_HZ)
        for block in mix.blocks(
            timeline,
            clips,
            earcons=self.earcons,
            start_s=self.measured / MIX_RATE_HZ,
            end_s=None if end is None else end / MIX_RATE_HZ,
            block_frames=MEASURE_BLOCK_FRAMES,
            limit=False,
        ):
            self._meter.feed(block)
            self.measured += block.shape[0]


def _until(blocks: Iterable[np.ndarray], cancelled: Callable[[], bool] | None) -> Iterator[np.ndarray]:
    for block in blocks:
        if cancelled is not None and cancelled():
            raise Cancelled
        yield block


def estimated_gain(
    segments: Iterable[tuple[Timeline, Mapping[str, Clip], float]],
    *,
    earcons: bool = True,
    target_lufs: float = DEFAULT_LOUDNESS_LUFS,
) -> float:
    """A gain for a session not yet synthesized, found as an export finds it, on its first ``segments``.

    ``segments``: (timeline, clips, end_s), what will be heard first, mixed one
    after another. The gain that brings *them* through the true-peak limiter to
    ``target_lufs`` (:func:`~voicecoach.render.loudness.level_for`, measured with
    numpy alone: scipy's import would delay the first word). The limiter keeps
    every later peak under its ceiling whatever the gain, so the estimate need not
    guess the session's peak; it misses the measured level only by how much the
    first words' loudness differs from the whole session's (docs/benchmarks.md).
    """
    from voicecoach.render import loudness, mix

    parts = list(segments)

    def render(gain: float, limit: bool) -> Iterator[np.ndarray]:
        for timeline, clips, end_s in parts:
            yield from mix.blocks(
                timeline, clips, earcons=earcons, end_s=end_s, block_frames=MEASURE_BLOCK_FRAMES, gain=gain, limit=limit
            )

    def quick(blocks: Iterable[np.ndarray]) -> loudness.Measurement:
        audio = list(blocks)
        return loudness.quick_measure(np.concatenate(audio)) if audio else loudness.Measurement(-math.inf, 0.0, 0)

    return loudness.level_for(render, target_lufs, measure=quick).gain
