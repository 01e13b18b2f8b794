"""Exports with music: measured on the file, with a steady tone as the music."""

from __future__ import annotations

import re
import subprocess
import wave

import numpy as np
import pytest

from voicecoach.core import duck
from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options
from voicecoach.export.encode import export
from voicecoach.render import bed as bedmod
from voicecoach.render import mix, music
from voicecoach.render.earcons import earcon
from voicecoach.render.prepare import prepare, session_gain
from voicecoach.speech.clip import MIX_RATE_HZ
from voicecoach.speech.speaker import SpeechSettings

pytestmark = pytest.mark.audio

PLAN = parse_plan("""\
title: Music
safety: Stop if it hurts.
defaults: {countdown: 3, get_ready: 4}
exercises:
  - {name: Stretch, setup: Sit tall., hold: 15}
  - {name: Lift, setup: Lie down., reps: 2, tempo: {lift: 1, lower: 1}}
""")
TONE_HZ = 40.0  # under the voice's lowest partials: the tone's level can be read through the speech


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOICECOACH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield prepare(PLAN, Options(for_file=True), SpeechSettings(engine="system"))


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    path = tmp_path_factory.mktemp("music") / "tone.flac"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         f"aevalsrc=0.3*sin(2*PI*{TONE_HZ}*t):s=48000:d=90", "-ac", "2", str(path)],
        check=True,
    )  # fmt: skip
    return music.playlist([path])


def _bed(prepared, tone, **kw):
    return bedmod.for_session(prepared.timeline, tone, target_lufs=-16.0, **kw)


def _read(path):
    with wave.open(str(path)) as w:
        return w.getnchannels(), np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768


def _tone_db(x: np.ndarray, at_s: float, window_s: float = 0.1) -> float:
    """The tone's level (dB) around ``at_s``: the signal against a 40 Hz reference over a window (a lock-in)."""
    lo = int((at_s - window_s / 2) * MIX_RATE_HZ)
    seg = x[lo : lo + int(window_s * MIX_RATE_HZ)]
    t = (np.arange(lo, lo + seg.shape[0])) / MIX_RATE_HZ
    amp = 2 * abs(np.mean(seg * np.exp(-2j * np.pi * TONE_HZ * t)))
    return 20 * np.log10(max(amp, 1e-9))


@pytest.fixture(scope="module")
def files(prepared, tone, tmp_path_factory):
    d = tmp_path_factory.mktemp("out")
    gain = session_gain(prepared)
    export(prepared.timeline, prepared.clips, d / "plain.wav", gain=gain)
    export(prepared.timeline, prepared.clips, d / "music.wav", gain=gain, bed=_bed(prepared, tone))
    return d


def test_music_makes_a_stereo_file_of_the_same_length(files):
    channels, plain = _read(files / "plain.wav")
    channels2, with_music = _read(files / "music.wav")
    assert (channels, channels2) == (1, 2)
    assert with_music.shape[0] == 2 * plain.shape[0]


def test_the_duck_is_deep_and_early_and_never_pumps(prepared, files):
    _, pcm = _read(files / "music.wav")
    _, plain = _read(files / "plain.wav")
    # The file without music, taken off: what is left is the bed (and where the limiter acted, its small moves).
    left = pcm[0::2] - plain * float(mix.STEREO_SPEECH)
    spans = duck.merged(duck.cue_spans(prepared.timeline, lambda n: earcon(n).duration_s))
    fade = duck.plan(prepared.timeline).fade
    cues = duck.cue_spans(prepared.timeline, lambda n: earcon(n).duration_s)
    free = [c for c in cues if c[0] > duck.FADE_IN_S + 0.5 and fade.at(c[1] + 2.0) == 1.0]
    assert len(free) >= 5
    rises = [(a, b) for a, b in zip(spans, spans[1:]) if b[0] - a[1] > 2.5]
    assert rises
    up = float(np.median([_tone_db(left, (a[1] + b[0]) / 2) for a, b in rises]))
    for start, end in free:
        # Complete at the first sample and all through the cue: 14 dB down (up to 3 dB more where the
        # true-peak limiter turns the whole mix down around the voice's loudest peaks).
        for t in np.arange(start + 0.025, max(end, start + 0.03), 0.25):
            assert up - 17.0 <= _tone_db(left, t, 0.05) <= up - 13.0, (start, t)
    for _, (start, _) in rises:
        # Falling already 150 ms before a duck begins.
        assert _tone_db(left, start - 0.15, 0.05) < up - 2.0
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if start - end < 1.0:  # never comes up in a gap under a second
            assert _tone_db(left, (end + start) / 2, 0.05) < up - 12.0


