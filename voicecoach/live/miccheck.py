"""``voicecoach mic-check``: will voice control work in this room, with this microphone and this voice?

Steps, each spoken by the coach and printed as whole lines (nothing redrawn,
so a screen reader reads every line and the check works without the screen):

1. A few seconds of quiet: the room's noise floor.
2. The wake word, :attr:`Check.takes` times: how clearly each take was heard
   (the model's highest probability against its cutoff), and its level.
3. The wake word and a command, through the same :class:`VoiceLogic` a
   session uses: what was understood.
4. When the wake word is weak for this voice: each other shipped wake word,
   twice, scored by its own model (a model hears only its own words, so the
   first takes say nothing about the others).
5. The verdict: warnings (too noisy, too quiet, clipping, no speech), a
   personal ``--wake-sensitivity`` when one would help, another wake word
   when one did better.

Every step ends on its own: a take ends after the speaker stops, or after
:attr:`Check.timeout_s` of listening. The judgement is
:mod:`voicecoach.control.voice.check` (pure); this module runs the steps
with injected parts (:class:`Parts`), so the tests give fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from voicecoach.control.voice import RATE, check
from voicecoach.core import wake

#: Seconds of quiet for the noise floor.
QUIET_S = 3.0
#: Dropped after each prompt: the end of the coach's own voice and its echo in the room.
ECHO_S = 0.3
#: Takes of each other wake word, when the chosen one is weak.
OTHER_TAKES = 2
#: After the command step's time is up, a recognizer already listening may finish (its own limit is 3 s).
COMMAND_GRACE_S = 3.5


class Mic(Protocol):
    def drain(self) -> None: ...

    def read(self) -> np.ndarray: ...

    def record(self, seconds: float) -> np.ndarray: ...


@dataclass
class Parts:
    """What the check talks to: the microphone, the voice, the screen, and the engines."""

    mic: Mic
    say: Callable[[str], None]  # speaks a prompt, returns when it has been heard
    emit: Callable[[str], None]  # prints one whole line
    detector: Any  # the chosen wake word's MicroWakeWordDetector (trace, reset, cutoff, phrase)
    detector_for: Callable[[str], Any]  # another shipped wake word's detector
    listener: Callable[[], Any]  # a VoiceLogic as a session builds it (its detector, recognizer, cleaning stages)
    word: str = "hey jarvis"  # the chosen wake word as a user writes it (a shipped name or a path)
    others: tuple[str, ...] = ()  # the shipped wake words to try when the chosen one is weak


@dataclass
class Result:
    """How the check went: findings and whether voice control should work here (exit status 0)."""

    ok: bool
    floor_dbfs: float = check.SILENCE_DBFS
    peaks: list[float] = field(default_factory=list)
    command: str = ""  # what the command step understood: an action, "unknown", "" (nothing) or "no wake"
    warnings: list[check.Finding] = field(default_factory=list)
    proposal: check.Proposal | None = None
    suggested_word: str | None = None


class Check:
    """One run of the microphone check."""

    def __init__(self, parts: Parts, *, takes: int = 3, timeout_s: float = 8.0) -> None:
        self.p = parts
        self.takes = takes
        self.timeout_s = timeout_s

    # -- talking ----------------------------------------------------------------------
    def _tell(self, line: str, spoken: str | None = None) -> None:
        self.p.emit(line)
        if spoken:
            self.p.say(spoken)

    def _prompt(self, line: str, spoken: str) -> None:
        """Speak a prompt, drop what the microphone heard meanwhile, then print it: the line comes
        as the listening starts (a reader of the screen alone answers it then)."""
        self.p.say(spoken)
        self.p.mic.drain()
        self.p.mic.record(ECHO_S)
        self.p.emit(line)

    def _listen(self, floor: float) -> np.ndarray:
        """One take: until the speaker has stopped, or :attr:`timeout_s`."""
        end = check.EndOfSpeech(floor)
        parts, n = [], 0
        while n < self.timeout_s * RATE:
            block = self.p.mic.read()
            parts.append(block)
            n += len(block)
            if end.feed(block):
                break
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)

    def _score(self, detector: Any, pcm: np.ndarray) -> float:
        detector.reset()
        # Half a second of silence around the take: the model's window fills before the word starts.
        trace = detector.trace(np.concatenate([np.zeros(RATE // 2, np.int16), pcm, np.zeros(RATE // 2, np.int16)]))
        return float(trace.max()) if trace.size else 0.0

    # -- the steps ----------------------------------------------------------------------
    def run(self) -> Result:
        det = self.p.detector
        phrase = det.phrase
        self._tell(
            f"Microphone check. Wake word: {phrase} (it wakes above {det.cutoff:.2f}; the model's own cutoff is "
            f"{det.model_cutoff:.2f}).",
        )
        self._prompt("Step 1: stay quiet for a few seconds.", "Microphone check. Please stay quiet for a moment.")
        floor = check.noise_floor(self.p.mic.record(QUIET_S))
        self._tell(f"Noise floor: {floor:.0f} dBFS ({check.room_words(floor)}).")

        result = Result(ok=False, floor_dbfs=floor)
        speeches = []
        self._tell(f'Step 2: say "{phrase}", {self.takes} times, when asked.')
        for i in range(1, self.takes + 1):
            self._prompt(f'Take {i} of {self.takes}: say "{phrase}" now.', f"Say: {phrase}." if i == 1 else "Again.")
            pcm = self._listen(floor)
            heard = check.speech(pcm, floor)
            speeches.append(heard)
            if heard.level_dbfs is None:
                self._tell(f"Take {i}: nothing heard within {self.timeout_s:g} s.", "Nothing heard.")
                continue
            p = self._score(det, pcm)
            result.peaks.append(p)
            self._tell(_take_line(i, p, det.cutoff, heard, floor), _take_spoken(p, det.cutoff))

        result.command = self._command(floor)
        result.warnings = check.room_warnings(floor, speeches)
        scores = {self.p.word: (result.peaks, float(det.cutoff))}
        if result.peaks and check.weak(result.peaks, det.cutoff) and self.p.others:
            scores.update(self._others(floor))
        floor_cut = check.SAFE_FLOOR.get(_key(self.p.word))
        result.proposal = check.propose(result.peaks, det.model_cutoff, det.cutoff, floor_cut)
        result.suggested_word = check.suggest_word(self.p.word, scores)
        result.ok = (
            not result.warnings
            and bool(result.peaks)
            and len(result.peaks) == self.takes
            and all(check.take_word(p, det.cutoff) != "missed" for p in result.peaks)
            and result.command not in ("", "unknown", "no wake")
        )
        self._verdict(result)
        return result

    def _command(self, floor: float) -> str:
        """Step 3: the wake word and a command, through the session's own logic."""
        det = self.p.detector
        logic = self.p.listener()
        self._prompt(
            f'Step 3: say "{det.phrase}", then a command, for example "{det.phrase}, pause".',
            f"Now say {det.phrase}, then a command, such as pause.",
        )
        n, woke = 0, False
        limit = self.timeout_s * RATE
        while n < limit or (logic.listening and n < limit + COMMAND_GRACE_S * RATE):
            block = self.p.mic.read()
            n += len(block)
            command = logic.feed(block, n / RATE)
            woke = woke or logic.listening
            if command is not None:
                if command.action == "unknown":
                    self._tell("Command: the wake word was heard, the command was not understood.", "Not understood.")
                    return "unknown"
                self._tell(f'Command: heard "{command.heard}": {command.action}.', f"I heard: {command.heard}.")
                return str(command.action)
            if woke and not logic.listening:
                break  # woke, then nothing that was a command
        if woke:
            self._tell("Command: the wake word was heard, then no command.", "I heard the wake word, then nothing.")
            return ""
        self._tell(
            f"Command: the wake word was not heard within {self.timeout_s:g} s.", "I did not hear the wake word."
        )
        return "no wake"

    def _others(self, floor: float) -> dict[str, tuple[list[float], float]]:
        """Step 4: the other shipped wake words, each scored by its own model."""
        self._tell(
            f"Step 4: {self.p.detector.phrase} is weak for your voice; trying the other wake words.",
            f"{self.p.detector.phrase} is weak for your voice. Let's try the others.",
        )
        scores: dict[str, tuple[list[float], float]] = {}
        for word in self.p.others:
            det = self.p.detector_for(word)
            peaks: list[float] = []
            for i in range(1, OTHER_TAKES + 1):
                self._prompt(
                    f'{det.phrase}, take {i} of {OTHER_TAKES}: say "{det.phrase}" now.',
                    f"Say: {det.phrase}." if i == 1 else "Again.",
                )
                pcm = self._listen(floor)
                heard = check.speech(pcm, floor)
                if heard.level_dbfs is None:
                    self._tell(f"{det.phrase}, take {i}: nothing heard.", "Nothing heard.")
                    continue
                p = self._score(det, pcm)
                peaks.append(p)
                self._tell(
                    f"{det.phrase}, take {i}: {_how(p, det.cutoff)} ({p:.2f}; it wakes above {det.cutoff:.2f}).",
                    _take_spoken(p, det.cutoff),
                )
            scores[word] = (peaks, float(det.cutoff))
        return scores

    def _verdict(self, r: Result) -> None:
        det = self.p.detector
        heard = [t for t in r.peaks if check.take_word(t, det.cutoff) != "missed"]
        if r.peaks:
            self._tell(
                f"Wake word: heard in {len(heard)} of {self.takes} takes (scores {min(r.peaks):.2f} to "
                f"{max(r.peaks):.2f}; it wakes above {det.cutoff:.2f})."
            )
        for w in r.warnings:
            self._tell(f"Warning: {w.text}", w.spoken)
        prop = r.proposal
        if prop is not None and prop.status == "lower" and prop.value is not None:
            value = wake.describe(prop.value)
            self._tell(
                f"Suggested sensitivity: {value} ({prop.reason}): voicecoach config set wake_sensitivity {value}, "
                f"or play --wake-sensitivity {value}.",
                f"I suggest a wake sensitivity of {value}.",
            )
        elif prop is not None and r.peaks:
            self._tell(
                f"Sensitivity: no change needed ({prop.reason})."
                if prop.status == "keep"
                else f"Sensitivity: no setting helps ({prop.reason})."
            )
        if r.suggested_word is not None:
            self._tell(
                f'Suggested wake word: "{r.suggested_word}", heard more clearly for your voice: '
                f'voicecoach config set wake_word "{r.suggested_word}", or play --wake-word "{r.suggested_word}".',
                f"Try the wake word {r.suggested_word}.",
            )
        if r.ok:
            self._tell("Result: voice control should work here.", "Voice control should work here.")
        else:
            self._tell(
                "Result: voice control may not work well here; see the lines above.",
                "Voice control may not work well here.",
            )


