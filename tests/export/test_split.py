"""``export --split``: a file per chapter, cut from one render, joined without a gap (real ffmpeg, real decoding)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers.fakes import CountingClips, tone

from voicecoach import atomic
from voicecoach.core.timeline import Chapter, Cue, Timeline
from voicecoach.errors import OutputError
from voicecoach.export import gapless, split
from voicecoach.export.encode import export
from voicecoach.render import mix
from voicecoach.speech.clip import MIX_RATE_HZ, Clip, pcm16_bytes

pytestmark = pytest.mark.audio

RATE = MIX_RATE_HZ
TAGS = {"album": "Knees, day 3", "artist": "voicecoach", "comment": "level low"}
GAIN = 0.8


def session() -> tuple[Timeline, dict[str, Clip]]:
    """A drone under the whole session (so every cut is through sound), tone bursts every 2 s, four chapters.

    The chapters start where the speech before them ends, as the scheduler's do: the files start at
    the first cue after that (1.25, 5.25, 9.25 s).
    """
    duration = 11.9
    clips = {f"burst {i}": tone(300 + 40 * i, 0.6, amp=0.2, fade_s=0.01) for i in range(3)}
    clips["drone"] = tone(220, duration, amp=0.2)
    cues = [Cue(0.0, duration, "intro", "drone")] + [
        Cue(t, t + 0.6, "rep", f"burst {i % 3}", earcon="tick" if i % 2 else None)
        for i, t in enumerate(np.arange(1.25, duration - 0.7, 2.0))
    ]
    chapters = (
        Chapter(0.0, 1.0, "Introduction"),
        Chapter(1.0, 5.0, "Wall squats: easy / 1"),
        Chapter(5.0, 9.0, "Calf raises"),
        Chapter(9.0, duration, "Finish"),
    )
    return Timeline("Knees, day 3", duration, tuple(cues), chapters=chapters), clips


def reference() -> np.ndarray:
    """The unsplit render as the files hold it (16-bit), mono."""
    tl, clips = session()
    raw = b"".join(pcm16_bytes(b) for b in mix.blocks(tl, clips, gain=GAIN, block_frames=1 << 16))
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768


def decode(path: Path, rate: int = RATE) -> np.ndarray:
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768


def tags(path: Path) -> dict[str, str]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    info = json.loads(out)
    found = {**info["format"].get("tags", {}), **info["streams"][0].get("tags", {})}
    return {k.lower(): v for k, v in found.items()}


def snr_db(got: np.ndarray, want: np.ndarray) -> float:
    return 10 * np.log10(np.sum(want**2) / max(np.sum((got - want) ** 2), 1e-20))


def lame_delay_padding(path: Path) -> tuple[int, int, int]:
    """(delay, padding, frames) from the LAME tag of an MP3's first frame, as a gapless player reads it."""
    data = path.read_bytes()
    at = 0
    if data[:3] == b"ID3":  # skip the tag: its size is four 7-bit bytes
        at = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    frame = data[at : at + 2000]
    xing = max(frame.find(b"Info"), frame.find(b"Xing"))
    assert xing > 0, "no Xing/Info header"
    flags = int.from_bytes(frame[xing + 4 : xing + 8], "big")
    pos = xing + 8
    frames = int.from_bytes(frame[pos : pos + 4], "big") if flags & 1 else 0
    pos += 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(flags & 8)
    lame = frame[pos : pos + 36]
    assert lame[:4] in (b"LAME", b"Lavc", b"Lavf"), lame[:9]
    packed = int.from_bytes(lame[21:24], "big")
    return packed >> 12, packed & 0xFFF, frames


@pytest.fixture(scope="module")
def ref() -> np.ndarray:
    return reference()


def write(tmp_path: Path, ext: str, **kw) -> tuple[Path, list[split.Piece]]:
    tl, clips = session()
    result = split.export_split(tl, clips, tmp_path / f"walk{ext}", gain=GAIN, tags=TAGS, **kw)
    return result.path, split.pieces(tl, ext)


