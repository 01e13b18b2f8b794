"""The one wait on every control input: real pipes and threads, no mocks."""

from __future__ import annotations

import os
import threading

from voicecoach.control.commands import Command, SourceError
from voicecoach.control.inputs import Inputs, QueueSource


class PipeSource:
    """A source on a real pipe: each byte written is one command letter."""

    def __init__(self, name: str, fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.r, self.w = os.pipe()
        self.closed = False

    def fileno(self) -> int:
        return self.r

    def read(self) -> list[Command]:
        data = os.read(self.r, 64)
        if self.fail:
            raise SourceError("unplugged")
        return [Command({"p": "toggle", "n": "next"}[c], self.name) for c in data.decode()]

    def close(self) -> None:
        self.closed = True


def test_commands_from_several_sources_in_one_wait():
    keys, headset = PipeSource("keys"), PipeSource("headset")
    inputs = Inputs([keys, headset])
    os.write(keys.w, b"p")
    os.write(headset.w, b"n")
    got = inputs.wait(1.0)
    assert sorted((c.action, c.source) for c in got) == [("next", "headset"), ("toggle", "keys")]
    assert inputs.wait(0.01) == []


def test_a_failing_source_is_switched_off_with_one_note_and_the_rest_go_on():
    notes: list[str] = []
    good, bad = PipeSource("keys"), PipeSource("headset", fail=True)
    inputs = Inputs([good, bad], note=notes.append)
    os.write(bad.w, b"p")
    assert inputs.wait(1.0) == []
    assert notes == ["Media button control is off: unplugged."]
    assert bad.closed and inputs.names() == {"keys"}
    os.write(good.w, b"n")
    assert inputs.wait(1.0) == [Command("next", "keys")]
    assert notes == ["Media button control is off: unplugged."]  # said once


def test_a_closed_descriptor_drops_only_that_source():
    notes: list[str] = []
    good, gone = PipeSource("keys"), PipeSource("voice")
    inputs = Inputs([good, gone], note=notes.append)
    os.close(gone.r)
    os.write(good.w, b"p")
    got = inputs.wait(0.5) or inputs.wait(0.5)
    assert got == [Command("toggle", "keys")]
    assert inputs.names() == {"keys"} and len(notes) == 1 and notes[0].startswith("Voice control is off:")


def test_queue_source_wakes_the_wait_from_another_thread():
    voice = QueueSource("voice")
    inputs = Inputs([voice])
    threading.Timer(0.05, voice.push, args=(Command("toggle", "voice"),)).start()
    assert inputs.wait(5.0) == [Command("toggle", "voice")]
    voice.push(SourceError("the microphone disappeared"))
    notes: list[str] = []
    inputs.note = notes.append
    assert inputs.wait(1.0) == []
    assert notes == ["Voice control is off: the microphone disappeared."]
