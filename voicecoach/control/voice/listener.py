"""The voice input: wake word, command, and never the coach's own voice; and the thread that listens.

:class:`VoiceLogic` is pure: it takes microphone samples with the time they
were captured and returns a :class:`~voicecoach.control.commands.Command`
now and then. :class:`VoiceSource` runs it on a thread reading the
microphone (sounddevice's ``InputStream`` at 16 kHz) and is one of the live
session's inputs (a :class:`~voicecoach.control.inputs.QueueSource`).

The coach must never obey itself. It knows exactly when its own sound comes
out of the speakers (the player reports every block with sound in it, with
the moment it will be heard: :class:`SoundActivity`), so the logic ignores a
wake word or a command that overlaps the coach's sound or its echo in the
room (:data:`ECHO_TAIL_S` after it). That gate alone would also ignore a
command said while the coach speaks; with an echo canceller in front
(:mod:`.echo`: the coach's output taken out of the microphone signal) the
gate is off and the wake word is heard over the coach ("barge-in").

Between a wake word and the command's end the logic tells ``on_listening``
(True, then False, always in pairs): the session lowers its voice meanwhile.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from voicecoach.control.commands import Action, Command, Source, SourceError
from voicecoach.control.inputs import QueueSource
from voicecoach.control.voice import RATE, Cleaner, CommandRecognizer, WakeWordDetector
from voicecoach.portaudio import PortAudioMissing, import_sounddevice

#: How long the room keeps the coach's voice after it stops (reverberation), plus
#: the uncertainty of the output and input latencies: heard sound this soon after
#: the coach's sound is taken as its echo.
ECHO_TAIL_S = 0.5
#: How long a wake word takes to say: the audio this long before a wake must be free of the coach.
WAKE_SPAN_S = 1.6
#: Audio kept from before a wake, for the recognizer (the command may start before the wake is detected).
BEFORE_S = 1.2
#: Samples per chunk in the benchmarks and tests (80 ms, openWakeWord's and most examples' size).
CHUNK = 1280
#: Samples per read from the microphone (20 ms): small, so little waits in the input buffers.
MIC_BLOCK = 320
#: A microphone that sends nothing for this long is taken as gone.
STALL_S = 3.0


class SoundActivity:
    """When the coach's own sound comes out of the speakers, in ``time.monotonic()`` seconds.

    :meth:`mark` is called from the audio thread for every block with sound
    (quick: a deque append, merged with the previous span when they touch);
    :meth:`overlaps` from the listener's thread.
    """

    def __init__(self, keep: int = 256) -> None:
        self._spans: deque[tuple[float, float]] = deque(maxlen=keep)

    def mark(self, start: float, end: float) -> None:
        if self._spans:
            a, b = self._spans[-1]
            if start <= b + 0.05:  # touching the last span: extend it (blocks come in order)
                self._spans[-1] = (a, max(b, end))
                return
        self._spans.append((start, end))

    def overlaps(self, start: float, end: float, tail_s: float = ECHO_TAIL_S) -> bool:
        """Whether the coach's sound, or its echo ``tail_s`` after it, reaches into ``[start, end]``."""
        return any(a < end and b + tail_s > start for a, b in list(self._spans))


class VoiceLogic:
    """Wake word -> command -> :class:`Command`, never the coach's own voice.

    Feed it consecutive chunks of 16 kHz int16 samples with the monotonic
    time at which each chunk's last sample was captured. ``cleaners`` run
    first, in order, on every chunk (echo cancelling, noise suppression),
    for both engines; ``recognizer_cleaners`` then run on every chunk too, but
    only the recognizer hears their output (a stage that helps it and not the
    wake word model).
    ``echo_gate`` ignores what overlaps the coach's sound (:class:`SoundActivity`);
    by default it is on unless a cleaner cancels the echo (``cancels_echo``).
    ``on_listening`` hears True when a wake word is taken and False once
    its command is decided (whatever it was, or nothing).
    """

    def __init__(
        self,
        detector: WakeWordDetector,
        recognizer: CommandRecognizer,
        activity: SoundActivity | None = None,
        *,
        cleaners: Sequence[Cleaner] = (),
        recognizer_cleaners: Sequence[Cleaner] = (),
        before_s: float = BEFORE_S,
        echo_tail_s: float = ECHO_TAIL_S,
        wake_span_s: float = WAKE_SPAN_S,
        echo_gate: bool | None = None,
        on_listening: Callable[[bool], None] | None = None,
    ) -> None:
        self.detector = detector
        self.recognizer = recognizer
        self.activity = activity or SoundActivity()
        self.cleaners = tuple(cleaners)
        self.recognizer_cleaners = tuple(recognizer_cleaners)
        if echo_gate is None:
            echo_gate = not any(getattr(stage, "cancels_echo", False) for stage in self.cleaners)
        self.echo_gate = echo_gate
        self.on_listening = on_listening
        self.echo_tail_s = echo_tail_s
        self.wake_span_s = wake_span_s
        self._before: deque[np.ndarray] = deque()
        self._before_n = 0
        self._keep_n = int(before_s * RATE)
        self._woke_at: float | None = None  # the wake word was heard then; a command is being listened to
        self.ignored = 0  # wakes and commands dropped because the coach was making sound (for the benchmark)

    @property
    def listening(self) -> bool:
        """True between a wake word and the end of the command."""
        return self._woke_at is not None

    def feed(self, pcm: np.ndarray, t_end: float) -> Command | None:
        for stage in self.cleaners:
            pcm = stage.process(pcm, t_end)
        heard_pcm = pcm  # what the recognizer hears
        for stage in self.recognizer_cleaners:  # run on every chunk: they follow the room all the time
            heard_pcm = stage.process(heard_pcm, t_end)
        if self._woke_at is None:
            self._remember(heard_pcm)
            if not self.detector.feed(pcm):
                return None
            if self._coach_heard(t_end - self.wake_span_s, t_end):
                self.ignored += 1
                self.detector.reset()  # the coach's voice (or a wake said over it): not for us
                return None
            self._woke_at = t_end
            before = np.concatenate(self._before) if self._before else np.zeros(0, np.int16)
            self.recognizer.start(before)
            self._tell(True)
            return None
        heard = self.recognizer.feed(heard_pcm)
        if heard is None:
            return None
        woke_at, self._woke_at = self._woke_at, None
        self.detector.reset()
        self._before.clear()
        self._before_n = 0
        self._tell(False)  # before the command: the session's voice comes back first
        if self._coach_heard(woke_at - self.wake_span_s, t_end):
            self.ignored += 1
            return None  # the coach spoke over the command: we cannot know what was said
        if not heard.action:
            return None
        return Command(Action(heard.action), Source.VOICE, heard=heard.words)

    def _remember(self, pcm: np.ndarray) -> None:
        self._before.append(pcm)
        self._before_n += len(pcm)
        while self._before and self._before_n - len(self._before[0]) >= self._keep_n:
            self._before_n -= len(self._before.popleft())

    def _coach_heard(self, start: float, end: float) -> bool:
        return self.echo_gate and self.activity.overlaps(start, end, self.echo_tail_s)

    def _tell(self, listening: bool) -> None:
        if self.on_listening is not None:
            self.on_listening(listening)