def test_pieces_start_at_the_first_cue_of_each_chapter():
    tl, _ = session()
    got = split.pieces(tl, ".mp3")
    assert [(p.number, p.name) for p in got] == [
        (1, "01 Introduction.mp3"),
        (2, "02 Wall squats_ easy _ 1.mp3"),
        (3, "03 Calf raises.mp3"),
        (4, "04 Finish.mp3"),
    ]
    assert [p.start for p in got] == [0, round(1.25 * RATE), round(5.25 * RATE), round(9.25 * RATE)]
    assert [p.end for p in got] == [p.start for p in got[1:]] + [mix.total_frames(tl)]
    # Opus: on the 147-frame grid (whole 48 kHz frames), never after the cue.
    opus = split.pieces(tl, ".opus")
    assert all(p.start % 147 == 0 and 0 <= q.start - p.start < 147 for p, q in zip(opus[1:], got[1:]))


def test_safe_names():
    assert split.safe_title('a/b\\c:d*e?f"g<h>i|j\x01k') == "a_b_c_d_e_f_g_h_i_j_k"
    assert split.safe_title("  Squats.  ") == "Squats"
    assert split.safe_title("...") == "Part"
    assert len(split.safe_title("é" * 500).encode()) <= 120
    assert split.safe_title("Cafe\u0301") == "Café"  # one form (NFC), whatever the plan's editor wrote


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg"])
def test_exact_formats_join_to_the_unsplit_render(tmp_path, ref, ext):
    folder, parts = write(tmp_path, ext)
    decoded = [decode(folder / p.name) for p in parts]
    assert [len(d) for d in decoded] == [p.end - p.start for p in parts]
    joined = np.concatenate(decoded)
    if ext == ".ogg":
        assert snr_db(joined, ref) > 20
    else:
        assert np.array_equal(joined, ref)


def test_mp3_parts_carry_delay_and_padding_and_join_without_a_gap(tmp_path, ref):
    folder, parts = write(tmp_path, ".mp3")
    decoded = [decode(folder / p.name) for p in parts]
    # ffmpeg's decoder drops what the LAME tag says: the counts are the pieces', and they add up to the session.
    assert [len(d) for d in decoded] == [p.end - p.start for p in parts]
    assert sum(len(d) for d in decoded) == len(ref)
    for p in parts:
        delay, padding, frames = lame_delay_padding(folder / p.name)
        assert delay > 0 and padding >= 0
        assert delay + (p.end - p.start) + padding == 1152 * frames
    # Within the codec's own error: as close to the render as the single file is (a gap of 0.5 ms would not be).
    export(*session(), tmp_path / "whole.mp3", gain=GAIN)
    whole = decode(tmp_path / "whole.mp3")
    joined = np.concatenate(decoded)
    assert snr_db(joined, ref) > snr_db(whole, ref) - 3 > 10
    shifted = np.concatenate([decoded[0], np.zeros(20), *decoded[1:]])[: len(ref)]
    assert snr_db(shifted, ref) < snr_db(joined, ref) - 10  # the comparison sees a 20-sample slip


def test_mp3_padding_is_what_the_frames_hold_beyond_delay_and_samples(tmp_path):
    # 180872 samples: ffmpeg 5.1 writes a padding 39 samples short (it counts from the last packet alone).
    n = 180872
    path = tmp_path / "a.mp3"
    pcm = pcm16_bytes(tone(440, n / RATE, amp=0.3).samples)
    args = ["-c:a", "libmp3lame", "-b:a", "96k", "-f", "mp3", str(path)]
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "-"]
    subprocess.run([*cmd, *args], input=pcm, check=True)
    gapless.fix_mp3_padding(path, n)
    assert len(decode(path)) == n
    delay, padding, frames = lame_delay_padding(path)
    assert delay + n + padding == 1152 * frames
    data = path.read_bytes()
    frame = data[data.find(b"\xff\xfb") :]  # no ID3 tag here: the first frame is the first sync
    crc_at = frame.find(b"Info") + 154  # the LAME tag's CRC, over the frame's first 190 bytes with itself zero
    assert int.from_bytes(frame[crc_at : crc_at + 2], "big") == gapless._crc16(
        frame[:crc_at] + b"\0\0" + frame[crc_at + 2 : 190]
    )


