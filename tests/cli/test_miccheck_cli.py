"""`voicecoach mic-check` as a user meets it: its lines, its one-line errors, its exit codes.

The microphone is scripted (helpers.fakemic) and the prompts are not played;
the wake word model and the recognizer are the real ones (the listen extra).
"""

from __future__ import annotations

import pytest
from helpers.fakemic import FakeMic, word

from voicecoach.control.voice import micro
from voicecoach.errors import ExitStatus
from voicecoach.live import devices, miccheck
from voicecoach.live.devices import Device
from voicecoach.portaudio import PortAudioMissing

MIC = Device(3, "USB mic", 1, True, "input")


@pytest.fixture
def mic(monkeypatch):
    """A scripted microphone (a person answering each prompt with a tone) in place of PortAudio's."""
    pytest.importorskip("pymicro_wakeword", reason="the listen extra")
    pytest.importorskip("pocketsphinx", reason="the listen extra")
    fake = FakeMic(lambda prompt: None if "quiet" in prompt else word(-30))
    monkeypatch.setattr(devices, "list_input_devices", lambda: [MIC])
    monkeypatch.setattr("voicecoach.control.voice.mic.Microphone", lambda index: _Open(fake))
    monkeypatch.setattr(miccheck, "_voice", lambda request, emit: fake.say)
    return fake


class _Open:
    def __init__(self, fake: FakeMic) -> None:
        self.fake = fake

    def __enter__(self) -> FakeMic:
        return self.fake

    def __exit__(self, *exc: object) -> None:
        pass


def test_a_check_that_finds_problems_exits_8_with_whole_lines(run, mic):
    result = run("mic-check", "--takes", "2", "--timeout", "3")
    assert result.exit_code == ExitStatus.CHECK_FAILED == 8
    lines = result.output.splitlines()
    assert lines[0] == (
        "Microphone check. Wake word: Hey Jarvis (it wakes above 0.88; the model's own cutoff is 0.97)."
    )
    assert lines[1] == "Step 1: stay quiet for a few seconds."
    assert lines[2] == "Noise floor: -65 dBFS (quiet)."
    # a tone is not "hey jarvis": the real model does not wake on it
    assert any(line.startswith("Take 1: not heard (0.") and "your voice at -30 dBFS" in line for line in lines)
    assert "Command: the wake word was not heard within 3 s." in lines
    assert lines[-1] == "Result: voice control may not work well here; see the lines above."
    assert all("\x1b" not in line and "\r" not in line for line in lines)  # no redraw, no escapes
    assert mic.prompts[0] == "Microphone check. Please stay quiet for a moment."


def test_the_sensitivity_comes_from_the_config_file_and_the_command_line(run, mic, tmp_path, monkeypatch):
    conf = tmp_path / "config.toml"
    conf.write_text("wake_sensitivity = 0.9\n")
    monkeypatch.setenv("VOICECOACH_CONFIG", str(conf))
    first = run("mic-check", "--takes", "1", "--timeout", "2").output.splitlines()[0]
    assert "(it wakes above 0.90;" in first
    first = run("mic-check", "--takes", "1", "--timeout", "2", "--wake-sensitivity", "low").output.splitlines()[0]
    assert "(it wakes above 0.97;" in first
    first = run("mic-check", "--takes", "1", "--timeout", "2", "--wake-word", "alexa").output.splitlines()[0]
    assert first.startswith("Microphone check. Wake word: Alexa (it wakes above 0.90;")  # the file's 0.9


def test_ctrl_c_stops_cleanly(run, mic, monkeypatch):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(mic, "read", interrupted)
    result = run("mic-check")
    assert result.exit_code == 130
    assert result.output.splitlines()[-1] == "voicecoach: Stopped: the microphone check did not finish."


def test_without_the_listen_extra_one_line(run, monkeypatch):
    monkeypatch.setattr(micro, "available", lambda: False)
    result = run("mic-check")
    assert result.exit_code == ExitStatus.MISSING_DEPENDENCY == 4
    assert result.output == (
        "voicecoach: error: voice control is not installed: install the voice-control extra: "
        "pip install 'voicecoach[listen]' (or run ./scripts/run --listen)\n"
    )


