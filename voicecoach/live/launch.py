"""Setting up a live session and running it: what ``voicecoach play`` does once its options are parsed.

:func:`run_live` takes a :class:`LiveRequest` (what ``play`` was asked) and, in this order:
loads voice control (its models fail at once, before any synthesis), loads the plan, opens
the journal (a session never needs it: without one it is a note), finds the saved place,
decides today's session (:func:`voicecoach.store.training.today`) and its check-ins, starts
the voice, finds the sound device, connects the inputs, and runs the
:class:`~voicecoach.live.coach.Coach`. Once the coach runs every way out is its own (it saves
the place and says so once); before that, a Ctrl-C is "stopped before the session started".
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from voicecoach import programs
from voicecoach.core import phrases
from voicecoach.core.plan import Plan
from voicecoach.core.schedule import Options
from voicecoach.errors import DeviceError, Interrupted
from voicecoach.live.checkin import CheckIn
from voicecoach.live.status import Output
from voicecoach.speech.speaker import SpeechSettings
from voicecoach.store import training
from voicecoach.store.journal import Journal, JournalUnavailable
from voicecoach.store.places import PlaceStore

if TYPE_CHECKING:
    import numpy as np

    from voicecoach.control.inputs import Inputs
    from voicecoach.control.remote import RemoteSource
    from voicecoach.control.voice.listener import VoiceLogic
    from voicecoach.live.coach import Coach
    from voicecoach.live.music import LiveMusic
    from voicecoach.render.feed import MusicFeed
    from voicecoach.render.music import MusicRequest
    from voicecoach.render.prepare import Prepared

Note = str | tuple[str, str]  # words, or (words, printed line) when the screen says more


@dataclass(frozen=True)
class LiveRequest:
    """What ``play`` was asked."""

    plan: str  # the PLAN argument as given (a program's name or a file)
    voice: SpeechSettings
    level: str = "auto"  # auto (the journal's doses), low, mid or high
    detailed: bool = False
    device: str | None = None  # output device number or name (None: the default)
    resume: bool = False
    plain: bool = False
    quiet: bool = False
    earcons: bool = True
    mpris: bool = True
    check_in: bool = True
    listen: bool = False
    mic: str | None = None
    wake_word: str | None = None
    wake_sensitivity: str | float | None = None  # --wake-sensitivity (None: core.wake's default)
    remote: tuple[str, int] | None = None  # the phone page's address and port (play --remote)
    remote_note: str = ""  # printed under its address: the other addresses --remote-host can choose
    debug: Callable[[str], None] | None = None  # where to say why an optional input is off (--debug)
    music: MusicRequest | None = None  # music under the coach, its files already probed


@dataclass(frozen=True)
class LiveResult:
    finished: bool  # True: to the end; False: the user quit
    underruns: int  # audio underruns: the computer was too busy and sound had gaps


def run_live(request: LiveRequest) -> LiveResult:
    """Set up the live session ``request`` asks for, run it to its end, and close what it opened.

    Raises :class:`~voicecoach.errors.Interrupted` for a Ctrl-C before the session started,
    :class:`~voicecoach.errors.DeviceError` for a sound device that is missing or fails.
    """
    return _Launch(request).run()


def open_journal_for_play() -> tuple[Journal | None, list[Note]]:
    """The journal, or None and a note (spoken, printed with the path): a session never needs it."""
    try:
        return training.open_journal(), []
    except JournalUnavailable as exc:
        return None, [(exc.spoken, str(exc))]


class _Launch:
    """One ``play``: what it has opened so far, closed however it ends."""

    def __init__(self, request: LiveRequest) -> None:
        self.request = request
        self.key = programs.plan_key(request.plan)
        self.journal: Journal | None = None
        self.store: PlaceStore | None = None
        self.coach: Coach | None = None  # set once the session has started

    def run(self) -> LiveResult:
        r = self.request
        try:
            # The models load before any synthesis: a missing extra or a wrong name fails at once.
            ears, voice_off = _voice_logic(r.wake_word, r.wake_sensitivity) if r.listen else (None, None)
            mic_index = _input_device(r.mic) if ears is not None else None
            plan = programs.load(r.plan)
            out = Output.auto(r.plain, r.quiet)
            if voice_off:
                out.notice(voice_off)  # a stage's native library is missing: the session goes on without voice
            options, notes = self._open(plan)
            if ears is not None:
                notes.append((phrases.VOICE_ON, phrases.voice_on_printed(ears.detector.phrase)))
            today = training.today(
                self.journal, self.key, plan, options, auto=r.level == "auto", ask=r.check_in, live=True
            )
            checkin = CheckIn.for_today(self.journal, self.key, plan, today, ask=r.check_in)
            finished = self._play(plan, today, checkin, notes, out, ears, mic_index)
        except KeyboardInterrupt:
            if self.coach is not None:
                raise
            kept = (
                " Your saved place is kept: continue with --resume."
                if self.store is not None and self.store.load(self.key) is not None
                else ""
            )
            raise Interrupted(f"Stopped before the session started.{kept}") from None
        finally:
            if self.journal is not None:
                self.journal.close()
        assert self.coach is not None
        return LiveResult(finished, self.coach.underruns)

    def _open(self, plan: Plan) -> tuple[Options, list[Note]]:
        """The journal and the saved place: the session's options (where it starts) and its notes."""
        r = self.request
        self.journal, notes = open_journal_for_play()
        self.store = PlaceStore(self.journal)
        options = Options(level="low" if r.level == "auto" else r.level, detailed=r.detailed)
        found = self.store.resume(self.key, plan) if r.resume else None
        if found:
            options = replace(options, first_exercise=found[0], intro=found[1])  # the intro says where
        elif r.resume:
            notes.append(phrases.NO_SAVED_PLACE)
        return options, notes

    def _play(
        self,
        plan: Plan,
        today: training.Today,
        checkin: CheckIn,
        notes: list[Note],
        out: Output,
        ears: VoiceLogic | None,
        mic_index: int | None,
    ) -> bool:
        """Start the music and the voice, find the device, connect the inputs and run the coach."""
        from voicecoach.control.inputs import Inputs
        from voicecoach.control.keys import keyboard
        from voicecoach.live.coach import CONTROL_PHRASES, Coach
        from voicecoach.live.devices import resolve_device
        from voicecoach.live.phoneview import PhoneView
        from voicecoach.live.player import Player
        from voicecoach.render.prepare import LiveStart, live_gain

        r = self.request
        # The music starts being measured and decoded at once, while the voice is prepared.
        with keyboard() as keys, _music_feed(r.music) as feed:
            # What the coach says before the session: its notes, then how to hear the keys.
            said = [*(n if isinstance(n, str) else n[0] for n in notes), *([phrases.KEYS_HINT] if keys else [])]
            # The voice starts at once (loading a neural model takes a moment) and makes the first words while
            # the sound device is found; the rest is synthesized in the background, ahead of the session.
            live = LiveStart(
                plan,
                today.options,
                r.voice,
                first=said,
                soon=checkin.opening(keys is not None),
                later=(*CONTROL_PHRASES, *today.texts),
                earcons=r.earcons,
            )
            try:
                device_index = resolve_device(r.device)  # no device: a clear error before any sound
                prepared = live.prepared()
                gain = live_gain(prepared, said, earcons=r.earcons)  # kept for the whole session
                inputs = Inputs([keys] if keys is not None else [], note=out.message)
                try:
                    on_sound, on_output = self._connect(inputs, ears, mic_index)
                    phone = _add_remote(inputs, r, out) if r.remote is not None else None
                    music = _live_music(feed, prepared, r) if feed is not None else None
                    coach = Coach(
                        prepared,
                        Player(
                            device_index,
                            on_sound=on_sound,
                            on_output=on_output,
                            channels=1 if music is None else 2,
                        ),
                        out,
                        inputs=inputs,
                        store=self.store,
                        plan_key=self.key,
                        notes=notes,
                        earcons=r.earcons,
                        gain=gain,
                        checkin=checkin,
                        music=music,
                    )
                    if phone is not None:
                        coach.events.subscribe(PhoneView(phone, prepared.plan.title, coach.playback.exercises))
                    self.coach = coach  # from here every way out is the coach's: it saves the place, says so once
                    return coach.run()
                except DeviceError as exc:
                    if self.coach is None:
                        raise
                    raise DeviceError(f"{exc.message} The session stopped.", hint=self._kept_hint()) from exc
                finally:
                    inputs.close()  # gives up the media player name: media keys go back to other players
            finally:
                live.close()  # stops the background synthesis (and a level still being measured)

    def _connect(
        self, inputs: Inputs, ears: VoiceLogic | None, mic_index: int | None
    ) -> tuple[Callable[[float, float], None] | None, Callable[[np.ndarray, float, bool], None] | None]:
        """The media player and voice control join the keys; returns what the player calls when
        the coach is heard (the echo gate's marks), and with every block it sends (the echo
        canceller's reference)."""
        if self.request.mpris:
            _add_media_player(inputs, self.request.debug)
        if ears is None:
            return None, None
        from voicecoach.control.voice.echo import EchoCanceller
        from voicecoach.control.voice.listener import VoiceSource

        inputs.add(VoiceSource(ears, mic_index).start())
        taps = [stage.tap.write for stage in ears.cleaners if isinstance(stage, EchoCanceller)]
        return ears.activity.mark, (taps[0] if taps else None)

    def _kept_hint(self) -> str:
        """After a device fault: what was really kept (without a journal no place is saved)."""
        assert self.coach is not None
        if self.coach.places.keeping:
            return f"Your place is saved: continue with voicecoach play {self.request.plan} --resume"
        return f"Your place could not be saved this time: start again with voicecoach play {self.request.plan}"


