"""File metadata ffmpeg does not get right: ffmetadata input, ID3 and Vorbis-comment chapters.

Split from :mod:`voicecoach.export` so the encode and the tag fixing each stay small.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from voicecoach.core.timeline import Chapter, Timeline
from voicecoach.export.captions import vtt_timestamp

if TYPE_CHECKING:  # mutagen is imported where it is used, like every other audio library here
    from mutagen.flac import FLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis


def clean_chapters(timeline: Timeline) -> list[Chapter]:
    """Chapters sorted and clamped to the session (containers reject others)."""
    out = []
    for ch in sorted(timeline.chapters, key=lambda c: c.start_s):
        start = min(max(0.0, ch.start_s), timeline.duration_s)
        out.append(Chapter(start, min(max(start, ch.end_s), timeline.duration_s), ch.title))
    return out


def _ffmeta_escape(text: str) -> str:
    # ffmetadata syntax: '=', ';', '#', '\' and newlines need a backslash.
    for ch in "\\=;#\n":
        text = text.replace(ch, "\\" + ch)
    return text


def ffmetadata(tags: Mapping[str, str], chapters: Sequence[Chapter]) -> str:
    """An ``;FFMETADATA1`` document with global tags and millisecond chapters."""
    lines = [";FFMETADATA1"]
    lines += [f"{_ffmeta_escape(str(k))}={_ffmeta_escape(str(v))}" for k, v in tags.items() if v is not None]
    for ch in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(ch.start_s * 1000)}",
            f"END={round(ch.end_s * 1000)}",
            f"title={_ffmeta_escape(ch.title)}",
        ]
    return "\n".join(lines) + "\n"


def fix_metadata(
    chapters_mode: str, muxer: str, part: Path, tags: Mapping[str, str], chapters: Sequence[Chapter]
) -> None:
    """Fix what ffmpeg got wrong: ID3 comment and chapters (MP3), Vorbis-comment chapters."""
    if chapters_mode == "id3":
        fix_id3(part, tags, chapters)
    elif chapters_mode == "vorbis":
        write_vorbis_chapters(muxer, part, chapters)


def fix_id3(part: Path, tags: Mapping[str, str], chapters: Sequence[Chapter]) -> None:
    from mutagen.id3 import CHAP, COMM, CTOC, ID3, TIT2, CTOCFlags

    id3 = ID3(str(part))
    changed = False
    comment = tags.get("comment")
    if comment:
        # ffmpeg stores "comment" as TXXX:comment; players read COMM.
        id3.delall("TXXX:comment")
        id3.add(COMM(encoding=3, lang="eng", desc="", text=[comment]))
        changed = True
    want = [(round(c.start_s * 1000), round(c.end_s * 1000), c.title) for c in chapters]
    have = sorted((f.start_time, f.end_time, str(f.sub_frames.get("TIT2", ""))) for f in id3.getall("CHAP"))
    if have != want:
        # An ffmpeg without ID3 chapter support (or one that got them wrong).
        id3.delall("CHAP")
        id3.delall("CTOC")
        ids = [f"ch{i}" for i in range(len(chapters))]
        if ids:
            id3.add(
                CTOC(
                    element_id="toc",
                    flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                    child_element_ids=ids,
                    sub_frames=[],
                )
            )
        for eid, (start, end, title) in zip(ids, want):
            id3.add(CHAP(element_id=eid, start_time=start, end_time=end, sub_frames=[TIT2(encoding=3, text=[title])]))
        changed = True
    if changed:
        id3.save(str(part), v2_version=3)
        order_id3_chapters(part)


def order_id3_chapters(path: Path) -> None:
    """Put the CHAP frames of an ID3v2.3 tag in time order, in place.

    mutagen writes frames ordered by size, but ffmpeg (and so ffprobe, mpv,
    and many players built on it) lists ID3 chapters in file order rather
    than by CTOC or by time.  Swapping whole frames between the CHAP slots
    keeps the tag's size, so nothing after it moves.
    """
    with open(path, "r+b") as f:
        head = f.read(10)
        # Only the plain layout mutagen writes: v2.3, no unsync, no extended header.
        if len(head) < 10 or head[:3] != b"ID3" or head[3] != 3 or head[5] & 0xC0:
            return
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        body = f.read(size)
        frames: list[bytes] = []
        pos = 0
        while pos + 10 <= len(body) and body[pos] != 0:
            end = pos + 10 + int.from_bytes(body[pos + 4 : pos + 8], "big")
            frames.append(body[pos:end])
            pos = end
        slots = [i for i, fr in enumerate(frames) if fr[:4] == b"CHAP"]

        def start_ms(frame: bytes) -> int:
            at = frame.index(b"\0", 10) + 1  # after the element ID
            return int.from_bytes(frame[at : at + 4], "big")

        ordered = sorted((frames[i] for i in slots), key=start_ms)
        if ordered == [frames[i] for i in slots]:
            return
        for i, frame in zip(slots, ordered):
            frames[i] = frame
        f.seek(10)
        f.write(b"".join(frames))


def write_vorbis_chapters(muxer: str, part: Path, chapters: Sequence[Chapter]) -> None:
    """Vorbis-comment chapters (CHAPTER000=HH:MM:SS.mmm, CHAPTER000NAME=title).

    Written by us even where ffmpeg writes them (Opus): ffmpeg 5.1 rounds
    the seconds to nearest, so a chapter at 24.5 s comes out as 25.500.
    """
    opener: type[FLAC] | type[OggOpus] | type[OggVorbis]
    if muxer == "flac":
        from mutagen.flac import FLAC

        opener = FLAC
    elif muxer == "opus":
        from mutagen.oggopus import OggOpus

        opener = OggOpus
    else:
        from mutagen.oggvorbis import OggVorbis

        opener = OggVorbis
    f = opener(str(part))
    for key in [k for k in f if k.upper().startswith("CHAPTER")]:
        del f[key]
    for i, ch in enumerate(chapters):
        f[f"CHAPTER{i:03d}"] = vtt_timestamp(ch.start_s)
        f[f"CHAPTER{i:03d}NAME"] = ch.title
    f.save()


def add_cover(muxer: str, part: Path, png: bytes) -> None:
    """Attach ``png`` as the front cover: ID3 APIC, MP4 ``covr``, a FLAC picture, or Ogg's METADATA_BLOCK_PICTURE."""
    if muxer == "mp3":
        from mutagen.id3 import APIC, ID3

        id3 = ID3(str(part))
        id3.delall("APIC")
        id3.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=png))
        id3.save(str(part), v2_version=3)
        order_id3_chapters(part)  # saving may have reordered the CHAP frames
    elif muxer == "ipod":
        from mutagen.mp4 import MP4, MP4Cover

        mp4 = MP4(str(part))
        mp4["covr"] = [MP4Cover(png, imageformat=MP4Cover.FORMAT_PNG)]
        mp4.save()
    elif muxer in ("flac", "ogg", "opus"):
        import base64

        from mutagen.flac import Picture

        pic = Picture()
        pic.type, pic.mime, pic.desc, pic.data = 3, "image/png", "Cover", png
        pic.width = pic.height = int.from_bytes(png[16:20], "big")
        pic.depth = 24
        if muxer == "flac":
            from mutagen.flac import FLAC

            flac = FLAC(str(part))
            flac.clear_pictures()
            flac.add_picture(pic)
            flac.save()
            return
        from mutagen.oggopus import OggOpus
        from mutagen.oggvorbis import OggVorbis

        ogg = (OggOpus if muxer == "opus" else OggVorbis)(str(part))
        ogg["METADATA_BLOCK_PICTURE"] = [base64.b64encode(pic.write()).decode("ascii")]
        ogg.save()
