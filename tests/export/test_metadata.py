"""The ffmpeg command line and the ffmetadata document, built without running ffmpeg."""

from __future__ import annotations

from voicecoach.core.timeline import Chapter
from voicecoach.export import encode as export
from voicecoach.export import metadata


def test_ffmpeg_command_shape():
    fmt = export.format_for("x.MP3")
    cmd = export.ffmpeg_command("ffmpeg", fmt.codec_args, fmt.muxer, "meta.txt", ".x.mp3.1234.part")
    assert cmd[cmd.index("-i") + 1] == "pipe:0"
    assert cmd[cmd.index("-map_metadata") + 1] == "1" and cmd[cmd.index("-map_chapters") + 1] == "1"
    assert cmd[-3:] == ["-f", "mp3", ".x.mp3.1234.part"]


def test_ffmetadata_escaping():
    text = metadata.ffmetadata({"title": "a=b;c#d\\e\nf"}, [Chapter(1.0, 2.5, "x;y")])
    assert text.splitlines()[:2] == [";FFMETADATA1", "title=a\\=b\\;c\\#d\\\\e\\"]
    assert "START=1000" in text and "END=2500" in text and "title=x\\;y" in text


def test_cover_is_a_png_that_depends_only_on_the_title():
    import struct
    import zlib

    from voicecoach.export.cover import SIZE, cover_png

    a, b = cover_png("Knees, day 3"), cover_png("Knees, day 4")
    assert a == cover_png("Knees, day 3") and a != b  # deterministic, and told apart by title
    assert a[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", a[16:24])
    assert (width, height) == (SIZE, SIZE)
    at = a.index(b"IDAT")
    (length,) = struct.unpack(">I", a[at - 4 : at])
    assert len(zlib.decompress(a[at + 4 : at + 4 + length])) == SIZE * (1 + 3 * SIZE)
