"""Prepare a session: plan + options + voice -> timeline with real clip lengths, and its clips.

Shared by ``show``, ``export`` and ``play`` so that all three agree to the
sample on what is said when. Three ways to get there:

* :func:`prepare`: every phrase first, then the timeline (``show``);
* :func:`prepare_measured`: every phrase, with the session's loudness measured
  on the part that is final while the voice makes the rest (``export``);
* :class:`LiveStart`: the first words only; the rest is synthesized in the
  background while the session plays (``play``). Its :class:`Prepared` is
  *partial*: final up to :attr:`Prepared.horizon_s`, and :meth:`Prepared.refresh`
  moves the horizon on as phrases arrive (see :mod:`voicecoach.core.parts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voicecoach.core import phrases
from voicecoach.core.configrules import DEFAULT_LOUDNESS_LUFS
from voicecoach.core.parts import Part, part_start, partial_timeline, parts
from voicecoach.core.plan import Plan
from voicecoach.core.schedule import GAP_S, Options, build_timeline, estimate_speech_s
from voicecoach.core.timeline import Cue, Timeline
from voicecoach.render.level import (
    RawMeter,
    cached_gain,
    estimated_gain,
    session_gain,
    session_level,
)
from voicecoach.speech.ahead import Ahead
from voicecoach.speech.clip import Clip
from voicecoach.speech.speaker import Speaker, SpeechSettings

__all__ = [
    "LiveStart",
    "Prepared",
    "SpeakerClips",
    "live_gain",
    "prepare",
    "prepare_measured",
    "session_gain",
    "session_level",
    "start_live",
]

Progress = Callable[[int, int], None]
QUICK_CHARS = 40  # control answers this short are made early in a live session
ESTIMATE_S = 30.0  # a live session's level is estimated from at most this much of its start


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
    """A session ready to mix: complete, or (live, with ``ahead`` synthesizing) final up to :attr:`horizon_s`."""

    plan: Plan
    options: Options
    timeline: Timeline
    speaker: Speaker
    ahead: Ahead | None = None  # phrases still being made in the background
    parts: tuple[Part, ...] = ()
    ready: int = 0  # leading parts whose phrases are all made

    @property
    def complete(self) -> bool:
        """Every phrase is known: the whole timeline is final."""
        return self.ahead is None or self.ready >= len(self.parts)

    @property
    def next_part(self) -> Part | None:
        """The first part still waiting for phrases (None when complete)."""
        return None if self.complete else self.parts[self.ready]

    @property
    def horizon_s(self) -> float:
        """Up to when the timeline is final: the start of the next part, or the end."""
        part = self.next_part
        return self.timeline.duration_s if part is None else part_start(self.timeline, part)

    @property
    def clips(self) -> SpeakerClips:
        """The clips of this timeline's phrases, loaded when used."""
        return self.clips_for(self.timeline)

    def clips_for(self, timeline: Timeline) -> SpeakerClips:
        """Clips for any timeline in this voice (spoken confirmations too), from the cache."""
        return SpeakerClips(self.speaker, timeline.texts())

    def replan(self, options: Options) -> Prepared:
        """The same plan and voice with new options (live controls): lengths come from the cache.

        A partial session asks for the new schedule's phrases first and stays partial.
        """
        if self.ahead is None:
            return Prepared(self.plan, options, build_timeline(self.plan, options, self.speaker.length_s), self.speaker)
        new_parts = parts(self.plan, options)
        self.ahead.prioritize(t for part in new_parts for t in part.texts)
        return _partial(self.plan, options, self.speaker, self.ahead, new_parts)

    def refresh(self) -> Prepared:
        """This session knowing the phrases made since (itself when nothing new is final).

        Raises the voice's error if the background synthesis failed.
        """
        part = self.next_part
        if part is None or self.ahead is None or not self.ahead.ready(part.texts):
            return self
        return _partial(self.plan, self.options, self.speaker, self.ahead, self.parts)