def test_without_portaudio_one_line(run, monkeypatch):
    pytest.importorskip("pymicro_wakeword", reason="the listen extra")

    def missing():
        raise PortAudioMissing("cannot play sound live: PortAudio library not found")

    monkeypatch.setattr(devices, "list_input_devices", missing)
    result = run("mic-check")
    assert result.exit_code == 4
    assert result.output == (
        "voicecoach: error: cannot use the microphone: PortAudio is not installed: sudo apt-get install "
        "libportaudio2 (Debian/Ubuntu) or brew install portaudio (macOS)\n"
    )


def test_without_a_microphone_one_line(run, monkeypatch):
    pytest.importorskip("pymicro_wakeword", reason="the listen extra")
    monkeypatch.setattr(devices, "list_input_devices", lambda: [])
    result = run("mic-check")
    assert result.exit_code == ExitStatus.NO_DEVICE == 5
    assert result.output == (
        "voicecoach: error: no microphone found: connect one, then run voicecoach mic-check again\n"
    )


def test_a_microphone_that_cannot_be_opened_one_line(run, monkeypatch):
    pytest.importorskip("pymicro_wakeword", reason="the listen extra")
    monkeypatch.setattr(devices, "list_input_devices", lambda: [MIC])
    monkeypatch.setattr(miccheck, "_voice", lambda request, emit: lambda text: None)

    def refused(index):
        raise OSError("Device unavailable [PaErrorCode -9985]")

    monkeypatch.setattr("voicecoach.control.voice.mic.Microphone", refused)
    result = run("mic-check")
    assert result.exit_code == 5
    assert result.output == (
        "voicecoach: error: cannot open the microphone (Device unavailable [PaErrorCode -9985]): connect one, or "
        "choose another with --mic (voicecoach devices lists them)\n"
    )


@pytest.mark.parametrize("bad", ["loud", "0.3", "nan"])
def test_a_bad_sensitivity_is_a_usage_error(run, bad):
    for command in (("mic-check",), ("play", "inner-knee")):
        result = run(*command, "--wake-sensitivity", bad)
        assert result.exit_code == 2
        assert "is not low, medium, high, or a cutoff from 0.5 to 0.99." in result.output


def test_config_set_wake_sensitivity(run, tmp_path, monkeypatch):
    conf = tmp_path / "c.toml"
    monkeypatch.setenv("VOICECOACH_CONFIG", str(conf))
    assert run("config", "set", "wake_sensitivity", "0.92").output == f"wake_sensitivity: 0.92 (written to {conf})\n"
    assert conf.read_text() == "wake_sensitivity = 0.92\n"
    assert run("config", "set", "wake_sensitivity", "high").exit_code == 0
    assert 'wake_sensitivity = "high"' in conf.read_text()
    bad = run("config", "set", "wake_sensitivity", "loud")
    assert bad.exit_code == 2
    assert "wake_sensitivity must be low, medium, high, or a cutoff from 0.5 to 0.99, not 'loud'" in bad.output


def test_play_passes_the_sensitivity_on_and_it_turns_listening_on(run, monkeypatch, tmp_path):
    from voicecoach.live import launch
    from voicecoach.live.launch import LiveResult

    asked = []
    monkeypatch.setattr(launch, "run_live", lambda request: asked.append(request) or LiveResult(True, 0))
    assert run("play", "inner-knee", "--wake-sensitivity", "0.9").exit_code == 0
    assert asked[-1].listen and asked[-1].wake_sensitivity == 0.9
    conf = tmp_path / "c.toml"
    conf.write_text('wake_sensitivity = "medium"\n')
    monkeypatch.setenv("VOICECOACH_CONFIG", str(conf))
    assert run("play", "inner-knee").exit_code == 0
    assert not asked[-1].listen and asked[-1].wake_sensitivity == "medium"  # from the file it only chooses


def test_the_session_listens_with_the_cutoff_asked_for():
    pytest.importorskip("pymicro_wakeword", reason="the listen extra")
    pytest.importorskip("pocketsphinx", reason="the listen extra")
    from voicecoach.live.launch import voice_logic

    assert voice_logic("hey jarvis", "low").detector.cutoff == 0.97
    assert voice_logic("alexa", 0.75).detector.cutoff == 0.75
    assert voice_logic(None).detector.cutoff == 0.88  # the default level, high
