"""The phone page's view of a live session (``play --remote``): events in, the page's state out.

:class:`PhoneView` is one more subscriber of the session's event stream, like the media
player's widget. It keeps what the page shows (the program, the exercise with its set and
side, what the coach is doing and how long is left, what comes next, a question and its
answers, how the session ended) and hands it to a
:class:`~voicecoach.control.remote.Screen` when it changes. Time left is sent as a number of
seconds with ``running``; the page counts down by itself, so the state is sent again only
when something else changes or the page's count would be off by more than
:data:`DRIFT_S` (after a spoken confirmation, which holds the session clock). In a set at
your own pace there is no time left: the time spent so far is sent instead (``spent_s``),
and the page counts it up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from voicecoach.control.remote import Screen
from voicecoach.core.replan import phase_at
from voicecoach.core.timeline import Phase, Timeline
from voicecoach.live.events import Event, EventType

DRIFT_S = 0.5  # the page's countdown may be this far off before the state is sent again

LABELS = {
    "intro": "Introduction",
    "setup": "Get ready",
    "hold": "Hold",
    "reps": "Repetitions",
    "timed": "Keep going",
    "rest": "Rest",
    "switch": "Switch sides",
    "end": "Finishing",
}
_COUNTED = ("setup", "hold", "reps", "timed", "rest", "switch")  # phases with a countdown
_ACTIVE = ("hold", "reps", "timed")
OWN_PACE_LABEL = "At your own pace"
_QUIET = (EventType.TICK, EventType.CUE, EventType.MESSAGE, EventType.CONTROL, EventType.PROGRESS)


class PhoneView:
    """Follows the session's events and publishes the page's state to ``screen``."""

    def __init__(
        self, screen: Screen, program: str, exercises: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.screen = screen
        self.program = program
        self.exercises = exercises
        self.clock = clock
        self.status = "starting"
        self.question: dict[str, Any] | None = None
        self.end = ""
        self.exercise: dict[str, Any] | None = None  # the last exercise seen (the page keeps showing it)
        self.awaiting = False  # the coach waits for "done" (a set at your own pace): the page shows Done
        self.spent_s: float | None = None  # ... and the time spent on that set so far (pauses not counted)
        self._timeline: Timeline | None = None
        self._t = 0.0
        self._sent: dict[str, Any] | None = None
        self._sent_at = 0.0

    def __call__(self, event: Event) -> None:
        kind = event.type
        if kind in _QUIET:
            return
        if kind in (EventType.STATE, EventType.PLACE, EventType.ADJUSTED, EventType.JUMPED, EventType.WAITING):
            self._timeline, self._t = event.timeline, event.t
            if self.question is None and not self.end:
                self.status = "paused" if event.paused else "playing"
        elif kind is EventType.PAUSED or kind is EventType.HURT:
            self._timeline, self._t, self.status = event.timeline, event.t, "paused"
        elif kind is EventType.RESUMED:
            self._timeline, self._t, self.status = event.timeline, event.t, "playing"
        elif kind is EventType.AWAITING:
            self.awaiting, self.spent_s = True, event.seconds
        elif kind is EventType.SET_DONE:
            self.awaiting, self.spent_s = False, None
        elif kind is EventType.ASKED:
            self.question = {"text": event.text, "choices": list(event.choices)}
        elif kind is EventType.ANSWERED:
            self.question = None
        elif kind is EventType.FINISHED:
            self.end, self.status = "Session complete.", "complete"
        elif kind is EventType.STOPPED:
            self._timeline, self._t = event.timeline, event.t
            self._stopped()
        elif kind is EventType.CLOSED and not self.end:
            self._stopped()
        if kind in (EventType.JUMPED, EventType.STOPPED, EventType.CLOSED):
            self.awaiting, self.spent_s = False, None  # a move or a stop ends the wait
        if kind is EventType.CLOSED:
            self.question = None
        # The wait's own event comes every turn: sent when the page's count of the time spent drifts.
        self._publish(force=kind not in (EventType.STATE, EventType.AWAITING))

    def _stopped(self) -> None:
        self.status = "stopped"
        x = self.exercise
        where = f" at exercise {x['number']} of {x['total']}: {x['name']}" if x else " before the first exercise"
        self.end = f"Stopped{where}."

    def state(self) -> tuple[dict[str, Any], float | None, bool]:
        """The page's state (its count not in it yet), the seconds it counts and whether they run.

        The count is the time left, or in a set at your own pace the time spent so far."""
        ph = phase_at(self._timeline, self._t) if self._timeline is not None else None
        if ph is not None and ph.exercise_index is not None:
            self.exercise = {
                "number": ph.exercise_index + 1,
                "total": self.exercises,
                "name": ph.exercise or "",
                "set": ph.set,
                "sets": ph.sets,
                "side": ph.side,
            }
        doing = None
        left: float | None = None
        running = False
        if ph is not None and not self.end:
            own_pace = ph.self_paced
            doing = {
                "kind": ph.kind,
                "label": OWN_PACE_LABEL if own_pace else LABELS.get(ph.kind, ph.kind.capitalize()),
            }
            if own_pace:
                left = self.spent_s  # counted up; none before the wait starts (the opening words)
            elif ph.kind in _COUNTED:
                left = max(0.0, ph.end_s - self._t)
            running = left is not None and self.status == "playing" and self.question is None
        state = {
            "program": self.program,
            "status": "question" if self.question is not None and not self.end else self.status,
            "exercise": self.exercise,
            "doing": doing,
            "next": _next(self._timeline, ph, self.exercises) if ph is not None and not self.end else "",
            "question": None if self.end else self.question,
            "awaiting": self.awaiting and not self.end,
            "end": self.end,
        }
        return state, left, running

    def _publish(self, force: bool) -> None:
        state, left, running = self.state()
        now = self.clock()
        sent = self._sent
        up = state["doing"] is not None and state["doing"]["label"] == OWN_PACE_LABEL
        if not force and sent is not None and _without_time(sent) == state:
            doing = sent["doing"]
            shown = (doing.get("spent_s") if up else doing.get("left_s")) if doing else None
            if shown is None or left is None:
                return
            if doing["running"]:
                shown += (now - self._sent_at) * (1 if up else -1)
            if abs(shown - left) <= DRIFT_S and doing["running"] == running:
                return
        if state["doing"] is not None:
            count = None if left is None else round(left, 2)
            state["doing"] = {
                **state["doing"],
                "left_s": None if up else count,
                "spent_s": count if up else None,
                "running": running,
            }
        self._sent, self._sent_at = state, now
        self.screen.publish(state)


def _without_time(state: dict[str, Any]) -> dict[str, Any]:
    doing = state["doing"]
    if doing is None:
        return state
    return {**state, "doing": {k: v for k, v in doing.items() if k not in ("left_s", "spent_s", "running")}}


def _next(timeline: Timeline | None, ph: Phase, exercises: int) -> str:
    """During a rest, a switch or a setup: what comes next ("Bridge, set 2 of 2", "the end")."""
    if timeline is None or ph.kind not in ("rest", "switch", "setup"):
        return ""
    for p in timeline.phases:
        if p.start_s < ph.end_s - 1e-9 or p.kind not in (*_ACTIVE, "end"):
            continue
        if p.kind == "end" or p.exercise_index is None:
            return "the end of the session"
        same = p.exercise_index == ph.exercise_index
        parts = [] if same else [f"exercise {p.exercise_index + 1} of {exercises}: {p.exercise}"]
        if p.set is not None and p.sets and p.sets > 1:
            parts.append(f"set {p.set} of {p.sets}")
        if p.side:
            parts.append(f"{p.side} side")
        text = ", ".join(x for x in parts if x)
        return text[:1].upper() + text[1:]
    return ""