def _partial(plan: Plan, options: Options, speaker: Speaker, ahead: Ahead, session_parts: tuple[Part, ...]) -> Prepared:
    timeline, ready = partial_timeline(plan, options, speaker.known_length, session_parts)
    return Prepared(plan, options, timeline, speaker, ahead, session_parts, ready)


def prepare(
    plan: Plan,
    options: Options,
    settings: SpeechSettings,
    *,
    progress: Progress | None = None,
    speaker: Speaker | None = None,
    extra_texts: Sequence[str] = (),
) -> Prepared:
    """Synthesize (or fetch from the cache) every phrase, then schedule with the true lengths.

    Phrases are first gathered from a timeline scheduled with estimated lengths,
    so they can be synthesized in one batch with progress; any phrase the real
    schedule needs beyond those (a cue the estimate had dropped) is made on demand.
    ``extra_texts`` join the batch. When anything had to be synthesized, the
    session's loudness level is measured and cached too.
    """
    speaker = speaker or Speaker(settings)
    estimated = build_timeline(plan, options, estimate_speech_s)
    made = speaker.synthesized
    speaker.prefetch([*estimated.texts(), *extra_texts], progress=progress)
    prepared = Prepared(plan, options, build_timeline(plan, options, speaker.length_s), speaker)
    if speaker.synthesized > made:
        # New phrases mean a session not heard before: measure its level now, while
        # synthesis dominates anyway, so the next play starts at the measured level.
        session_gain(prepared)
    return prepared


def prepare_measured(
    plan: Plan,
    options: Options,
    settings: SpeechSettings,
    *,
    earcons: bool = True,
    target_lufs: float = DEFAULT_LOUDNESS_LUFS,
    progress: Progress | None = None,
    speaker: Speaker | None = None,
) -> tuple[Prepared, float]:
    """Every phrase synthesized, and the session's gain (:func:`session_gain`, to the last bit).

    The phrases are made in the order they are heard, on as many threads as
    the voice can use, while this thread measures the raw loudness of the
    part of the session that is already final (:class:`RawMeter`, the first
    of the level's passes). The passes through the limiter need the whole
    session: they follow once every phrase exists. Either way the gain (and
    the exported audio) is exactly what a warm export gets.
    """
    speaker = speaker or Speaker(settings)
    session_parts = parts(plan, options)
    texts = list(dict.fromkeys(t for part in session_parts for t in part.texts))
    raw = RawMeter(earcons=earcons)
    with Ahead(speaker, texts).start() as ahead:
        made = -1
        prepared = _partial(plan, options, speaker, ahead, session_parts)
        while not prepared.complete:
            raw.feed(prepared.timeline, prepared.clips, prepared.horizon_s)
            made = ahead.wait_progress(made, timeout_s=0.5)
            if progress is not None:
                progress(min(ahead.made, len(texts)), len(texts))
            prepared = prepared.refresh()
    if progress is not None:
        progress(len(texts), len(texts))
    complete = Prepared(plan, options, prepared.timeline, speaker)
    gain = cached_gain(complete, earcons=earcons, target_lufs=target_lufs)
    if gain is not None:
        return complete, gain
    # The raw pass's rest (all of it when every phrase was cached), then the passes through the limiter.
    raw_lufs = raw.finish(complete.timeline, complete.clips)
    return complete, session_gain(complete, earcons=earcons, target_lufs=target_lufs, raw_lufs=raw_lufs)


