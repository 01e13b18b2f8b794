"""The place keeper: saves where a live session is, so ``play --resume`` continues there.

It follows the session's events: a new exercise, set or side is saved as it starts; a
stop saves the exact place; a finished session clears it. Places live in the training
journal (:class:`voicecoach.store.places.PlaceStore`), so without a journal (it could
not be opened, or failed mid-session) no place is kept, and :attr:`PlaceKeeper.keeping`
says so: the stop message never claims a place that was not saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voicecoach.core import phrases
from voicecoach.core.replan import phase_at
from voicecoach.core.timeline import Timeline
from voicecoach.live.events import Event, EventType
from voicecoach.store.journal import JournalUnavailable
from voicecoach.store.places import PlaceStore, Saved


@dataclass(frozen=True)
class Trouble:
    """An output that failed mid-session: one line to print, words to say; the session goes on."""

    printed: str
    spoken: str
    journal: bool = False  # the journal itself failed: nothing more is recorded either


class PlaceKeeper:
    """Subscribes to a session's events; ``report`` gets a :class:`Trouble` once if saving fails."""

    def __init__(self, store: PlaceStore | None, plan_key: str, report: Callable[[Trouble], None]) -> None:
        # Without a journal there is nowhere to keep a place: never claim one.
        self.store = store if store is not None and store.journal is not None else None
        self.plan_key = plan_key
        self.report = report
        self._saved: tuple[int, int | None, str | None] | None = None

    @property
    def keeping(self) -> bool:
        """Places are being saved (the last write, if any, succeeded)."""
        return self.store is not None

    def __call__(self, event: Event) -> None:
        if event.type is EventType.PROGRESS:
            self.save(event.timeline, event.t)
        elif event.type is EventType.JUMPED:
            self._saved = None  # the new exercise is saved even if it has the same set and side
        elif event.type is EventType.STOPPED:
            self.save(event.timeline, event.t, force=True)  # where it is now, even if the last save was cut off
        elif event.type is EventType.FINISHED:
            self.clear()
        elif event.type is EventType.JOURNAL_LOST:
            self.store = None  # the same file: no place can be saved either

    def save(self, timeline: Timeline, t: float, *, force: bool = False) -> None:
        ph = phase_at(timeline, t)
        if ph is not None and ph.exercise_index is None and force:
            # Stopping in the introduction or a rest: the place is the exercise that comes next.
            ph = next((q for q in timeline.phases if q.exercise_index is not None and q.start_s >= t), None)
        if self.store is None or ph is None or ph.exercise_index is None:
            return
        key = (ph.exercise_index, ph.set, ph.side)
        if key == self._saved and not force:
            return
        try:
            self.store.save(self.plan_key, Saved(ph.exercise_index, ph.exercise or "", ph.set, ph.side))
            self._saved = key  # only once written: an interrupted write is tried again
        except JournalUnavailable as exc:
            self.store = None
            self.report(Trouble(str(exc), phrases.JOURNAL_LOST, journal=True))
        except OSError as exc:
            # Saving the place must never end a session: say so once and go on without it.
            self.store = None
            where = f": {exc.filename}" if exc.filename else ""
            self.report(
                Trouble(f"{phrases.CANNOT_SAVE_PLACE} ({exc.strerror or exc}{where})", phrases.CANNOT_SAVE_PLACE)
            )

    def clear(self) -> None:
        if self.store is not None:
            try:
                self.store.clear(self.plan_key)
            except (OSError, JournalUnavailable):
                pass
