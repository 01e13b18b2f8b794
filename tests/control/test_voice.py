"""Voice control without audio: the wake/command/echo logic with a scripted detector and recognizer,
the coach's answers to voice commands, and the microphone thread with a fake stream."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest

from voicecoach.control.commands import Command, SourceError
from voicecoach.control.inputs import Inputs
from voicecoach.control.voice import NOT_A_COMMAND, NOTHING, RATE, VOCABULARY, Heard
from voicecoach.control.voice.listener import CHUNK, SoundActivity, VoiceLogic, VoiceSource
from voicecoach.core import phrases
from voicecoach.portaudio import PortAudioMissing

# A scripted microphone: each chunk is filled with one code, read by the fakes below.
WAKE, SILENT = 1, 0


def chunk(code: int) -> np.ndarray:
    return np.full(CHUNK, code, np.int16)


class FakeDetector:
    """Wakes on a chunk of code WAKE."""

    phrase = "Hey Fake"

    def __init__(self) -> None:
        self.resets = 0

    def feed(self, pcm: np.ndarray) -> bool:
        return bool(pcm[0] == WAKE)

    def reset(self) -> None:
        self.resets += 1


class FakeRecognizer:
    """Answers after ``after`` chunks with the Heard scripted for the wake; records what it was given."""

    def __init__(self, answers: list[Heard], after: int = 3) -> None:
        self.answers = list(answers)
        self.after = after
        self.before: list[np.ndarray] = []
        self._n = 0

    def start(self, before: np.ndarray) -> None:
        self.before.append(before)
        self._n = 0

    def feed(self, pcm: np.ndarray) -> Heard | None:
        self._n += 1
        return self.answers.pop(0) if self._n >= self.after else None


def run(logic: VoiceLogic, codes: list[int], t0: float = 100.0) -> list[tuple[float, Command]]:
    """Feed scripted chunks (80 ms each, captured from ``t0`` on); the commands with the time they came."""
    out = []
    for i, code in enumerate(codes):
        t_end = t0 + (i + 1) * CHUNK / RATE
        command = logic.feed(chunk(code), t_end)
        if command is not None:
            out.append((round(t_end, 2), command))
    return out


@pytest.mark.parametrize(
    "heard, expected",
    [
        (Heard("pause", "pause"), Command("pause", "voice", heard="pause")),
        (Heard("back", "go back"), Command("back", "voice", heard="go back")),
        (NOT_A_COMMAND, Command("unknown", "voice", heard="")),
        (NOTHING, None),
    ],
    ids=["command", "synonym", "not-a-command", "nothing-said"],
)
def test_wake_then_command(heard, expected):
    logic = VoiceLogic(FakeDetector(), FakeRecognizer([heard]))
    got = run(logic, [SILENT] * 5 + [WAKE] + [SILENT] * 6)
    assert [c for _, c in got] == ([expected] if expected else [])
    assert not logic.listening


def test_no_wake_no_command():
    recognizer = FakeRecognizer([Heard("pause", "pause")])
    assert run(VoiceLogic(FakeDetector(), recognizer), [SILENT] * 50) == []
    assert recognizer.before == []


def test_the_recognizer_gets_the_audio_before_the_wake():
    recognizer = FakeRecognizer([Heard("next", "next")])
    logic = VoiceLogic(FakeDetector(), recognizer, before_s=0.4)  # 5 chunks
    run(logic, [7] * 10 + [WAKE] + [SILENT] * 3)
    [before] = recognizer.before
    assert len(before) == 5 * CHUNK  # the last 0.4 s, the waking chunk included
    assert before[-1] == WAKE and (before[:-CHUNK] == 7).all()


def test_after_a_command_the_detector_is_reset_and_listens_again():
    detector = FakeDetector()
    logic = VoiceLogic(detector, FakeRecognizer([Heard("pause", "pause"), Heard("resume", "resume")]))
    got = run(logic, [WAKE] + [SILENT] * 4 + [WAKE] + [SILENT] * 4)
    assert [c.action for _, c in got] == ["pause", "resume"]
    assert detector.resets == 2


def test_while_listening_a_second_wake_is_part_of_the_command():
    logic = VoiceLogic(FakeDetector(), FakeRecognizer([Heard("pause", "pause")], after=4))
    got = run(logic, [WAKE, WAKE, WAKE, WAKE, SILENT])
    assert [c.action for _, c in got] == ["pause"]


# -- the coach's own sound ------------------------------------------------------------

CHUNK_S = CHUNK / RATE


@pytest.mark.parametrize(
    "sound, obeyed",
    [
        (None, True),
        ((99.0, 99.5), True),  # before the wake word began, echo included
        ((100.4, 100.9), False),  # the coach spoke while the wake word was said
        ((101.2, 101.4), False),  # ...or during the command
        ((101.6, 101.8), True),  # after the command ended: not our business
    ],
    ids=["quiet", "long-before", "over-the-wake-word", "over-the-command", "after"],
)
def test_nothing_that_overlaps_the_coach_is_obeyed(sound, obeyed):
    activity = SoundActivity()
    if sound:
        activity.mark(*sound)
    # The wake word is heard at 101.12 (said over the second before), the command ends at 101.36.
    logic = VoiceLogic(
        FakeDetector(), FakeRecognizer([Heard("pause", "pause")]), activity, echo_tail_s=0.3, wake_span_s=1.0
    )
    codes = [SILENT] * 13 + [WAKE] + [SILENT] * 10  # chunks of 80 ms from t = 100
    got = run(logic, codes)
    assert bool(got) is obeyed
    assert logic.ignored == (0 if obeyed else 1)


def test_a_wake_word_in_the_coachs_own_voice_resets_the_detector():
    activity = SoundActivity()
    activity.mark(100.0, 110.0)
    detector = FakeDetector()
    recognizer = FakeRecognizer([Heard("pause", "pause")])
    logic = VoiceLogic(detector, recognizer, activity)
    assert run(logic, [SILENT] * 10 + [WAKE] + [SILENT] * 5) == []
    assert detector.resets == 1 and recognizer.before == [] and not logic.listening


def test_sound_activity_merges_touching_blocks():
    activity = SoundActivity()
    for k in range(100):  # 100 blocks of 23 ms, back to back
        activity.mark(10 + k * 0.023, 10 + (k + 1) * 0.023)
    activity.mark(20.0, 20.5)
    assert list(activity._spans) == [(10.0, pytest.approx(12.3)), (20.0, 20.5)]
    assert activity.overlaps(12.5, 13.0, tail_s=0.5)
    assert not activity.overlaps(12.9, 13.0, tail_s=0.5)
    assert activity.overlaps(19.0, 20.1, tail_s=0.0)


# -- the microphone thread ---------------------------------------------------------------


class FakeStream:
    """Calls the callback with scripted chunks from a thread, like sounddevice's InputStream."""

    def __init__(self, callback: Callable, codes: list[int], then_stall: bool = False) -> None:
        self.callback = callback
        self.codes = codes
        self.stop = False

    def __enter__(self) -> FakeStream:
        import threading

        def feed() -> None:
            for code in self.codes:
                if self.stop:
                    return
                self.callback(chunk(code).reshape(-1, 1), CHUNK, None, None)
                time.sleep(0.002)

        threading.Thread(target=feed, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop = True


def test_the_source_pushes_commands_into_the_session_inputs():
    logic = VoiceLogic(FakeDetector(), FakeRecognizer([Heard("next", "next")]))
    source = VoiceSource(logic, open_stream=lambda device, cb: FakeStream(cb, [SILENT, WAKE] + [SILENT] * 20))
    inputs = Inputs([source.start()])
    got: list[Command] = []
    deadline = time.monotonic() + 5
    while len(got) < 3 and time.monotonic() < deadline:
        got += inputs.wait(0.1)
    inputs.close()
    # The session hears "listening" at the wake word, "done listening" when the command is decided, then the command.
    assert got == [Command("listening", "voice"), Command("listened", "voice"), Command("next", "voice", heard="next")]


@pytest.mark.parametrize(
    "opener, note",
    [
        (
            lambda device, cb: (_ for _ in ()).throw(OSError("Error querying device -1")),
            "Voice control is off: cannot open the microphone (Error querying device -1).",
        ),
        (
            lambda device, cb: (_ for _ in ()).throw(
                PortAudioMissing("cannot play sound live: PortAudio library not found")
            ),
            "Voice control is off: PortAudio is not installed.",
        ),
    ],
    ids=["no-microphone", "no-portaudio"],
)
def test_no_microphone_is_one_note_and_the_other_inputs_go_on(opener, note):
    notes: list[str] = []
    source = VoiceSource(VoiceLogic(FakeDetector(), FakeRecognizer([])), open_stream=opener)
    inputs = Inputs([source.start()], note=notes.append)
    deadline = time.monotonic() + 5
    while "voice" in inputs.names() and time.monotonic() < deadline:
        inputs.wait(0.1)
    assert notes == [note]
    assert inputs.names() == set()


def test_a_microphone_that_stops_sending_is_noted(monkeypatch):
    from voicecoach.control.voice import listener

    monkeypatch.setattr(listener, "STALL_S", 0.3)
    notes: list[str] = []
    source = VoiceSource(
        VoiceLogic(FakeDetector(), FakeRecognizer([])), open_stream=lambda device, cb: FakeStream(cb, [SILENT] * 3)
    )
    inputs = Inputs([source.start()], note=notes.append)
    deadline = time.monotonic() + 5
    while "voice" in inputs.names() and time.monotonic() < deadline:
        inputs.wait(0.1)
    assert notes == ["Voice control is off: the microphone stopped sending sound."]


def test_source_error_type_is_the_inputs_one():
    assert issubclass(SourceError, Exception)


# -- the vocabulary and the phrases ------------------------------------------------------------


def test_every_command_word_maps_to_an_action_the_coach_knows():
    from voicecoach.control.commands import Action
    from voicecoach.live.controls import HANDLERS

    # "skip" is taken by an open check-in question (questions.py), like its keys; with none open it changes nothing.
    assert {Action(a) for a in VOCABULARY.values()} <= {*HANDLERS, Action.QUIT, Action.SKIP}
    assert VOCABULARY["stop"] == "quit" and "go on" not in VOCABULARY and VOCABULARY["go back"] == "back"
    assert VOCABULARY["done"] == "done" and VOCABULARY["how much longer"] == "time_left"  # issue 21's words
    assert VOCABULARY["it hurts"] == "hurt" and VOCABULARY["skip"] == "skip"
    firsts = {action: words for words, action in reversed(VOCABULARY.items())}  # each action's first words
    assert all(words in phrases.VOICE_HELP for words in firsts.values()), phrases.VOICE_HELP


def test_voice_phrases_are_prepared_with_the_session():
    assert phrases.SORRY in phrases.control_phrases()
    assert phrases.VOICE_ON in phrases.control_phrases()
    assert phrases.heard("go back") == "Heard: go back."
    assert (
        phrases.voice_on_printed("Hey Jarvis")
        == 'Voice control is on: say "Hey Jarvis", then a command ("Hey Jarvis, help" lists them).'
    )


def test_cleaners_run_in_order_before_the_engines():
    seen: list[str] = []

    class Tag:
        def __init__(self, name: str, scale: int) -> None:
            self.name, self.scale = name, scale

        def process(self, pcm, t_end):
            seen.append(self.name)
            return pcm * self.scale

    detector = FakeDetector()
    fed: list[int] = []
    detector.feed = lambda pcm: fed.append(int(pcm[0])) or False  # type: ignore[method-assign]
    logic = VoiceLogic(detector, FakeRecognizer([]), cleaners=(Tag("echo", 2), Tag("noise", 3)))
    logic.feed(np.ones(CHUNK, np.int16), 1.0)
    assert seen == ["echo", "noise"] and fed == [6]


def test_recognizer_cleaners_reach_the_recognizer_only():
    class Scale:
        def __init__(self, k: int) -> None:
            self.k, self.calls = k, 0

        def process(self, pcm, t_end):
            self.calls += 1
            return pcm * self.k

    detector, recognizer = FakeDetector(), FakeRecognizer([])
    wake_heard: list[int] = []
    woke = iter([False, True])
    detector.feed = lambda pcm: wake_heard.append(int(pcm[0])) or next(woke)  # type: ignore[method-assign]
    stage = Scale(5)
    logic = VoiceLogic(detector, recognizer, cleaners=(Scale(2),), recognizer_cleaners=(stage,))
    logic.feed(np.ones(CHUNK, np.int16), 1.0)
    logic.feed(np.ones(CHUNK, np.int16), 1.08)
    assert wake_heard == [2, 2]  # the wake word model hears the shared stages only
    assert [set(b.tolist()) for b in recognizer.before] == [{10}]  # the recognizer hears both
    assert stage.calls == 2  # on every chunk, listening or not
