"""Music for the bed: real files of real formats made by ffmpeg here, decoded as a stream; bad input named."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voicecoach.core import duck
from voicecoach.core.timeline import Cue, Timeline
from voicecoach.errors import ExitStatus, MusicError
from voicecoach.render import bed as bedmod
from voicecoach.render import music
from voicecoach.speech.clip import MIX_RATE_HZ


def make_tone(path: Path, *, seconds: float = 2.0, freq: float = 440.0, rate: int = 44100, channels: int = 1) -> Path:
    """A steady sine (amplitude 0.25) encoded by ffmpeg in the format of ``path``'s extension."""
    codec = {".m4a": ["-c:a", "aac"], ".ogg": ["-c:a", "libvorbis"], ".mp3": ["-c:a", "libmp3lame"]}
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"aevalsrc=0.25*sin(2*PI*{freq}*t):s={rate}:d={seconds}",
         "-ac", str(channels), "-ar", str(rate), *codec.get(path.suffix, []), str(path)],
        check=True,
    )  # fmt: skip
    return path


def read_all(track: music.Track, offset: int = 0, block: int = 4096) -> np.ndarray:
    dec = music.Decoder(track, offset)
    try:
        parts = [dec.read(min(block, track.frames - at)) for at in range(offset, track.frames, block)]
    finally:
        dec.close()
    return np.concatenate(parts)


@pytest.mark.parametrize(
    ("ext", "rate", "channels"),
    [
        (".mp3", 44100, 2),
        (".mp3", 22050, 1),
        (".m4a", 48000, 2),
        (".m4a", 44100, 1),
        (".ogg", 22050, 2),
        (".ogg", 48000, 1),
        (".flac", 48000, 2),
        (".flac", 22050, 1),
        (".wav", 44100, 1),
        (".wav", 48000, 2),
    ],
)
def test_real_formats_decode_as_a_stereo_stream_at_the_mix_rate(tmp_path, ext, rate, channels):
    track = music.probe(make_tone(tmp_path / f"tone{ext}", rate=rate, channels=channels))
    assert track.frames == pytest.approx(2.0 * MIX_RATE_HZ, abs=0.1 * MIX_RATE_HZ)  # encoders pad a little
    pcm = read_all(track)
    assert pcm.shape == (track.frames, 2) and pcm.dtype == np.float32
    middle = pcm[MIX_RATE_HZ // 2 : MIX_RATE_HZ]
    assert np.allclose(middle[:, 0], middle[:, 1], atol=1e-3)  # mono is heard in both channels
    spectrum = np.abs(np.fft.rfft(middle[:, 0]))
    assert np.argmax(spectrum) * MIX_RATE_HZ / middle.shape[0] == pytest.approx(440, abs=4)
    # A mono signal is heard at -3 dB in each of two channels (ffmpeg's upmix: the same loudness).
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.25 / 2, rel=0.1)


def test_a_decoder_started_in_the_middle_continues_the_song(tmp_path):
    track = music.probe(make_tone(tmp_path / "t.wav", seconds=3.0, channels=2))
    whole = read_all(track)
    offset = 50_000
    np.testing.assert_allclose(read_all(track, offset), whole[offset:], atol=1e-6)


def test_the_loudness_is_ffmpegs_own_measure(tmp_path):
    path = make_tone(tmp_path / "t.flac", seconds=3.0, freq=1000.0, channels=2)
    # A 1 kHz sine of peak 0.25/sqrt(2) in each channel (the upmix): mean square 1/64 per channel,
    # -0.691 + 10 log10(2/64) + 0.69 (the K-weighting's gain at 1 kHz).
    assert music.measure_lufs(path) == pytest.approx(-0.691 + 10 * np.log10(2 / 64) + 0.69, abs=0.3)


