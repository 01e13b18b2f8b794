"""Prepare a session: plan + options + voice -> timeline with real clip lengths, and its clips.

Shared by ``show``, ``export`` and ``play`` so that all three agree to the
sample on what is said when.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voicecoach.atomic import write_atomic
from voicecoach.core.plan import Plan
from voicecoach.core.schedule import Options, build_timeline, estimate_speech_s
from voicecoach.core.timeline import Timeline
from voicecoach.speech.clip import Clip
from voicecoach.speech.speaker import Speaker, SpeechSettings

if TYPE_CHECKING:
    from voicecoach.render.loudness import Level

Progress = Callable[[int, int], None]


class SpeakerClips(Mapping[str, Clip]):
    """A session's clips, read through the speaker when the mixer reaches them.

    The mixer asks for each clip once, when it starts to sound, so memory
    holds the few clips sounding now (and the speaker's small LRU), never the
    whole session's audio.
    """

    def __init__(self, speaker: Speaker, texts: Sequence[str]) -> None:
        self.speaker = speaker
        self.texts = tuple(dict.fromkeys(texts))

    def __getitem__(self, text: str) -> Clip:
        return self.speaker.clip(text)

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class Prepared:
    plan: Plan
    options: Options
    timeline: Timeline
    speaker: Speaker

    @property
    def clips(self) -> SpeakerClips:
        """The clips of this timeline's phrases, loaded when used."""
        return self.clips_for(self.timeline)

    def clips_for(self, timeline: Timeline) -> SpeakerClips:
        """Clips for any timeline in this voice (spoken confirmations too), from the cache."""
        return SpeakerClips(self.speaker, timeline.texts())

    def replan(self, options: Options) -> Prepared:
        """The same plan and voice with new options (live controls): lengths come from the cache."""
        return Prepared(self.plan, options, build_timeline(self.plan, options, self.speaker.length_s), self.speaker)


def prepare(plan: Plan, options: Options, settings: SpeechSettings, *, progress: Progress | None = None,
            speaker: Speaker | None = None, extra_texts: Sequence[str] = ()) -> Prepared:
    """Synthesize (or fetch from the cache) every phrase, then schedule with the true lengths.

    Phrases are first gathered from a timeline scheduled with estimated lengths,
    so they can be synthesized in one batch with progress; any phrase the real
    schedule needs beyond those (a cue the estimate had dropped) is made on demand.
    ``extra_texts`` (a live session's spoken confirmations) join the batch, so
    no control has to wait for synthesis. When anything had to be synthesized,
    the session's loudness level is measured and cached too.
    """
    speaker = speaker or Speaker(settings)
    estimated = build_timeline(plan, options, estimate_speech_s)
    made = speaker.synthesized
    speaker.prefetch([*estimated.texts(), *extra_texts], progress=progress)
    prepared = Prepared(plan, options, build_timeline(plan, options, speaker.length_s), speaker)
    if speaker.synthesized > made:
        # New phrases mean a session not heard before: measure its level now, while
        # synthesis dominates anyway, so the next play starts at once (default level).
        session_gain(prepared)
    return prepared


LEVEL_VERSION = 3  # 3: the gain is found with the true-peak limiter (ceiling -2 dBTP) on
GAIN_RANGE = (0.01, 20.0)  # -40 dB to +26 dB: any level cached outside it is damaged


def session_gain(prepared: Prepared, *, earcons: bool = True, target_lufs: float = -16.0) -> float:
    """The gain that brings this session to ``target_lufs``, shared by play and export (see :func:`session_level`)."""
    return session_level(prepared, earcons=earcons, target_lufs=target_lufs).gain


def session_level(prepared: Prepared, *, earcons: bool = True, target_lufs: float = -16.0) -> Level:
    """The session's gain and the loudness it reaches, through the limiter both play and export apply.

    Measuring means mixing the whole session a few times (about 1500x real
    time each), so the result is kept beside the clip cache, keyed by the
    timeline: a warm session starts without measuring. Live controls keep
    the first gain, so the level never jumps.
    """
    from voicecoach.render.loudness import Level

    doc = json.dumps([LEVEL_VERSION, prepared.timeline.to_json(), earcons, target_lufs], sort_keys=True)
    path = Path(prepared.speaker.cache.directory) / f"{hashlib.sha256(doc.encode()).hexdigest()}.level"
    try:
        gain_text, lufs_text = path.read_text().split()
        cached, lufs = float(gain_text), float(lufs_text)
        # A damaged entry ("nan", 0, 100) must not make a silent or deafening session.
        if math.isfinite(cached) and GAIN_RANGE[0] <= cached <= GAIN_RANGE[1] and not math.isnan(lufs):
            prepared.speaker.cache.touch(path)  # recently used: the cache's trim keeps it longer
            return Level(cached, lufs)
    except (OSError, ValueError):
        pass
    from voicecoach.render import (
        loudness,
        mix,  # scipy: only when measuring (its import alone takes ~0.5 s)
    )

    level = loudness.level_for(
        lambda gain, limit: mix.blocks(prepared.timeline, prepared.clips, earcons=earcons, block_frames=65536,
                                       gain=gain, limit=limit), target_lufs)
    try:  # a cache that cannot be written only costs time next run
        write_atomic(path, f"{level.gain!r} {level.lufs!r}")
    except OSError:
        pass
    return level
