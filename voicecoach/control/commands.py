"""Commands: what every control input (keys, media buttons, voice) turns into, and the sources' interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# The actions the live controller understands. "toggle" pauses or resumes;
# "pause" and "resume" are idempotent (headsets send separate PLAY and PAUSE,
# and may have drifted from our state). "hurt" is "it hurts" (pause, ask how
# much). "answer" answers a check-in question (its value: "0"-"10", "yes",
# "no"); "skip" moves on from a question without an answer. "unknown" is the
# voice input's "I heard the wake word, then something that is not a command":
# the coach answers "Sorry?".
ACTIONS = (
    "toggle",
    "pause",
    "resume",
    "next",
    "back",
    "repeat",
    "more",
    "less",
    "quit",
    "help",
    "hurt",
    "answer",
    "skip",
    "unknown",
)


@dataclass(frozen=True)
class Command:
    """One thing the user asked for, and which input it came from.

    ``value`` is the answer the command gives when a question is open: always set
    for "answer"; also set for a control whose key doubles as an answer (the "n"
    key is "next", or "no" to a yes/no question).
    """

    action: str  # one of ACTIONS
    source: str = "keys"  # who sent it: "keys", "headset", "voice", ...
    value: str | None = None
    heard: str = ""  # voice: the words recognized ("go back"), printed as "Heard: go back."


@dataclass(frozen=True)
class PlayerState:
    """What the session is doing, for inputs that show it (a media player's widget).

    Each exercise is a "track"; ``title`` names it with its set and side.
    """

    status: str  # "Playing", "Paused" or "Stopped"
    title: str
    album: str
    track_id: str
    length_us: int
    position_us: int  # within the track, when the state was made


class SourceError(Exception):
    """A control source stopped working (bus gone, device unplugged); the session goes on without it."""


class Source(Protocol):
    """An input: a file descriptor to wait on and the commands read from it."""

    name: str

    def fileno(self) -> int: ...

    def read(self) -> list[Command]:
        """Called when :meth:`fileno` is readable; must never block. Raises SourceError."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Display(Protocol):
    """A source that also shows the session's state (MPRIS: status, metadata, position)."""

    def show(self, state: PlayerState) -> None: ...

    def seeked(self, position_us: int) -> None: ...
