"""What a live stream is made of besides the session: short spoken timelines, and where a stream is.

Also the two things the controller needs of its player and its inputs
(protocols, so tests drive it with fakes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voicecoach.control.commands import Command, PlayerState, Source
from voicecoach.core.schedule import GAP_S
from voicecoach.core.timeline import Cue, Timeline
from voicecoach.render.prepare import Prepared


class InputsLike(Protocol):
    """What the controller needs of its inputs (:class:`voicecoach.control.inputs.Inputs`)."""

    def names(self) -> set[Source]: ...
    def wait(self, timeout_s: float) -> list[Command]: ...
    def show(self, state: PlayerState) -> None: ...
    def seeked(self, position_us: int) -> None: ...


class PlayerLike(Protocol):
    """What the controller needs of its player (:class:`voicecoach.live.player.Player`)."""

    @property
    def position_s(self) -> float: ...
    @property
    def underruns(self) -> int: ...

    def play(
        self,
        blocks: Iterator[np.ndarray],
        *,
        on_progress: Callable[[float], None] | None = None,
        progress_interval_s: float = 0.1,
    ) -> object: ...
    def stop(self) -> None: ...
    def duck(self, gain: float) -> None: ...


@dataclass
class Segment:
    """What is playing: an optional spoken prefix, then ``timeline`` from ``start_s``."""

    timeline: Timeline | None
    start_s: float
    prefix_s: float = 0.0

    def position(self, played_s: float) -> float:
        return self.start_s + max(0.0, played_s - self.prefix_s)


def spoken(prepared: Prepared, texts: list[str], count_in: int = 0) -> Timeline:
    """A small timeline that says ``texts`` one after another, then counts ``count_in`` down."""
    cues, t = [], 0.0
    for text in texts:
        n = prepared.speaker.length_s(text)
        cues.append(Cue(t, t + n, "intro", text))
        t += n + GAP_S
    for k in range(count_in, 0, -1):
        t = float(math.ceil(t))  # count on whole seconds from here
        n = prepared.speaker.length_s(str(k))
        cues.append(Cue(t, t + n, "countdown", str(k), earcon="tick"))
        t += 1.0
    return Timeline("", t + (0.0 if count_in else 0.3), tuple(cues))
