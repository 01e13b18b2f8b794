"""The speech layer, with the real system voice (espeak-ng on Linux): no mocks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.errors import MissingDependencyError, VoicecoachError
from voicecoach.speech.clip import MIX_RATE_HZ
from voicecoach.speech.speaker import Speaker, SpeechSettings, VoiceInfo, list_voices

pytestmark = pytest.mark.audio

SILENCE = 10 ** (-50 / 20)


def loud_span_s(samples: np.ndarray) -> tuple[float, float]:
    """Seconds of near-silence before the first and after the last sound."""
    loud = np.flatnonzero(np.abs(samples) >= SILENCE)
    return loud[0] / MIX_RATE_HZ, (len(samples) - 1 - loud[-1]) / MIX_RATE_HZ


def the_clip_file(cache: Path) -> Path:
    (path,) = cache.glob("*.clip")
    return path


def test_phrase_becomes_a_trimmed_clip(tmp_path: Path) -> None:
    clip = Speaker(cache_dir=tmp_path).clip("Rest for thirty seconds")
    assert clip.sample_rate_hz == MIX_RATE_HZ
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert 0.2 < clip.duration_s < 3.0
    assert np.abs(clip.samples).max() > 0.1
    lead, tail = loud_span_s(clip.samples)
    assert lead <= 0.02 and tail <= 0.02


def test_each_phrase_in_a_batch_gets_its_own_audio(tmp_path: Path) -> None:
    # pyttsx3 2.99 renders only the last item queued before runAndWait().
    texts = ["One", "Two three four five six seven eight", "Switch sides", "One"]
    seen: list[tuple[int, int]] = []
    speaker = Speaker(cache_dir=tmp_path / "batch")
    clips = speaker.clips(texts, progress=lambda done, total: seen.append((done, total)))
    assert list(clips) == ["One", "Two three four five six seven eight", "Switch sides"]
    assert speaker.synthesized == 3 and seen == [(1, 3), (2, 3), (3, 3)]
    one, long, switch = (clips[t].duration_s for t in clips)
    assert one < switch < long
    # Each matches the same phrase synthesized on its own (espeak-ng varies by a few
    # samples from one utterance to the next in a process, so not bit for bit).
    alone = Speaker(cache_dir=tmp_path / "alone").clips(clips)
    assert all(alone[t].duration_s == pytest.approx(clips[t].duration_s, rel=0.03) for t in clips)


def test_second_run_synthesizes_nothing(tmp_path: Path) -> None:
    texts = ["Hold", "Lower slowly"]
    first = Speaker(cache_dir=tmp_path).clips(texts)
    again = Speaker(cache_dir=tmp_path)
    second = again.clips(texts)
    assert again.synthesized == 0
    assert all(np.array_equal(first[t].samples, second[t].samples) for t in texts)
    assert again.length_s("Hold") == first["Hold"].duration_s


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"], ids=str)
def test_damaged_cache_entry_is_remade(tmp_path: Path, damage: str) -> None:
    original = Speaker(cache_dir=tmp_path).clip("Keep your back straight")
    path = the_clip_file(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[-100] ^= 0xFF
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    speaker = Speaker(cache_dir=tmp_path)
    assert speaker.length_s("Keep your back straight") == pytest.approx(original.duration_s, rel=0.03)
    assert speaker.synthesized == 1
    third = Speaker(cache_dir=tmp_path)
    third.clip("Keep your back straight")
    assert third.synthesized == 0  # the entry was rewritten whole


def test_env_var_sets_the_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path / "env"))
    Speaker().clip("Breathe")
    assert the_clip_file(tmp_path / "env")


def test_faster_rate_is_shorter(tmp_path: Path) -> None:
    text = "Slowly raise both arms above your head"
    slow = Speaker(SpeechSettings(rate=120), cache_dir=tmp_path).length_s(text)
    fast = Speaker(SpeechSettings(rate=300), cache_dir=tmp_path).length_s(text)
    assert fast < slow * 0.6


def test_volume_scales_the_clip(tmp_path: Path) -> None:
    full = Speaker(cache_dir=tmp_path).clip("Stand tall")
    half = Speaker(SpeechSettings(volume=0.5), cache_dir=tmp_path).clip("Stand tall")
    assert half.duration_s == pytest.approx(full.duration_s, rel=0.03)
    assert np.abs(half.samples).max() == pytest.approx(np.abs(full.samples).max() / 2, rel=0.1)


def test_nothing_reaches_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    speaker = Speaker(cache_dir=tmp_path)
    speaker.clips([f"Set {n} of three" for n in range(1, 4)])
    assert speaker.synthesized == 3
    out, err = capfd.readouterr()
    assert out == "" and "Traceback" not in err


def test_unknown_voice_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VoicecoachError) as caught:
        Speaker(SpeechSettings(voice="no-such-voice-xyz"), cache_dir=tmp_path).clip("Hello")
    assert "no-such-voice-xyz" in caught.value.message
    assert "voicecoach voices" in (caught.value.hint or "")
    assert "English" in (caught.value.hint or "")


@pytest.mark.parametrize(
    "settings",
    [
        SpeechSettings(rate=40),
        SpeechSettings(rate=1000),
        SpeechSettings(volume=1.5),
        SpeechSettings(volume=-0.1),
        SpeechSettings(engine="nope"),
    ],
    ids=["rate-40", "rate-1000", "volume-1.5", "volume-negative", "engine-nope"],
)
def test_bad_settings_are_clear_errors(settings: SpeechSettings) -> None:
    with pytest.raises(VoicecoachError):
        Speaker(settings)


def test_voice_by_name_language_and_describe(tmp_path: Path) -> None:
    us = Speaker(SpeechSettings(language="en-us"), cache_dir=tmp_path)
    assert us.describe() == "espeak-ng voice English (America), 175 wpm"
    named = Speaker(SpeechSettings(voice="English (America)", rate=200, volume=0.8), cache_dir=tmp_path)
    assert named.describe() == "espeak-ng voice English (America), 200 wpm, volume 80%"
    with pytest.raises(VoicecoachError):
        Speaker(SpeechSettings(language="xx-nope"), cache_dir=tmp_path).clip("Hello")


def test_list_voices_has_english() -> None:
    voices = list_voices()
    assert all(isinstance(v, VoiceInfo) and v.engine == "espeak" for v in voices)
    english = [v for v in voices if any(lang.startswith("en") for lang in v.languages)]
    assert any(v.id == "gmw/en-us" for v in english)


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_is_cheap() -> None:
    out = run_python(
        "import sys, voicecoach.speech; "
        "print(sorted(m for m in ('pyttsx3', 'scipy', 'sounddevice') if m in sys.modules))"
    )
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("blocked", "hint"),
    [
        ("pyttsx3", "pip install pyttsx3"),
        ("pyttsx3.drivers._espeak", "sudo apt-get install espeak-ng"),  # what a missing libespeak-ng breaks
    ],
    ids=["no-pyttsx3", "no-libespeak"],
)
def test_missing_dependency_is_a_clear_error(tmp_path: Path, blocked: str, hint: str) -> None:
    out = run_python(
        f"import sys; sys.modules[{blocked!r}] = None\n"  # makes importing it fail
        "from voicecoach.speech.speaker import Speaker\n"
        "from voicecoach.errors import MissingDependencyError\n"
        f"try: Speaker(cache_dir={str(tmp_path)!r}).clip('Hello')\n"
        "except MissingDependencyError as e: print(int(e.exit_status), e.render())\n"
    )
    assert out.startswith(f"{int(MissingDependencyError.exit_status)} The system voice is not available")
    assert hint in out


@pytest.mark.parametrize(
    ("fmt", "codec"),
    [("aiff", "pcm_s16be"), ("aiff", "pcm_s16le"), ("aiff", "pcm_s24be"), ("wav", "pcm_u8")],
    ids=lambda v: v,
)
def test_reads_what_other_system_voices_write(tmp_path: Path, fmt: str, codec: str) -> None:
    # macOS writes AIFF, SAPI5 may write other PCM widths: made here by ffmpeg.
    import shutil
    import wave

    from voicecoach.speech.wavfile import read_audio

    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    tone = (0.5 * np.sin(np.arange(2205) * 2 * np.pi * 440 / 22050) * 32767).astype("<i2")
    with wave.open(str(tmp_path / "in.wav"), "wb") as w:  # stereo: both channels the same
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes(np.repeat(tone, 2).tobytes())
    out = tmp_path / f"out.{fmt}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(tmp_path / "in.wav"), "-c:a", codec, str(out)], check=True, timeout=30
    )
    samples, rate = read_audio(out)
    assert rate == 22050 and len(samples) == len(tone)
    assert np.abs(samples - tone / 32768).max() < (0.01 if codec == "pcm_u8" else 1e-4)