@pytest.mark.parametrize("ext", [".m4a", ".m4b"])
def test_mp4_parts_have_exact_edit_lists_and_itunsmpb(tmp_path, ref, ext):
    from mutagen.mp4 import MP4

    folder, parts = write(tmp_path, ext)
    played = []
    for p in parts:
        path = folder / p.name
        frames = p.end - p.start
        start, length, scale, coded = gapless.edit_list(path)
        assert (start, length * RATE) == (1024, frames * scale)  # skips the priming, lasts the piece exactly
        smpb = bytes(MP4(str(path))["----:com.apple.iTunes:iTunSMPB"][0]).decode().split()
        delay, padding, count = (int(x, 16) for x in smpb[1:4])
        assert (delay, count) == (1024, frames) and (delay + count + padding) % 1024 == 0
        assert coded == delay + frames
        got = decode(path)
        assert len(got) >= frames  # ffmpeg 5.1 drops the priming, not the padding: a player trims it by the tags
        played.append(got[:count])
    joined = np.concatenate(played)
    assert len(joined) == len(ref)
    assert snr_db(joined, ref) > 10


def test_opus_parts_add_up(tmp_path, ref):
    folder, parts = write(tmp_path, ".opus")
    counts = [len(decode(folder / p.name, 48000)) for p in parts]
    assert counts[:-1] == [(p.end - p.start) * 160 // 147 for p in parts[:-1]]
    assert abs(sum(counts) - len(ref) * 48000 / RATE) <= 1


def test_tags_playlist_and_captions(tmp_path):
    folder, parts = write(tmp_path, ".mp3", captions=["vtt", "lrc"], transcript=True)
    for p in parts:
        t = tags(folder / p.name)
        assert (t["title"], t["track"], t["album"], t["artist"]) == (
            p.title,
            f"{p.number}/4",
            TAGS["album"],
            "voicecoach",
        )
        assert t["genre"] == "Fitness" and t["comment"] == "level low"
    assert (folder / "walk.m3u8").read_bytes().decode("utf-8") == (
        "#EXTM3U\n#PLAYLIST:Knees, day 3\n"
        "#EXTINF:1,Introduction\n01 Introduction.mp3\n"
        "#EXTINF:4,Wall squats: easy / 1\n02 Wall squats_ easy _ 1.mp3\n"
        "#EXTINF:4,Calf raises\n03 Calf raises.mp3\n"
        "#EXTINF:3,Finish\n04 Finish.mp3\n"
    )
    # Times from each file's own start: the second file's first burst at 0, its second 2 s later.
    vtt = (folder / "02 Wall squats_ easy _ 1.vtt").read_text()
    assert vtt.split("\n\n")[1].startswith("00:00:00.000 --> 00:00:00.600\nburst 0")
    assert "00:00:02.000 --> 00:00:02.600\nburst 1" in vtt
    assert "[00:00.00]burst 2" in (folder / "03 Calf raises.lrc").read_text()
    assert "drone" in (folder / "01 Introduction.txt").read_text()
    assert "drone" not in (folder / "02 Wall squats_ easy _ 1.txt").read_text()
    assert sorted(os.listdir(folder)) == sorted(
        ["walk.m3u8", *(f"{Path(p.name).stem}.{e}" for p in parts for e in ("mp3", "vtt", "lrc", "txt"))]
    )


def test_the_session_is_rendered_once(tmp_path):
    tl, clips = session()
    single, parted = CountingClips(clips), CountingClips(clips)
    export(tl, single, tmp_path / "one.wav", gain=GAIN)
    split.export_split(tl, parted, tmp_path / "walk.wav", gain=GAIN)
    assert parted.lookups == single.lookups == len(tl.cues)


# --- the folder: replaced only if ours, atomically ---------------------------------------


def test_an_earlier_split_is_replaced_whole(tmp_path):
    folder = tmp_path / "walk"
    folder.mkdir()
    (folder / "walk.m3u8").write_text("#EXTM3U\n01 Old.mp3\n09 Gone.mp3\n")
    for name in ("01 Old.mp3", "01 Old.vtt", "09 Gone.mp3"):
        (folder / name).write_bytes(b"old")
    write(tmp_path, ".mp3")
    assert "09 Gone.mp3" not in os.listdir(folder) and "04 Finish.mp3" in os.listdir(folder)
    assert sorted(os.listdir(tmp_path)) == ["walk"]  # nothing aside, no part folder


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda f: (f.mkdir(), (f / "holiday.jpg").write_bytes(b"x")), "an earlier --split did not write (it holds holiday.jpg)"),
        (lambda f: (f.mkdir(), (f / "walk.m3u8").write_text("01 A.mp3\n"), (f / "notes.txt").write_text("x")), "notes.txt"),
        (lambda f: f.write_bytes(b"a file"), "a file of that name is in the way"),
    ],
)  # fmt: skip
def test_anything_else_in_the_way_is_refused_before_any_work(tmp_path, make, said):
    folder = tmp_path / "walk"
    make(folder)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    tl, clips = session()
    counting = CountingClips(clips)
    with pytest.raises(OutputError, match="cannot write") as exc:
        split.export_split(tl, counting, tmp_path / "walk.mp3")
    assert said in exc.value.message and "\n" not in exc.value.message
    assert counting.lookups == 0
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_missing_parent_is_refused(tmp_path):
    tl, clips = session()
    with pytest.raises(OutputError, match="does not exist"):
        split.export_split(tl, clips, tmp_path / "nowhere" / "walk.mp3")