class LiveStart:
    """A live session's voice, started at once: its phrases are made in the background, in the order heard.

    ``first``: what is said before the session (notes, the keys hint); then
    ``soon`` (said next, not waited for: a check-in's first question), then
    the session's first part (its introduction). "One moment." comes next
    (said if synthesis ever falls behind), then the next two parts, the
    short phrases of ``later`` (the live controls' answers), the rest of the
    session in order and the long phrases of ``later``. Once the first words
    exist, one thread makes the rest. When every phrase is made, the
    session's real level is measured and cached for the next session (this
    one keeps the level it started with). Creating it returns at once (the
    caller opens the sound device meanwhile); :meth:`prepared` waits for the
    first words. :meth:`close` it when the session ends.
    """

    def __init__(
        self,
        plan: Plan,
        options: Options,
        settings: SpeechSettings,
        *,
        first: Sequence[str] = (),
        soon: Sequence[str] = (),
        later: Sequence[str] = (),
        earcons: bool = True,
        target_lufs: float = DEFAULT_LOUDNESS_LUFS,
        speaker: Speaker | None = None,
    ) -> None:
        self.plan, self.options, self.first = plan, options, list(first)
        self.speaker = speaker = speaker or Speaker(settings)
        self.parts = parts(plan, options)

        def texts(chosen: Sequence[Part]) -> list[str]:
            return [t for part in chosen for t in part.texts]

        # ``soon``: what follows the first words before the session (a check-in's question), made
        # beside them on the voice's second thread, so it is ready when they end.
        urgent = [*self.first, *soon, *texts(self.parts[:1])]
        # The session comes first; short answers to controls after its first exercise, long ones (help) last:
        # a control whose words are not made yet makes them on the spot (a fraction of a second).
        quick, slow = [t for t in later if len(t) <= QUICK_CHARS], [t for t in later if len(t) > QUICK_CHARS]
        order = [*urgent, phrases.ONE_MOMENT, *texts(self.parts[1:3]), *quick, *texts(self.parts[3:]), *slow]

        def measure_level() -> None:
            whole = Prepared(plan, options, build_timeline(plan, options, speaker.length_s), speaker)
            try:
                session_gain(whole, earcons=earcons, target_lufs=target_lufs, cancelled=lambda: self.ahead.closed)
            except Exception:  # measuring only ever saves the next session some time
                pass

        self.ahead = Ahead(speaker, order, urgent=len(urgent), background=True, on_idle=measure_level).start()

    def prepared(self) -> Prepared:
        """The session as soon as its first words exist: what is said before it, else its introduction.

        The introduction is usually made while the words before it are heard;
        if not, the session waits for it like for any part.
        """
        self.ahead.wait(self.first or self.parts[0].texts)
        return _partial(self.plan, self.options, self.speaker, self.ahead, self.parts)

    def close(self) -> None:
        self.ahead.close()


def start_live(plan: Plan, options: Options, settings: SpeechSettings, **kwargs: Any) -> Prepared:
    """:class:`LiveStart` and its first words at once (close ``prepared.ahead`` when done)."""
    live = LiveStart(plan, options, settings, **kwargs)
    try:
        return live.prepared()
    except BaseException:
        live.close()
        raise


def live_gain(
    prepared: Prepared, first: Sequence[str] = (), *, earcons: bool = True, target_lufs: float = DEFAULT_LOUDNESS_LUFS
) -> float:
    """The gain a live session plays at, for its whole length (the level never jumps).

    The session's measured level when it is cached (then live sounds exactly
    like the export); otherwise an estimate from what is heard first: the
    words in ``first``, then the session up to its horizon (at most
    ``ESTIMATE_S``).
    """
    if prepared.complete:
        cached = cached_gain(prepared, earcons=earcons, target_lufs=target_lufs)
        if cached is not None:
            return cached
    cues, t = [], 0.0
    for text in first:
        n = prepared.speaker.length_s(text)
        cues.append(Cue(t, t + n, "intro", text))
        t += n + GAP_S
    said = Timeline("", t, tuple(cues))
    return estimated_gain(
        [
            (said, prepared.clips_for(said), said.duration_s),
            (prepared.timeline, prepared.clips, min(prepared.horizon_s, ESTIMATE_S)),
        ],
        earcons=earcons,
        target_lufs=target_lufs,
    )