def _key(word: str) -> str:
    return " ".join(word.replace("_", " ").split()).casefold()


def _how(p: float, cutoff: float) -> str:
    return {"clear": "heard clearly", "just": "only just heard", "missed": "not heard"}[check.take_word(p, cutoff)]


def _take_line(i: int, p: float, cutoff: float, heard: check.Speech, floor: float) -> str:
    assert heard.level_dbfs is not None
    return (
        f"Take {i}: {_how(p, cutoff)} ({p:.2f}; it wakes above {cutoff:.2f}); your voice at "
        f"{heard.level_dbfs:.0f} dBFS, {heard.level_dbfs - floor:.0f} dB above the noise."
    )


def _take_spoken(p: float, cutoff: float) -> str:
    return {"clear": "Heard.", "just": "Only just heard.", "missed": "Not heard."}[check.take_word(p, cutoff)]


# -- the real parts -------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRequest:
    """What ``mic-check`` was asked."""

    voice: Any  # SpeechSettings: the coach's voice for the prompts
    mic: str | None = None
    wake_word: str | None = None
    sensitivity: wake.Sensitivity | None = None
    device: str | None = None  # where the prompts are spoken
    takes: int = 3
    timeout_s: float = 8.0


def run_check(request: CheckRequest, emit: Callable[[str], None]) -> Result:
    """Run the check on the real microphone, engines and voice.

    Raises (each one line): MissingDependencyError without the listen extra or
    PortAudio, DeviceError without a microphone (or one ``--mic`` names),
    VoicecoachError for a wake word model that cannot be used, Interrupted on Ctrl-C.
    """
    from voicecoach.control.voice import micro
    from voicecoach.control.voice.listener import mic_reason
    from voicecoach.control.voice.mic import Microphone
    from voicecoach.errors import DeviceError, Interrupted, MissingDependencyError
    from voicecoach.live.devices import list_input_devices, resolve_input_device
    from voicecoach.live.launch import voice_logic  # what play listens with: the check hears as a session does
    from voicecoach.portaudio import PortAudioMissing

    if not micro.available():
        raise MissingDependencyError(f"voice control is not installed: {micro.INSTALL_HINT}")
    word = request.wake_word or micro.DEFAULT
    detector = micro.MicroWakeWordDetector(word, sensitivity=request.sensitivity)
    try:
        inputs = list_input_devices()
    except PortAudioMissing:
        raise MissingDependencyError(
            "cannot use the microphone: PortAudio is not installed: sudo apt-get install libportaudio2 "
            "(Debian/Ubuntu) or brew install portaudio (macOS)"
        ) from None
    if not inputs:
        raise DeviceError("no microphone found: connect one, then run voicecoach mic-check again")
    index = resolve_input_device(request.mic)
    level = request.sensitivity if isinstance(request.sensitivity, str) else None
    key = _key(word)
    try:
        say = _voice(request, emit)
        try:
            mic = Microphone(index)
        except Exception as exc:  # busy, gone, refused by the sound server: say why, in one line
            raise DeviceError(
                f"{mic_reason(exc)}: connect one, or choose another with --mic (voicecoach devices lists them)"
            ) from exc
        with mic as opened:
            parts = Parts(
                mic=opened,
                say=say,
                emit=emit,
                detector=detector,
                detector_for=lambda w: micro.MicroWakeWordDetector(w, sensitivity=level),
                listener=lambda: voice_logic(word, request.sensitivity),
                word=word,
                others=tuple(w for w in micro.BUILTIN if w != key),
            )
            return Check(parts, takes=request.takes, timeout_s=request.timeout_s).run()
    except KeyboardInterrupt:
        raise Interrupted("Stopped: the microphone check did not finish.") from None


def _voice(request: CheckRequest, emit: Callable[[str], None]) -> Callable[[str], None]:
    """Speaks a prompt in the coach's voice; without a voice or speakers, one line, and prompts are printed only."""
    from voicecoach.errors import VoicecoachError
    from voicecoach.live.devices import resolve_device
    from voicecoach.live.player import Player
    from voicecoach.speech.speaker import Speaker

    try:
        speaker = Speaker(request.voice)
        player = Player(resolve_device(request.device))
    except VoicecoachError as exc:
        emit(f"Prompts are printed only: {exc.message}.")
        return lambda text: None
    broken: list[str] = []

    def say(text: str) -> None:
        if broken:
            return
        try:
            player.play([speaker.clip(text).samples])
        except VoicecoachError as exc:
            broken.append(exc.message)
            emit(f"Prompts are printed only from here: {exc.message}.")

    return say
