"""The session's level: one static gain that brings a session to its loudness target, for play and export.

Export measures the whole mix (BS.1770 integrated loudness, :mod:`voicecoach.render.loudness`)
and caches the gain beside the clips, keyed by the timeline, so the next export
and every ``play`` of the same session use the same gain and sound the same.

A live session that starts before all its phrases exist cannot measure what
is not synthesized yet, and its level must never jump mid-session. So it
plays at the cached gain when there is one, and otherwise at a gain
*estimated* from what it has when it starts (the loudness of its first words
and their earcons, measured with numpy alone, in milliseconds; the peak taken
as full scale, so nothing later can clip), kept for the whole session. When
every phrase has been made, the real level is measured in the background and
cached, so later sessions and exports use it. Sessions are usually limited by
their peak (-1 dBFS), not their loudness: with the neural voice the estimate
is the measured gain exactly; with the system voice a session may play up to
about 0.6 dB quieter the first time (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from voicecoach.atomic import write_atomic
from voicecoach.core.timeline import Timeline
from voicecoach.speech.clip import Clip

if TYPE_CHECKING:
    from voicecoach.render.session import Prepared

LEVEL_VERSION = 1
GAIN_RANGE = (0.01, 20.0)  # -40 dB to +26 dB: any level cached outside it is damaged
MEASURE_BLOCK_FRAMES = 65536


class Cancelled(Exception):
    """A measurement stopped before its end (the session ended first)."""


def _path(prepared: Prepared, earcons: bool, target_lufs: float) -> Path:
    doc = json.dumps([LEVEL_VERSION, prepared.timeline.to_json(), earcons, target_lufs], sort_keys=True)
    return Path(prepared.speaker.cache.directory) / f"{hashlib.sha256(doc.encode()).hexdigest()}.level"


def cached_gain(prepared: Prepared, *, earcons: bool = True, target_lufs: float = -16.0) -> float | None:
    """The gain measured earlier for this very timeline, if it is cached (and sane)."""
    try:
        cached = float(_path(prepared, earcons, target_lufs).read_text())
    except (OSError, ValueError):
        return None
    # A damaged entry ("nan", 0, 100) must not make a silent or deafening session.
    return cached if math.isfinite(cached) and GAIN_RANGE[0] <= cached <= GAIN_RANGE[1] else None


def store_gain(prepared: Prepared, gain: float, *, earcons: bool = True, target_lufs: float = -16.0) -> None:
    try:  # a cache that cannot be written only costs time next run
        write_atomic(_path(prepared, earcons, target_lufs), repr(gain))
    except OSError:
        pass


def session_gain(prepared: Prepared, *, earcons: bool = True, target_lufs: float = -16.0,
                 cancelled: Callable[[], bool] | None = None) -> float:
    """The static gain that brings this (complete) session to ``target_lufs``, shared by play and export.

    Measuring means mixing the whole session once (about 2000x real time), so
    the result is kept beside the clip cache, keyed by the timeline: a warm
    session starts without measuring. ``cancelled`` is polled while measuring
    (:class:`Cancelled` when it says so).
    """
    cached = cached_gain(prepared, earcons=earcons, target_lufs=target_lufs)
    if cached is not None:
        return cached
    from voicecoach.render import loudness, mix  # scipy: only when measuring (its import alone takes ~0.6 s)

    blocks = mix.blocks(prepared.timeline, prepared.clips, earcons=earcons, block_frames=MEASURE_BLOCK_FRAMES)
    gain = loudness.gain_for(_until(blocks, cancelled), target_lufs)
    store_gain(prepared, gain, earcons=earcons, target_lufs=target_lufs)
    return gain


def _until(blocks: Iterable[np.ndarray], cancelled: Callable[[], bool] | None) -> Iterator[np.ndarray]:
    for block in blocks:
        if cancelled is not None and cancelled():
            raise Cancelled
        yield block


def estimated_gain(segments: Iterable[tuple[Timeline, Mapping[str, Clip], float]], *, earcons: bool = True,
                   target_lufs: float = -16.0) -> float:
    """A gain for a session not yet synthesized: its loudness from its first ``segments`` ((timeline, clips,
    end_s): what will be heard first), mixed one after another and measured with numpy alone.

    The peak cannot be estimated safely (the loudest sample may be in a phrase
    not yet made, and a gain too high would clip it), so it is taken as full
    scale, the most a measured mix can have: the gain never exceeds the one
    that keeps a full-scale sample at the -1 dBFS ceiling. Sessions whose peak
    does reach full scale (the neural voice's) then get exactly their measured
    gain; others play a little quieter than their export at most.
    """
    from voicecoach.render import loudness, mix

    audio = [block for timeline, clips, end_s in segments
             for block in mix.blocks(timeline, clips, earcons=earcons, end_s=end_s, block_frames=MEASURE_BLOCK_FRAMES)]
    measured = loudness.quick_measure(np.concatenate(audio)) if audio else None
    lufs = measured.integrated_lufs if measured is not None else -math.inf
    return loudness.gain_from(loudness.Measurement(lufs, 1.0, 0), target_lufs)
