"""Placing cues: spoken words at exact times, fixed ones first, droppable ones in the gaps.

:class:`CueBuilder` is the scheduler's (:mod:`voicecoach.core.schedule`) tool: a cursor
through the session, the fixed cues that must never move (a collision is a
:class:`~voicecoach.errors.ScheduleError`) and the droppable ones, placed afterwards,
highest priority first, each at its anchor or in the earliest free gap of its window.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass

from voicecoach.core.timeline import Cue, CueKind, Phase, PhaseKind
from voicecoach.errors import ScheduleError

SpeechLength = Callable[[str], float]
# What a cue is about: (exercise name, set number, side), each None where it does not apply.
Ctx = tuple[str | None, int | None, str | None]

GAP_S = 0.25  # silence kept between consecutive spoken cues
EPS = 1e-9


@dataclass
class _Req:
    text: str
    kind: CueKind
    ctx: Ctx
    start_s: float = 0.0
    length_s: float = 0.0
    earcon: str | None = None
    priority: int = 0
    latest_end_s: float | None = None  # set for floating cues: the window's end

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s

    def cue(self) -> Cue:
        ex, st, side = self.ctx
        return Cue(
            self.start_s, self.end_s, self.kind, self.text, ex, st, side, self.earcon, droppable=self.priority > 0
        )


class CueBuilder:
    def __init__(self, speech_len: SpeechLength) -> None:
        self._len = speech_len
        self.t = 0.0  # the cursor: where the next phase begins
        self.busy_until = 0.0  # end of the latest fixed speech
        self.fixed: list[_Req] = []
        self.droppable: list[_Req] = []
        self.phases: list[Phase] = []
        self.chapters: list[tuple[float, str]] = []

    def length(self, text: str) -> float:
        n = float(self._len(text))
        if not math.isfinite(n) or n < 0:
            raise ScheduleError(f"speech length for {text!r} is not a valid duration: {n}")
        return n

    def fixed_at(self, t: float, kind: CueKind, text: str, ctx: Ctx, earcon: str | None = None) -> _Req:
        req = _Req(text, kind, ctx, t, self.length(text), earcon)
        self.fixed.append(req)
        self.busy_until = max(self.busy_until, req.end_s)
        return req

    def say_next(self, kind: CueKind, text: str, ctx: Ctx, earcon: str | None = None) -> _Req:
        """A fixed cue in a flexible window: after the cursor and any speech before it."""
        start = max(self.t, self.busy_until + GAP_S if self.fixed else self.t)
        req = self.fixed_at(start, kind, text, ctx, earcon)
        self.t = req.end_s
        return req

    def maybe_at(self, t: float, kind: CueKind, text: str, ctx: Ctx, priority: int, earcon: str | None = None) -> None:
        self.droppable.append(_Req(text, kind, ctx, t, self.length(text), earcon, priority))

    def float_in(self, lo: float, hi: float, kind: CueKind, text: str, ctx: Ctx, priority: int) -> None:
        self.droppable.append(_Req(text, kind, ctx, lo, self.length(text), None, priority, hi))

    def countdown(self, end_t: float, n: int, ctx: Ctx) -> None:
        """Numbers on the whole seconds before ``end_t``, as many as fit after current speech."""
        free_from = self.busy_until + GAP_S
        for k in range(n, 0, -1):
            if end_t - k >= free_from - EPS:
                self.fixed_at(end_t - k, "countdown", str(k), ctx, "tick")

    def phase(
        self,
        kind: PhaseKind,
        start: float,
        end: float,
        ex_index: int | None,
        ex: str | None,
        set_: int | None,
        sets: int | None,
        side: str | None,
        self_paced: bool = False,
    ) -> None:
        self.phases.append(Phase(kind, start, end, ex_index, ex, set_, sets, side, self_paced))

    # -- resolution -----------------------------------------------------------
    def resolve(self) -> list[Cue]:
        fixed = sorted(self.fixed, key=lambda r: r.start_s)
        for a, b in zip(fixed, fixed[1:]):
            if b.start_s < a.end_s - EPS:
                raise ScheduleError(
                    f"the voice is too slow to fit {a.text!r} ({a.length_s:.2f} s) before "
                    f"{b.text!r} at {b.start_s:.2f} s",
                    hint="use a faster speaking rate (--rate) or lengthen the hold, rest or tempo",
                )
        starts = [r.start_s for r in fixed]
        ends = [r.end_s for r in fixed]
        placed = list(fixed)
        # Highest priority first; at equal priority, in time order.
        for req in sorted(self.droppable, key=lambda r: (-r.priority, r.start_s)):
            pos = self._fit(req, starts, ends)
            if pos is None:
                continue
            req.start_s = pos
            i = bisect.bisect(starts, pos)
            starts.insert(i, pos)
            ends.insert(i, req.end_s)
            placed.append(req)
        return [r.cue() for r in sorted(placed, key=lambda r: r.start_s)]

    @staticmethod
    def _fit(req: _Req, starts: list[float], ends: list[float]) -> float | None:
        """Earliest start >= req.start_s where req fits with gaps (only the anchor if not floating)."""
        pos = req.start_s
        i = bisect.bisect_right(starts, pos)
        # The interval that began before pos may still be sounding.
        if i > 0 and ends[i - 1] + GAP_S > pos + EPS:
            if req.latest_end_s is None:
                return None
            pos = ends[i - 1] + GAP_S
        while True:
            if req.latest_end_s is not None and pos + req.length_s > req.latest_end_s + EPS:
                return None
            if i >= len(starts) or pos + req.length_s + GAP_S <= starts[i] + EPS:
                return pos
            if req.latest_end_s is None:
                return None
            pos = max(pos, ends[i] + GAP_S)
            i += 1
