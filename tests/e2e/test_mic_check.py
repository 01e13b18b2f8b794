"""`voicecoach mic-check` for real: a generated speaker answers its prompts into the virtual microphone.

A private PulseAudio server: the check speaks its prompts on ``vc_test``
("the speakers") and listens to the monitor of ``vc_room`` ("the room"), a
16 kHz null sink. Each time the check prints a line asking for the wake word
or a command, the test plays the generated "Hey Jarvis." (or "Hey Jarvis,
pause.") into the room with paplay, as a person at the microphone would. The
voice is the Piper voice shifted in pitch (helpers/speakers.py), which no
threshold was chosen on.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import pytest
from helpers.pulse import PulseServer
from helpers.room import listening_room
from helpers.speakers import say, write_wav

pytestmark = [pytest.mark.audio, pytest.mark.slow]


@pytest.fixture
def room(tmp_path, clip_cache, pulse: PulseServer):
    with listening_room(pulse, clip_cache, tmp_path / "data") as env:
        yield env


def test_mic_check_hears_the_takes_and_the_command(room, pulse: PulseServer, tmp_path):
    takes = {
        "wake": write_wav(tmp_path / "wake.wav", say("Hey Jarvis.", pitch=0.95, pace=1.0)),
        "command": write_wav(tmp_path / "command.wav", say("Hey Jarvis, pause.", pitch=0.95, pace=1.0)),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "voicecoach", "mic-check", "--takes", "2", "--timeout", "6"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=room,
        text=True,
    )
    lines: list[str] = []
    answered: list[str] = []

    def answer() -> None:  # a person at the microphone: answers each prompt as it is printed
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if re.fullmatch(r'Take \d of 2: say "Hey Jarvis" now\.', lines[-1]):
                answered.append("wake")
                pulse.play_into_room(takes["wake"])
            elif lines[-1].startswith('Step 3: say "Hey Jarvis", then a command'):
                answered.append("command")
                pulse.play_into_room(takes["command"])

    reader = threading.Thread(target=answer, daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=240)  # the first run synthesizes the prompts (a cold clip cache)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    err = proc.stderr.read()
    print("\n".join(lines))  # shown when the test fails: every line the check printed
    assert "Traceback" not in err, err
    assert answered == ["wake", "wake", "command"], lines
    assert lines[0] == "Microphone check. Wake word: Hey Jarvis (it wakes above 0.88; the model's own cutoff is 0.97)."
    assert lines[2] == "Noise floor: -96 dBFS (quiet)."  # a null sink: digital silence
    heard = [line for line in lines if re.match(r"Take \d: ", line)]
    assert len(heard) == 2 and all(re.match(r"Take \d: heard clearly \(", line) for line in heard), lines
    assert 'Command: heard "pause": pause.' in lines
    assert lines[-1] == "Result: voice control should work here."
    assert rc == 0, (lines, err)