def test_the_bed_is_fully_down_at_every_cues_first_frame(prepared, tone):
    bed = _bed(prepared, tone)
    for cue in prepared.timeline.cues:
        first = int(round(cue.start_s * MIX_RATE_HZ))
        fade = bed.plan.fade.at(first / MIX_RATE_HZ)
        assert bed.envelope(first, first + 1)[0] == pytest.approx(10 ** (-14 / 20) * fade, rel=1e-5)
        assert bed.plan.duck.at((first - 0.15 * MIX_RATE_HZ) / MIX_RATE_HZ) < 0  # already falling 150 ms ahead


def test_cue_onsets_are_those_without_music(prepared, tone):
    """The speech's samples are placed where they were: the stereo mix minus its bed is the speech, on the same frames."""
    gain = session_gain(prepared)
    bed = _bed(prepared, tone)
    end = mix.total_frames(prepared.timeline)
    speech = np.concatenate(list(mix.blocks(prepared.timeline, prepared.clips, gain=gain, limit=False)))
    both = np.concatenate(list(mix.blocks(prepared.timeline, prepared.clips, gain=gain, limit=False, bed=bed)))
    music_only = np.concatenate(list(_bed(prepared, tone).blocks(0, end, 4096)))
    voice = (both[:, 0] - music_only[:, 0]) / mix.STEREO_SPEECH
    unclipped = (np.abs(speech) < 0.9) & (np.abs(both[:, 0]) < 0.9)  # limit=False clips to [-1, 1]
    assert unclipped.mean() > 0.95
    np.testing.assert_allclose(voice[unclipped], speech[unclipped], atol=1e-5)
    for cue in prepared.timeline.cues:  # and every cue starts on its frame: silence before it, sound after
        first = int(round(cue.start_s * MIX_RATE_HZ))
        assert np.all(np.abs(voice[first - 50 : first]) < 1e-5) or np.any(speech[first - 50 : first])
        assert np.any(np.abs(voice[first : first + 2000]) > 1e-3)


def test_the_mix_with_music_is_the_same_for_any_block_size(prepared, tone):
    gain = session_gain(prepared)

    def run(size):
        blocks = mix.blocks(prepared.timeline, prepared.clips, gain=gain, block_frames=size, bed=_bed(prepared, tone))
        return np.concatenate(list(blocks))

    ref = run(65536)
    assert ref.shape == (mix.total_frames(prepared.timeline), 2)
    np.testing.assert_array_equal(run(4096), ref)
    np.testing.assert_array_equal(run(1000), ref)


LOUDNORM = re.compile(r'"input_(i|tp)" : "(-?[\d.]+|-inf)"')


@pytest.mark.parametrize(("ext", "preset"), [(".mp3", None), (".m4a", None), (".flac", "accessible")])
def test_music_exports_reach_the_loudness_under_minus_1_dbtp(prepared, tone, tmp_path, ext, preset):
    out = tmp_path / f"s{ext}"
    duck_db = duck.preset_duck(duck.DUCK_DB, duck.MUSIC_VOLUME_DB, preset)
    export(
        prepared.timeline, prepared.clips, out, gain=session_gain(prepared), bed=_bed(prepared, tone, duck_db=duck_db)
    )
    err = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(out), "-af", "loudnorm=print_format=json", "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    found = dict(LOUDNORM.findall(err))
    assert abs(float(found["i"]) + 16.0) <= 1.0, found
    assert float(found["tp"]) <= -1.0, found
