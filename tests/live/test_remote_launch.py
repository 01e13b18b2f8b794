"""How `play --remote` says where its page is: the address, and a QR code where a terminal can show it."""

from __future__ import annotations

import io

import pytest

from voicecoach.control.inputs import Inputs
from voicecoach.control.remote import RemoteSource
from voicecoach.live.launch import LiveRequest, _add_remote
from voicecoach.live.status import Output
from voicecoach.speech.speaker import SpeechSettings


class Tty(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def request(port: int = 0, note: str = "") -> LiveRequest:
    return LiveRequest(plan="x", voice=SpeechSettings(), remote=("127.0.0.1", port), remote_note=note)


@pytest.fixture
def term(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)


def served(out: Output, req: LiveRequest) -> tuple[list[str], Inputs]:
    inputs = Inputs()
    source = _add_remote(inputs, req, out)
    if source is not None:
        source.close()
    return out.stream.getvalue().splitlines(), inputs


def test_a_terminal_gets_the_code_then_the_address(term):
    lines, inputs = served(Output("status", Tty()), request(note="Not the right network? choose one with ..."))
    assert len(lines) > 20 and all(line.startswith("\x1b[97;40m") for line in lines[:-2])
    assert lines[-2].startswith("Phone remote: http://127.0.0.1:") and "?t=" in lines[-2]
    assert lines[-1] == "Not the right network? choose one with ..."
    assert [s.name for s in inputs.sources] == ["phone"]


@pytest.mark.parametrize("mode", ["plain", "quiet"])
def test_plain_and_quiet_output_get_the_address_alone(term, mode):
    lines, _ = served(Output(mode, Tty()), request())
    assert len(lines) == 1 and lines[0].startswith("Phone remote: http://127.0.0.1:")


def test_no_color_gets_the_address_alone(term, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    lines, _ = served(Output("status", Tty()), request())
    assert len(lines) == 1 and lines[0].startswith("Phone remote: ")


def test_an_address_that_cannot_be_served_is_one_line_and_the_session_goes_on(term):
    busy = RemoteSource("127.0.0.1").start()
    try:
        lines, inputs = served(Output("plain", Tty()), request(busy.server.port))
    finally:
        busy.close()
    assert lines == [f"Phone remote is off: cannot serve on 127.0.0.1:{busy.server.port} (Address already in use)."]
    assert inputs.sources == []
