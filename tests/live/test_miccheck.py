"""The microphone check's steps (live/miccheck.py) with a scripted microphone, detector and recognizer."""

from __future__ import annotations

from helpers.fakemic import FakeDetector, FakeMic, FakeRecognizer, word

from voicecoach.control.voice import RATE, Heard
from voicecoach.control.voice.listener import VoiceLogic
from voicecoach.live.miccheck import Check, Parts


def person(level_dbfs: float = -30.0, *, command: bool = True, silent_for: tuple[str, ...] = ()):
    """Answers every "say" prompt with a word at ``level_dbfs``; stays quiet when asked to."""

    def respond(prompt: str):
        if "quiet" in prompt or any(s in prompt for s in silent_for):
            return None
        if "command" in prompt and not command:
            return None
        return word(level_dbfs)

    return respond


def run(respond, scores, *, floor=-65.0, heard=Heard("pause", "pause"), others=None, takes=3):
    mic = FakeMic(respond, floor)
    lines: list[str] = []
    det = FakeDetector("Hey Jarvis", scores)
    other_dets = others or {}
    parts = Parts(
        mic=mic,
        say=mic.say,
        emit=lines.append,
        detector=det,
        detector_for=lambda w: other_dets[w],
        listener=lambda: VoiceLogic(det, FakeRecognizer(heard)),
        word="hey jarvis",
        others=tuple(other_dets),
    )
    result = Check(parts, takes=takes, timeout_s=6.0).run()
    return result, lines, mic


def test_a_good_room_and_voice():
    result, lines, mic = run(person(-30), [0.99, 1.0, 0.99])
    assert result.ok
    assert lines[0] == "Microphone check. Wake word: Hey Jarvis (it wakes above 0.94; the model's own cutoff is 0.97)."
    assert "Noise floor: -65 dBFS (quiet)." in lines
    assert "Take 1: heard clearly (0.99; it wakes above 0.94); your voice at -30 dBFS, 35 dB above the noise." in lines
    assert 'Command: heard "pause": pause.' in lines
    assert "Wake word: heard in 3 of 3 takes (scores 0.99 to 1.00; it wakes above 0.94)." in lines
    assert "Sensitivity: no change needed (every take was heard clearly at the sensitivity in use)." in lines
    assert lines[-1] == "Result: voice control should work here."
    assert not any(line.startswith(("Warning", "Step 4", "Suggested")) for line in lines)
    # every prompt spoken, and every printed line is one whole line
    assert mic.prompts[:3] == ["Microphone check. Please stay quiet for a moment.", "Say: Hey Jarvis.", "Heard."]
    assert mic.prompts[-1] == "Voice control should work here."
    assert all("\n" not in line and "\r" not in line for line in lines)


def test_a_take_ends_soon_after_the_speaker_stops():
    _, _, mic = run(person(-30), [0.99, 0.99, 0.99])
    # quiet 3.3 s, three takes and the command of about 0.3 + 0.5 + 0.8 + 0.8 s each: far under the timeouts
    assert mic.samples_read < 15 * RATE


def test_a_weak_wake_word_asks_for_the_others_and_proposes_a_cutoff():
    others = {
        "okay nabu": FakeDetector("Okay Nabu", [0.98, 0.99], cutoff=0.7, model_cutoff=0.85),
        "alexa": FakeDetector("Alexa", [0.85, 0.99], cutoff=0.8, model_cutoff=0.9),
    }
    result, lines, mic = run(person(-30), [0.93, 0.96, 0.95], others=others)
    assert not result.ok  # a take was missed at the cutoff in use
    assert "Take 1: not heard (0.93; it wakes above 0.94); your voice at -30 dBFS, 35 dB above the noise." in lines
    assert (
        "Take 2: only just heard (0.96; it wakes above 0.94); your voice at -30 dBFS, 35 dB above the noise." in lines
    )
    assert "Step 4: Hey Jarvis is weak for your voice; trying the other wake words." in lines
    assert "Okay Nabu, take 2: heard clearly (0.99; it wakes above 0.70)." in lines
    assert "Alexa, take 1: only just heard (0.85; it wakes above 0.80)." not in lines  # 0.05 over: clear
    assert (
        "Suggested sensitivity: 0.9 (your takes scored 0.93 to 0.96): voicecoach config set wake_sensitivity 0.9, "
        "or play --wake-sensitivity 0.9."
    ) in lines
    assert (
        'Suggested wake word: "okay nabu", heard more clearly for your voice: voicecoach config set wake_word '
        '"okay nabu", or play --wake-word "okay nabu".'
    ) in lines
    assert "Say: Okay Nabu." in mic.prompts and "Try the wake word okay nabu." in mic.prompts
    assert "I suggest a wake sensitivity of 0.9." in mic.prompts
    assert lines[-1] == "Result: voice control may not work well here; see the lines above."


def test_no_setting_helps_a_voice_far_under_the_cutoff():
    result, lines, _ = run(person(-30), [0.4, 0.5, 0.45])
    assert (
        "Sensitivity: no setting helps (your takes scored as low as 0.40, under the lowest safe cutoff (0.50))."
        in lines
    )
    assert not result.ok


def test_a_silent_microphone_times_out_each_step():
    result, lines, mic = run(lambda prompt: None, [])
    assert [line for line in lines if line.startswith("Take") and "nothing" in line] == [
        f"Take {i}: nothing heard within 6 s." for i in (1, 2, 3)
    ]
    assert "Command: the wake word was not heard within 6 s." in lines
    assert (
        "Warning: no speech was heard over the room's noise: is the microphone muted, or the wrong one? Choose one "
        "with --mic (voicecoach devices lists them)."
    ) in lines
    assert not result.ok and result.command == "no wake"
    # each step listened for its timeout, no longer
    assert mic.samples_read <= (3.3 + 4 * (6.0 + 0.3) + 0.1) * RATE


def test_a_noisy_room_and_a_quiet_microphone_are_said():
    result, lines, _ = run(person(-50), [0.99, 0.99, 0.99], floor=-56.0)
    warnings = [line for line in lines if line.startswith("Warning")]
    assert warnings == [
        "Warning: the room is too noisy: your voice is 6 dB above the noise (10 dB or more is needed). Turn off a "
        "fan, close the window, or come closer to the microphone.",
        "Warning: the microphone is too quiet: your voice reached -50 dBFS (-45 or louder is needed). Turn up its "
        "input volume, or come closer.",
    ]
    assert not result.ok


def test_a_command_not_understood():
    result, lines, _ = run(person(-30), [0.99, 0.99, 0.99], heard=Heard("unknown"))
    assert "Command: the wake word was heard, the command was not understood." in lines
    assert not result.ok and result.command == "unknown"


def test_the_wake_word_then_nothing():
    result, lines, _ = run(person(-30), [0.99, 0.99, 0.99], heard=Heard(""))
    assert "Command: the wake word was heard, then no command." in lines
    assert not result.ok