# -- the microphone thread ---------------------------------------------------------


def mic_reason(exc: BaseException) -> str:
    """A short reason for the one-line "Voice control is off: ..." note."""
    if isinstance(exc, PortAudioMissing):
        return "PortAudio is not installed"
    text = str(exc.args[0]) if getattr(exc, "args", None) else str(exc)
    text = text.strip().rstrip(".")
    return f"cannot open the microphone ({text})" if text else "cannot open the microphone"


class VoiceSource(QueueSource):
    """The voice input: a thread reads the microphone, runs :class:`VoiceLogic`, pushes commands.

    When the microphone cannot be opened or stops sending sound, a
    :class:`SourceError` is pushed instead: the session notes it in one line
    and goes on with the other inputs. Audio is only ever held in memory.
    ``open_stream`` opens the microphone (tests and benchmarks give their own).
    """

    def __init__(
        self,
        logic: VoiceLogic,
        device: int | None = None,
        open_stream: Callable[[int | None, Callable[..., None]], Any] | None = None,
    ) -> None:
        super().__init__(Source.VOICE)
        self.logic = logic
        self.device = device
        self._open = open_stream or open_microphone
        self._chunks: queue.SimpleQueue[tuple[np.ndarray, float]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voicecoach-listen", daemon=True)
        if logic.on_listening is None:  # the session hears it as two notices in the same queue as the commands
            logic.on_listening = self._listening

    def _listening(self, on: bool) -> None:
        self.push(Command(Action.LISTENING if on else Action.LISTENED, Source.VOICE))

    def start(self) -> VoiceSource:
        self._thread.start()
        return self

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """sounddevice's input callback (its own thread): copy the samples, note when they were captured."""
        now = time.monotonic()
        behind = 0.0
        try:  # how long ago the first sample reached the converter, by PortAudio's clock
            behind = float(time_info.currentTime - time_info.inputBufferAdcTime)
            if not 0.0 <= behind < 1.0:
                behind = 0.0
        except (AttributeError, TypeError):
            pass
        self._chunks.put(
            (np.array(indata[:, 0] if indata.ndim == 2 else indata, dtype=np.int16), now - behind + frames / RATE)
        )

    def _run(self) -> None:
        try:
            stream = self._open(self.device, self._callback)
        except Exception as exc:  # no microphone, busy device, no PortAudio: voice control is off
            self.push(SourceError(mic_reason(exc)))
            return
        try:
            with stream:
                while not self._stop.is_set():
                    try:
                        pcm, t_end = self._chunks.get(timeout=STALL_S)
                    except queue.Empty:
                        if not self._stop.is_set():
                            self.push(SourceError("the microphone stopped sending sound"))
                        return
                    command = self.logic.feed(pcm, t_end)
                    if command is not None:
                        self.push(command)
        except Exception as exc:  # the device vanished under the stream, an engine failed...
            if not self._stop.is_set():
                self.push(SourceError(mic_reason(exc)))

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=STALL_S + 1.0)
        super().close()


def open_microphone(device: int | None, callback: Callable[..., None]) -> Any:
    """A started-on-enter 16 kHz mono int16 input stream (sounddevice), ``MIC_BLOCK`` samples per callback.

    PortAudio resamples where the device runs at another rate (PulseAudio
    and PipeWire always can).
    """
    sd = import_sounddevice()
    # Small blocks: the input side buffers two of them (PulseAudio's ALSA plugin: 160 ms at
    # 80 ms blocks, 40 ms at 20 ms), and every command's answer waits for that.
    return sd.InputStream(
        samplerate=RATE, channels=1, dtype="int16", blocksize=MIC_BLOCK, device=device, callback=callback, latency="low"
    )