@contextlib.contextmanager
def _music_feed(request: MusicRequest | None) -> Iterator[MusicFeed | None]:
    """The music's feed (none without --music), started at the bed's level (the speech's target plus
    --music-volume), closed at the end."""
    if request is None:
        yield None
        return
    from voicecoach.core.configrules import DEFAULT_LOUDNESS_LUFS
    from voicecoach.render.feed import MusicFeed

    feed = MusicFeed(request.tracks, DEFAULT_LOUDNESS_LUFS + request.volume_db).start()
    try:
        yield feed
    finally:
        feed.close()


def _live_music(feed: MusicFeed, prepared: Prepared, request: LiveRequest) -> LiveMusic:
    """The session's music, once its first frames are ready (waited for at most a moment: see START_WAIT_S)."""
    from voicecoach.live.music import START_AHEAD_FRAMES, START_WAIT_S, LiveMusic
    from voicecoach.render.earcons import earcon

    assert request.music is not None
    feed.wait_ready(START_WAIT_S, frames=START_AHEAD_FRAMES)  # a start that never waits on the decoder
    return LiveMusic(
        feed,
        prepared.timeline,
        duck_db=request.music.duck_in_effect,
        earcon_s=(lambda name: earcon(name).duration_s) if request.earcons else None,
    )