def test_interrupted_export_leaves_the_earlier_folder(tmp_path):
    write(tmp_path, ".mp3")
    before = {p.name: p.read_bytes() for p in (tmp_path / "walk").iterdir()}

    def progress(fraction: float) -> None:
        if fraction > 0.5:  # in the middle of the third file, ffmpeg running
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write(tmp_path, ".mp3", progress=progress, captions=["srt"])
    assert {p.name: p.read_bytes() for p in (tmp_path / "walk").iterdir()} == before
    assert sorted(os.listdir(tmp_path)) == ["walk"]


def test_ffmpeg_failing_names_the_folder_and_leaves_nothing(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, hard))  # the second WAV is over it
    try:
        with pytest.raises(OutputError) as exc:
            write(tmp_path, ".wav")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert str(tmp_path / "walk") in exc.value.message and ".part" not in exc.value.message
    assert os.listdir(tmp_path) == []


def test_part_folders_of_dead_exports_are_removed(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".walk.{dead.pid}.0123abcd.part"
    stale.mkdir()
    (stale / "01 Introduction.mp3").write_bytes(b"half")
    mine = atomic.create_part_dir(tmp_path / "walk")  # a live process's: kept
    write(tmp_path, ".wav")
    assert sorted(os.listdir(tmp_path)) == sorted(["walk", mine.name])


@pytest.mark.parametrize("exchange", [True, False])
def test_a_finished_folder_takes_the_place_of_the_earlier_one(tmp_path, monkeypatch, exchange):
    if not exchange:  # a system without renameat2: the earlier folder is renamed aside first
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "walk"
    target.mkdir()
    (target / "old.mp3").write_bytes(b"old")
    part = atomic.create_part_dir(target)
    (part / "new.mp3").write_bytes(b"new")
    atomic.commit_part_dir(part, target)
    assert os.listdir(tmp_path) == ["walk"] and os.listdir(target) == ["new.mp3"]
