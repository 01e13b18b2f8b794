"""The outputs of a live session that follow its events: the screen, the media player, the journal.

Each is one callback on the session's :class:`~voicecoach.live.events.EventStream`; none
knows the others. The saved place is kept by :class:`voicecoach.live.keeper.PlaceKeeper`.
"""

from __future__ import annotations

from collections.abc import Callable

from voicecoach.control.commands import Action, PlayerState
from voicecoach.core import phrases
from voicecoach.core.replan import phase_at
from voicecoach.core.timeline import Chapter, Timeline
from voicecoach.live.checkin import CheckIn
from voicecoach.live.events import Event, EventType
from voicecoach.live.keeper import Trouble
from voicecoach.live.status import Output, status_text
from voicecoach.live.stream import InputsLike
from voicecoach.store.journal import JournalUnavailable


class StatusView:
    """The terminal: messages, plain lines per cue, or a status line updated in place."""

    def __init__(self, out: Output, exercises: int) -> None:
        self.out = out
        self.exercises = exercises

    def __call__(self, event: Event) -> None:
        if event.type is EventType.MESSAGE:
            self.out.message(event.text, source=event.source)
        elif event.type is EventType.CUE and event.cue is not None:
            self.out.cue(event.cue)
        elif event.type is EventType.PROGRESS:
            self.out.status(status_text(event.timeline, event.t, self.exercises))
        elif event.type is EventType.AWAITING:
            self.out.status(status_text(event.timeline, event.t, self.exercises, event.seconds))
        elif event.type is EventType.CLOSED:
            self.out.close()


class MediaView:
    """The media player's widget (MPRIS): status, the exercise as a "track", its position."""

    def __init__(self, inputs: InputsLike, album: str, exercises: int) -> None:
        self.inputs = inputs
        self.album = album
        self.exercises = exercises
        self._shown: tuple[str, str, str, str] | None = None  # the state last shown

    def __call__(self, event: Event) -> None:
        if event.type is EventType.STATE:
            self.show(event, "Paused" if event.paused else "Playing")
        elif event.type is EventType.CLOSED:
            self.show(event, "Stopped")
        elif event.type is EventType.ADJUSTED:
            self.inputs.seeked(track_position_us(event.timeline, event.t))
        elif event.type is EventType.JUMPED:
            self.inputs.seeked(0)

    def show(self, event: Event, status: str) -> None:
        timeline, t = event.timeline, event.t
        chapter = _chapter(timeline, t)
        ph = phase_at(timeline, t)
        title = chapter.title if chapter else self.album
        if ph is not None and ph.exercise_index is not None:
            title = track_title(ph.exercise_index, self.exercises, ph.exercise or "", ph.set, ph.sets, ph.side)
        track = (
            f"{ph.exercise_index}"
            if ph is not None and ph.exercise_index is not None
            else (chapter.title.lower() if chapter else "session")
        )
        artist = (
            f"voicecoach, {phrases.time_left_short(timeline.duration_s - t)}" if status != "Stopped" else "voicecoach"
        )
        key = (status, title, track, artist)
        if key == self._shown:
            return
        self._shown = key
        length_s = (chapter.end_s - chapter.start_s) if chapter else timeline.duration_s
        self.inputs.show(
            PlayerState(
                status=status,
                title=title,
                album=self.album,
                track_id=track,
                length_us=round(length_s * 1e6),
                position_us=track_position_us(timeline, t),
                artist=artist,
            )
        )


class JournalRecorder:
    """The training journal's record of the session: exercises begun and done, controls, the end.

    A journal that fails is dropped by the :class:`CheckIn`; ``report`` hears of it once.
    """

    def __init__(self, checkin: CheckIn, report: Callable[[Trouble], None]) -> None:
        self.checkin = checkin
        self.report = report

    def __call__(self, event: Event) -> None:
        c, kind = self.checkin, event.type
        if kind is EventType.PROGRESS:
            c.track(event.timeline, event.t)
        elif kind is EventType.CONTROL and event.action is not None:
            c.control(event.action, event.source, event.timeline, event.t)
        elif kind is EventType.LEFT:
            c.left(event.timeline, event.t)
        elif kind is EventType.SET_DONE and event.seconds is not None:
            c.paced(event.timeline, event.t, event.seconds)
        elif kind is EventType.STOPPED:
            c.control(Action.QUIT, event.source, event.timeline, event.t)
            c.finish(event.timeline, event.t, ended_early=True)
        elif kind is EventType.FINISHED:
            c.finish(event.timeline, event.timeline.duration_s, ended_early=False)
        elif kind is EventType.JOURNAL_LOST:
            c.journal = None
        if kind is EventType.TICK:
            self.check()

    def check(self) -> None:
        lost: JournalUnavailable | None = self.checkin.take_lost()
        if lost is not None:
            self.report(Trouble(str(lost), phrases.JOURNAL_LOST, journal=True))


def _chapter(timeline: Timeline, t: float) -> Chapter | None:
    return next((c for c in reversed(timeline.chapters) if c.start_s <= t + 1e-9), None)


def track_position_us(timeline: Timeline, t: float) -> int:
    """Microseconds into the exercise at ``t`` (the MPRIS "track")."""
    chapter = _chapter(timeline, t)
    return max(0, round((t - chapter.start_s) * 1e6)) if chapter else 0


def track_title(index: int, total: int, name: str, set_: int | None, sets: int | None, side: str | None) -> str:
    """An exercise as a media player's "track": ``Exercise 3 of 9: Bridge, set 1 of 2, right side``."""
    parts = [f"Exercise {index + 1} of {total}: {name}"]
    if set_ is not None and sets:
        parts.append(f"set {set_} of {sets}")
    if side:
        parts.append(f"{side} side")
    return ", ".join(parts)