def test_folders_are_taken_by_name_and_shuffled_by_seed(tmp_path):
    for name in ("b.wav", "a.flac", "c.mp3", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in music.files([tmp_path])] == ["a.flac", "b.wav", "c.mp3"]
    one, two = music.files([tmp_path], shuffle=7), music.files([tmp_path], shuffle=7)
    assert one == two and sorted(one) == sorted(music.files([tmp_path]))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _unreadable(tmp_path: Path) -> Path:
    path = make_tone(tmp_path / "locked.wav")
    path.chmod(0)
    return path


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda d: d / "missing.mp3", "does not exist"),
        (lambda d: _write(d / "empty.mp3", b""), "is empty"),
        (lambda d: _write(d / "song.mp3", b"not a song\n" * 50), "is not audio"),
        (lambda d: (d / "nothing").mkdir() or d / "nothing", "has no audio files"),
        (
            lambda d: (
                subprocess.run(
                    [
                        "ffmpeg",
                        "-nostdin",
                        "-loglevel",
                        "error",
                        "-f",
                        "lavfi",
                        "-i",
                        "testsrc=d=1:s=32x32",
                        "-c:v",
                        "mpeg4",
                        str(d / "video.mkv"),
                    ],
                    check=True,
                )
                and d / "video.mkv"
            ),
            "has no audio track",
        ),  # fmt: skip
    ],
)
def test_bad_music_is_named_with_its_exit_code(tmp_path, make, said):
    path = make(tmp_path)
    with pytest.raises(MusicError, match=said) as caught:
        music.playlist([path])
    assert str(path) in caught.value.message
    assert caught.value.exit_status == ExitStatus.MUSIC == 7


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(MusicError, match="permission denied"):
        music.playlist([_unreadable(tmp_path)])


# --- the bed -----------------------------------------------------------------------------


def _bed(tracks, timeline, **kw):
    plan = duck.plan(timeline, 14.0)
    return bedmod.Bed(tracks, plan, -30.0, lufs=lambda t: -20.0, **kw)


def _all(bed, start, end, size):
    return np.concatenate(list(bed.blocks(start, end, size)))


def test_the_bed_is_the_same_for_any_block_size(tmp_path):
    tracks = [music.probe(make_tone(tmp_path / "a.wav", seconds=1.5)), music.probe(make_tone(tmp_path / "b.ogg"))]
    timeline = Timeline("t", 9.0, (Cue(2.0, 3.0, "intro", "Hi."), Cue(6.0, 6.5, "end", "Bye.")))
    end = int(9.0 * MIX_RATE_HZ)
    ref = _all(_bed(tracks, timeline), 0, end, 65536)
    assert ref.shape == (end, 2)
    for size in (1000, 4096, 32768):
        np.testing.assert_array_equal(_all(_bed(tracks, timeline), 0, end, size), ref)


def test_the_playlist_loops_with_a_crossfade_and_no_gap(tmp_path):
    tracks = [music.probe(make_tone(tmp_path / "a.wav", seconds=2.0))]
    timeline = Timeline("t", 12.0, ())
    bed = _bed(tracks, timeline)
    out = _all(bed, 0, int(12 * MIX_RATE_HZ), 4096)
    assert bed.crossfade == tracks[0].frames // 4
    # Once faded in and before fading out, the level never drops as the loop comes round (equal-power crossfade).
    rms = [np.sqrt(np.mean(out[i : i + 2205, 0] ** 2)) for i in range(4 * MIX_RATE_HZ, 7 * MIX_RATE_HZ, 2205)]
    assert min(rms) > 0.5 * max(rms)


def test_a_track_that_fails_midway_stops_the_music_in_one_line(tmp_path):
    path = make_tone(tmp_path / "a.wav", seconds=3.0)
    tracks = [music.probe(path)]
    said: list[str] = []
    bed = _bed(tracks, Timeline("t", 6.0, ()), on_error=said.append)
    blocks = bed.blocks(0, 6 * MIX_RATE_HZ, 4096)
    next(blocks)
    path.unlink()  # the playlist comes round: ffmpeg cannot open it again
    rest = list(blocks)
    assert len(said) == 1 and "music stopped" in said[0] and bed.failed
    assert not rest[-1].any()


def test_an_export_bed_raises_when_a_track_fails(tmp_path):
    path = make_tone(tmp_path / "a.wav", seconds=1.0)
    tracks = [music.probe(path)]
    path.unlink()
    with pytest.raises(MusicError, match="stopped playing"):
        _all(_bed(tracks, Timeline("t", 2.0, ())), 0, 2 * MIX_RATE_HZ, 4096)
