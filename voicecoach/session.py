"""Prepare a session: plan + options + voice -> timeline with real clip lengths, and its clips.

Shared by ``show``, ``export`` and ``play`` so that all three agree to the
sample on what is said when.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from voicecoach.clip import Clip
from voicecoach.plan import Plan
from voicecoach.schedule import Options, build_timeline, estimate_speech_s
from voicecoach.speech import Speaker, SpeechSettings
from voicecoach.timeline import Timeline

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Prepared:
    plan: Plan
    options: Options
    timeline: Timeline
    clips: dict[str, Clip]
    speaker: Speaker

    def clips_for(self, timeline: Timeline) -> dict[str, Clip]:
        """Clips for another timeline's phrases (spoken confirmations), from the cache."""
        return {t: self.clips.get(t) or self.speaker.clip(t) for t in timeline.texts()}

    def replan(self, options: Options) -> Prepared:
        """The same plan and voice with new options (live controls): clips come from the cache."""
        timeline = build_timeline(self.plan, options, self.speaker.length_s)
        clips = {**self.clips, **{t: self.speaker.clip(t) for t in timeline.texts() if t not in self.clips}}
        return Prepared(self.plan, options, timeline, clips, self.speaker)


def prepare(plan: Plan, options: Options, settings: SpeechSettings, *, progress: Progress | None = None,
            speaker: Speaker | None = None, extra_texts: Sequence[str] = ()) -> Prepared:
    """Synthesize (or fetch from the cache) every phrase, then schedule with the true lengths.

    Phrases are first gathered from a timeline scheduled with estimated lengths,
    so they can be synthesized in one batch with progress; any phrase the real
    schedule needs beyond those (a cue the estimate had dropped) is made on demand.
    ``extra_texts`` (a live session's spoken confirmations) join the batch, so
    no control has to wait for synthesis.
    """
    speaker = speaker or Speaker(settings)
    estimated = build_timeline(plan, options, estimate_speech_s)
    speaker.clips([*estimated.texts(), *extra_texts], progress=progress)
    timeline = build_timeline(plan, options, speaker.length_s)
    clips = {t: speaker.clip(t) for t in timeline.texts()}
    return Prepared(plan, options, timeline, clips, speaker)
