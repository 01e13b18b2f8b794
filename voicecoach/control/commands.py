"""Commands: what every control input (keys, media buttons, voice) turns into, and the inputs' interface.

The vocabulary of controls has one owner: :class:`Action` names what can be asked,
:class:`Source` names who asked, and :data:`BINDINGS` says, for each action, which keys,
media-player methods and spoken words ask for it, and how a live session treats it. The
keyboard (:mod:`.keys`), the media player (:mod:`.mpris`) and the voice
(:mod:`.voice`) read their tables from here; the live session's dispatcher
(:mod:`voicecoach.live.controls`) has one handler per action. A new control is one member
here, one row of :data:`BINDINGS` and one handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from voicecoach.core.vocab import StrEnum


class Action(StrEnum):
    """What a control asks of the live session (the value is what the journal records)."""

    TOGGLE = "toggle"  # pause or resume
    PAUSE = "pause"  # idempotent: headsets send separate PLAY and PAUSE, and may have drifted from our state
    RESUME = "resume"
    NEXT = "next"
    BACK = "back"
    REPEAT = "repeat"
    MORE = "more"  # 15 s more on the current hold or rest
    LESS = "less"
    QUIT = "quit"
    HELP = "help"
    HURT = "hurt"  # "it hurts": pause, ask how much
    DONE = "done"  # a self-paced set is done (the headset's play button means it too, only then)
    TIME_LEFT = "time_left"  # "how long is left?"
    ANSWER = "answer"  # answers a check-in question (its value: "0"-"10", "yes", "no")
    SKIP = "skip"  # moves on from a question without an answer
    UNKNOWN = "unknown"  # the voice heard the wake word, then no command: the coach answers "Sorry?"
    LISTENING = "listening"  # the voice heard the wake word: the coach lowers its voice until the command
    LISTENED = "listened"  # ... and the command was decided (it follows), or nothing came: full voice again


class Source(StrEnum):
    """Which input a command came from: printed after a confirmation ("Paused (headset).")."""

    KEYS = "keys"
    HEADSET = "headset"
    VOICE = "voice"
    PHONE = "phone"  # the page of play --remote


@dataclass(frozen=True)
class Binding:
    """How one action is asked for, and how a live session treats it."""

    keys: tuple[str, ...] = ()  # terminal keys (escape sequences whole)
    media: tuple[str, ...] = ()  # MPRIS2 Player methods (headset buttons, media keys, playerctl)
    words: tuple[str, ...] = ()  # what is said after the wake word
    logged: bool = False  # recorded in the training journal as a control
    skips_question: bool = False  # while a check-in question waits: move on without an answer
    phone: bool = False  # the phone page (play --remote) may ask for it


_ARROW_RIGHT, _ARROW_LEFT = ("\x1b[C", "\x1bOC"), ("\x1b[D", "\x1bOD")

# Stop quits (the place is saved): a stopped voicecoach session cannot be restarted from a
# headset, GNOME and KDE send Stop only for a dedicated Stop key, and pausing is already PlayPause.
BINDINGS: dict[Action, Binding] = {
    Action.TOGGLE: Binding(keys=(" ",), media=("PlayPause",), logged=True, skips_question=True),
    Action.PAUSE: Binding(media=("Pause",), words=("pause",), logged=True, skips_question=True, phone=True),
    Action.RESUME: Binding(media=("Play",), words=("resume",), logged=True, skips_question=True, phone=True),
    Action.NEXT: Binding(
        keys=("n", *_ARROW_RIGHT), media=("Next",), words=("next",), logged=True, skips_question=True, phone=True
    ),
    Action.BACK: Binding(
        keys=("p", *_ARROW_LEFT),
        media=("Previous",),
        words=("back", "go back"),
        logged=True,
        skips_question=True,
        phone=True,
    ),
    Action.REPEAT: Binding(keys=("r",), words=("repeat",), logged=True, phone=True),
    Action.MORE: Binding(keys=("+", "="), words=("more time",), logged=True, phone=True),
    Action.LESS: Binding(keys=("-", "_"), words=("less time",), logged=True, phone=True),
    Action.QUIT: Binding(keys=("q",), media=("Stop",), words=("stop",)),
    Action.HELP: Binding(keys=("?", "h"), words=("help",), logged=True),
    Action.HURT: Binding(keys=("x", "!"), words=("it hurts",), logged=True, phone=True),
    Action.DONE: Binding(keys=("d",), words=("done",), logged=True, phone=True),
    # Not "how long": the recognizer took it for "resume" for three of five generated voices.
    Action.TIME_LEFT: Binding(keys=("l",), words=("how much longer",), logged=True, phone=True),
    Action.ANSWER: Binding(phone=True),
    Action.SKIP: Binding(keys=("s", "\r", "\n"), words=("skip",), skips_question=True, phone=True),
    Action.UNKNOWN: Binding(),
    Action.LISTENING: Binding(),
    Action.LISTENED: Binding(),
}


def bound(kind: str) -> dict[str, Action]:
    """One input's table: ``bound("keys")`` maps each key to its action (also "media", "words")."""
    return {name: action for action, b in BINDINGS.items() for name in getattr(b, kind)}


@dataclass(frozen=True)
class Command:
    """One thing the user asked for, and which input it came from.

    ``value`` is the answer the command gives when a question is open: always set
    for "answer"; also set for a control whose key doubles as an answer (the "n"
    key is "next", or "no" to a yes/no question).
    """

    action: Action
    source: Source = Source.KEYS
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
    artist: str = "voicecoach"  # a headset has no button to ask how long is left: the widget shows it here


class SourceError(Exception):
    """A control input stopped working (bus gone, device unplugged); the session goes on without it."""


class Input(Protocol):
    """An input: a file descriptor to wait on and the commands read from it."""

    name: Source

    def fileno(self) -> int: ...

    def read(self) -> list[Command]:
        """Called when :meth:`fileno` is readable; must never block. Raises SourceError."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Display(Protocol):
    """An input that also shows the session's state (MPRIS: status, metadata, position)."""

    def show(self, state: PlayerState) -> None: ...

    def seeked(self, position_us: int) -> None: ...
