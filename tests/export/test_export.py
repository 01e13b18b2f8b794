"""Export and loudness, against the real ffmpeg/ffprobe (no mocks)."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import time
import wave
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from helpers.fakes import CountingClips, tone

from voicecoach.core.timeline import Chapter, Cue, Timeline
from voicecoach.errors import MissingDependencyError, OutputError, VoicecoachError
from voicecoach.export import captions, metadata
from voicecoach.export import encode as export
from voicecoach.render import loudness, mix
from voicecoach.speech.clip import MIX_RATE_HZ, Clip, pcm16_bytes

# Real ffmpeg/ffprobe throughout (deselect with -m "not audio").
pytestmark = pytest.mark.audio

RATE = MIX_RATE_HZ
TAGS = {"album": "Knee programme", "comment": "Level: beginner; voice: en-gb (slow)"}


def session(duration_s: float = 37.3) -> tuple[Timeline, dict[str, Clip]]:
    """Tone-burst "speech" every 2 s, earcons, three chapters."""
    clips = {f"phrase {i}": tone(300 + 40 * i, 1.2, amp=0.1, fade_s=0.01) for i in range(5)}
    earcons = ["start", None, "tick", "switch", None, "stop"]
    cues = tuple(
        Cue(t, t + 1.2, "rep", f"phrase {i % 5}", earcon=earcons[i % 6])
        for i, t in enumerate(np.arange(0.25, duration_s - 1.5, 2.0))
    )
    c1, c2 = 10.123, 24.5
    chapters = (
        Chapter(0.0, c1, "Intro"),
        Chapter(c1, c2, "Wall squats = easy; #1"),
        Chapter(c2, duration_s, "Calf raises"),
    )
    return Timeline("Knees, day 3", duration_s, cues, chapters=chapters), clips


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def ebur128_lufs(path: Path) -> float:
    err = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


# --- loudness ---------------------------------------------------------------------


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm16_bytes(samples))


def test_meter_matches_ffmpeg_ebur128(tmp_path):
    # Tone + noise with a silent gap and a very quiet stretch, so both the
    # absolute and the relative gate matter.
    rng = np.random.default_rng(7)
    t = np.arange(RATE * 20) / RATE
    x = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    x[RATE * 5 : RATE * 8] = 0
    x[RATE * 12 : RATE * 14] *= 0.03
    x = x.astype(np.float32)
    write_wav(tmp_path / "x.wav", x)
    # Odd block sizes: filter state must carry across blocks.
    ours = loudness.measure(np.array_split(x, 301)).integrated_lufs
    assert abs(ours - ebur128_lufs(tmp_path / "x.wav")) < 0.5
    assert abs(ours - loudness.measure([x]).integrated_lufs) < 1e-9


# --- export -------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".mp3", ".ogg", ".opus", ".m4a", ".m4b", ".wav", ".flac"], ids=lambda e: e[1:])
def test_export_each_format(tmp_path, ext):
    tl, clips = session()
    calls: list[float] = []
    t0 = time.perf_counter()
    result = export.export(tl, clips, tmp_path / f"session{ext}", tags=TAGS, progress=calls.append)
    elapsed = time.perf_counter() - t0
    print(f"\n{ext}: {tl.duration_s / elapsed:.0f}x real time (both passes)")
    assert result.path == tmp_path / f"session{ext}" and result.path.exists()
    assert result.duration_s == pytest.approx(tl.duration_s, abs=1e-4)
    assert calls and calls[-1] == 1.0 and calls == sorted(calls)
    assert leftovers(tmp_path) == []

    info = ffprobe(result.path)
    fmt = info["format"]
    # MP3 reports its encoder delay as start_time; what plays is duration - start.
    start = float(fmt.get("start_time", 0) or 0) if fmt.get("start_time") != "N/A" else 0.0
    assert abs(float(fmt["duration"]) - start - tl.duration_s) < 0.05
    # Tags land in the container's (format) tags or, for Ogg, the stream's.
    tags = {k.lower(): v for k, v in {**fmt.get("tags", {}), **info["streams"][0].get("tags", {})}.items()}
    assert tags.get("title") == "Knees, day 3"
    assert tags.get("album") == TAGS["album"]
    assert TAGS["comment"] in (tags.get("comment"), tags.get("description"))
    assert (tags.get("genre"), tags.get("track"), tags.get("date")) == ("Fitness", "1", date.today().isoformat())
    pictures = [st for st in info["streams"] if st.get("disposition", {}).get("attached_pic")]
    assert len(pictures) == (0 if ext == ".wav" else 1)  # the cover (WAV cannot hold one)
    # An audiobook is an audiobook: brand M4B, iTunes media kind 2 ("Audiobook").
    if ext in (".m4a", ".m4b"):
        from mutagen.mp4 import MP4

        audiobook = ext == ".m4b"
        assert fmt["tags"]["major_brand"] == ("M4B " if audiobook else "M4A ")
        assert MP4(str(result.path)).get("stik") == ([2] if audiobook else None)

    if ext == ".wav":
        return  # WAV has no chapters
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c.title for c in tl.chapters]
    for got, want in zip(chapters, tl.chapters):
        assert abs(float(got["start_time"]) - want.start_s) < 0.05


def test_mp3_id3_frames(tmp_path):
    from mutagen.id3 import ID3

    tl, clips = session()
    export.export(tl, clips, tmp_path / "s.mp3", tags=TAGS)
    id3 = ID3(str(tmp_path / "s.mp3"))
    assert id3.version[:2] == (2, 3)
    assert str(id3["TIT2"]) == "Knees, day 3" and str(id3["TALB"]) == TAGS["album"]
    assert [str(f) for f in id3.getall("COMM")] == [TAGS["comment"]]  # a real comment frame
    assert not id3.getall("TXXX:comment")
    (toc,) = id3.getall("CTOC")
    chaps = {f.element_id: f for f in id3.getall("CHAP")}
    assert [str(chaps[e].sub_frames["TIT2"]) for e in toc.child_element_ids] == [c.title for c in tl.chapters]
    assert [chaps[e].start_time for e in toc.child_element_ids] == [round(c.start_s * 1000) for c in tl.chapters]


def test_mp3_chapters_written_by_mutagen_when_ffmpeg_wrote_none(tmp_path):
    # What happens with an ffmpeg that has no ID3 chapter support: encode
    # without chapters, then let export's fix-up add them.
    tl, clips = session()
    part = tmp_path / "s.mp3"
    export.export(Timeline(tl.title, tl.duration_s, tl.cues), clips, part, tags=TAGS)
    assert ffprobe(part)["chapters"] == []
    metadata.fix_id3(part, TAGS, list(tl.chapters))
    chapters = ffprobe(part)["chapters"]
    # Titles differ in length, so mutagen's size-ordered frames had to be put back in time order.
    assert [c["tags"]["title"] for c in chapters] == [c.title for c in tl.chapters]
    assert [round(float(c["start_time"]), 3) for c in chapters] == [c.start_s for c in tl.chapters]


def test_wav_export_is_not_throttled(tmp_path):
    # ffmpeg 5.1's default 8-packet input queue made a 10-minute WAV take ~14 s.
    tl, clips = session(600.0)
    t0 = time.perf_counter()
    export.export(tl, clips, tmp_path / "s.wav")
    assert time.perf_counter() - t0 < 5.0


def test_loudness_after_export(tmp_path):
    tl, clips = session(60.0)
    level = loudness.level_for(lambda g, lim: mix.blocks(tl, clips, gain=g, limit=lim), -16.0)
    result = export.export(tl, clips, tmp_path / "s.mp3", gain=level.gain)
    assert result.gain_db > 3  # the quiet tone bursts were raised...
    assert abs(ebur128_lufs(result.path) - (-16.0)) < 1.0  # ...to the target


def test_no_normalisation(tmp_path):
    tl, clips = session()
    result = export.export(tl, clips, tmp_path / "s.wav")
    assert result.gain_db == 0.0
    with wave.open(str(result.path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    want = np.frombuffer(b"".join(pcm16_bytes(b) for b in mix.blocks(tl, clips)), "<i2")
    np.testing.assert_array_equal(pcm, want)  # WAV is the mix, sample for sample


def test_sidecars(tmp_path):
    tl, clips = session()
    result = export.export(tl, clips, tmp_path / "s.ogg", captions=["vtt", "srt", "lrc"], transcript=True)
    assert result.sidecars == tuple(tmp_path / f"s.{e}" for e in ("vtt", "srt", "lrc", "txt"))
    assert (tmp_path / "s.vtt").read_text() == captions.to_vtt(tl)
    assert (tmp_path / "s.srt").read_text() == captions.to_srt(tl)
    assert (tmp_path / "s.lrc").read_text() == captions.to_lrc(tl)
    assert (tmp_path / "s.txt").read_text() == captions.to_transcript(tl)
    assert leftovers(tmp_path) == []


def test_unknown_extension(tmp_path):
    tl, clips = session()
    with pytest.raises(VoicecoachError) as exc:
        export.export(tl, clips, tmp_path / "s.aiff")
    assert ".mp3" in exc.value.render() and ".flac" in exc.value.render()
    with pytest.raises(VoicecoachError) as exc:
        export.export(tl, clips, tmp_path / "s.mp3", captions=["ass"])
    assert "vtt, srt, lrc" in exc.value.render()
    assert list(tmp_path.iterdir()) == []


def test_missing_output_directory(tmp_path):
    tl, clips = session()
    calls: list[float] = []
    with pytest.raises(OutputError, match="does not exist") as exc:
        export.export(tl, clips, tmp_path / "nope" / "s.mp3", progress=calls.append)
    assert exc.value.exit_status == 6
    assert calls == []  # checked before any work
    (tmp_path / "d.mp3").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        export.export(tl, clips, tmp_path / "d.mp3")


def test_missing_ffmpeg(tmp_path, monkeypatch):
    tl, clips = session()
    monkeypatch.setenv("PATH", str(tmp_path))  # an environment without ffmpeg
    with pytest.raises(MissingDependencyError) as exc:
        export.export(tl, clips, tmp_path / "s.mp3")
    assert "apt-get install ffmpeg" in exc.value.render() and "brew install ffmpeg" in exc.value.render()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def old_target(tmp_path):
    target = tmp_path / "session.mp3"
    target.write_bytes(b"an earlier export\x00\xff")
    return target


def test_failure_mid_encode_keeps_old_file(old_target):
    tl, clips = session()
    # The encode pass makes len(cues) lookups; fail halfway through it.
    failing = CountingClips(clips, fail_after=len(tl.cues) // 2)
    with pytest.raises(KeyError):
        export.export(tl, failing, old_target, captions=["vtt"])
    assert old_target.read_bytes() == b"an earlier export\x00\xff"
    assert sorted(p.name for p in old_target.parent.iterdir()) == ["session.mp3"]


def test_keyboard_interrupt_keeps_old_file(old_target):
    tl, clips = session()

    def progress(fraction: float) -> None:
        if fraction > 0.6:  # well into the encode pass, ffmpeg running
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export.export(tl, clips, old_target, progress=progress)
    assert old_target.read_bytes() == b"an earlier export\x00\xff"
    assert sorted(p.name for p in old_target.parent.iterdir()) == ["session.mp3"]


def test_ffmpeg_failure_keeps_old_file(old_target):
    # A file size limit makes ffmpeg's writes fail part way (as a full disk would).
    tl, clips = session()
    target = old_target.with_suffix(".wav")
    target.write_bytes(b"old wav")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, hard))
    try:
        with pytest.raises(OutputError, match="ffmpeg"):
            export.export(tl, clips, target)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert target.read_bytes() == b"old wav"
    assert leftovers(target.parent) == []


def test_disk_full(tmp_path, old_target):
    # A real full filesystem: a 300 KB tmpfs (needs root; skipped otherwise).
    mnt = tmp_path / "small"
    mnt.mkdir()
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)], capture_output=True).returncode
        != 0
    ):
        pytest.skip("cannot mount a small tmpfs here")
    try:
        target = mnt / "session.wav"
        target.write_bytes(b"old")
        tl, clips = session()  # ~3.3 MB of WAV
        with pytest.raises(OutputError, match="the disk is full"):
            export.export(tl, clips, target)
        assert target.read_bytes() == b"old"
        assert leftovers(mnt) == []
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_replaced_file_keeps_its_permissions(tmp_path):
    tl, clips = session(5.0)
    target = tmp_path / "s.wav"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    export.export(tl, clips, target)
    assert (target.stat().st_mode & 0o777) == 0o640
    assert target.read_bytes()[:4] == b"RIFF"


def test_export_removes_stale_part_files_of_killed_exports_only(tmp_path):
    """A SIGKILLed export leaves its part file; the next export of that target removes it, if its process is gone."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        stale = tmp_path / f".s.mp3.{dead.pid}.abcdef12.part"
        running = tmp_path / f".s.mp3.{alive.pid}.abcdef12.part"  # another export of s.mp3, still at work
        other = tmp_path / f".other.mp3.{dead.pid}.abcdef12.part"  # another target's: not this export's business
        for part in (stale, running, other):
            part.write_bytes(b"half an export")
        tl, clips = session(5.0)
        export.export(tl, clips, tmp_path / "s.mp3")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, other.name, "s.mp3"])
    finally:
        alive.kill()
        alive.wait()