def _input_device(mic: str | None) -> int | None:
    from voicecoach.live.devices import resolve_input_device

    return resolve_input_device(mic)


def voice_logic(wake_word: str | None, sensitivity: str | float | None = None) -> VoiceLogic:
    """The wake word detector, the echo canceller, the noise stage and the command recognizer, loaded.

    What a session listens with (and the microphone check, so it hears as a
    session does). The echo canceller runs first, then the noise stage.
    Raises :class:`~voicecoach.control.voice.echo.EchoUnavailable` or
    :class:`~voicecoach.control.voice.noise.NoiseSuppressionMissing` without
    their native libraries.
    """
    from voicecoach.control.voice import micro, noise
    from voicecoach.control.voice.echo import EchoCanceller, OutputTap
    from voicecoach.control.voice.listener import VoiceLogic
    from voicecoach.control.voice.sphinx import SphinxCommands

    detector = micro.MicroWakeWordDetector(wake_word or micro.DEFAULT, sensitivity=sensitivity)
    canceller = EchoCanceller(OutputTap())
    stages = noise.stages()
    return VoiceLogic(
        detector,
        SphinxCommands(detector.phrase),
        cleaners=(canceller, *stages.cleaners),
        recognizer_cleaners=stages.recognizer_cleaners,
    )


def _voice_logic(wake_word: str | None, sensitivity: str | float | None = None) -> tuple[VoiceLogic | None, str | None]:
    """:func:`voice_logic`, or None and one line: without the echo canceller's or the noise stage's
    native library voice control is off and the session goes on (a missing extra or a bad wake word
    model is an error). Without the canceller the coach would ignore any command said over it."""
    from voicecoach.control.voice import noise
    from voicecoach.control.voice.echo import EchoUnavailable

    try:
        return voice_logic(wake_word, sensitivity), None
    except (EchoUnavailable, noise.NoiseSuppressionMissing) as exc:
        return None, f"Voice control is off: {exc.message}; {exc.hint}."


def _add_remote(inputs: Inputs, request: LiveRequest, out: Output) -> RemoteSource | None:
    """Serve the phone page and say where: the address, and a QR code where the terminal can show one.

    An address that cannot be served is one line, and the session goes on without the page.
    """
    from voicecoach.control.remote import RemoteSource, qr

    assert request.remote is not None
    host, port = request.remote
    try:
        source = RemoteSource(host, port).start()
    except OSError as exc:
        out.notice(f"Phone remote is off: cannot serve on {host}:{port} ({exc.strerror or exc}).")
        return None
    inputs.add(source)
    if out.mode == "status" and qr.can_draw(out.stream):
        out.notice(qr.terminal_code(source.url).rstrip("\n"))
    out.notice(f"Phone remote: {source.url}")
    if request.remote_note:
        out.notice(request.remote_note)
    return source


def _add_media_player(inputs: Inputs, debug: Callable[[str], None] | None) -> None:
    """Appear as an MPRIS2 media player while the session runs (Linux, with a session bus).

    Without a bus (SSH, a server, CI) it is silently off; ``debug`` is told why.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        from voicecoach.control import mpris
    except ImportError as exc:  # jeepney missing: a broken install, not the user's session
        if debug is not None:
            debug(f"voicecoach: media buttons are off: {exc}")
        return
    source = mpris.MprisSource.connect(identity="voicecoach")
    if source is None:
        if debug is not None:
            debug(f"voicecoach: media buttons are off: {mpris.last_error}")
        return
    inputs.add(source)
