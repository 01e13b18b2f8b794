"""Gapless joins between the files of ``export --split``: what each format needs so players drop the codec's padding.

An encoder adds silence: a delay before the first sample (MP3 and AAC prime
their filter banks) and padding after the last (to fill the last frame).
A player can only join two files without a gap if the file says how much:

* MP3: the LAME tag in the first (Xing/Info) frame holds the delay and the
  padding; ffmpeg's mp3 muxer writes it (``write_xing``, on by default) when
  the file is seekable, which a part file is. ffmpeg 5.1 counts the padding
  from the last packet alone, which misses up to 1151 samples for some
  lengths (a 4.1 s file decoded 39 samples long): :func:`fix_mp3_padding`
  writes the true padding (and the tag's CRC) from the frames actually coded.
* MP4 (M4A, M4B): an edit list that starts after the AAC priming and lasts
  exactly the samples (ffmpeg writes one, but in a 1/1000 s movie time scale
  unless told otherwise, so ``-movie_timescale 44100`` makes it
  sample-exact), and Apple's ``iTunSMPB`` tag (priming, padding, length),
  which iTunes, the Music app and most podcast players read. Written here.
* Ogg Vorbis, Opus and FLAC carry the exact sample count themselves (granule
  positions, Opus pre-skip, FLAC's STREAMINFO); WAV has no padding at all.
  Opus runs at 48 kHz: each file is resampled on its own, so split points lie
  on a grid of 147 frames at 44.1 kHz (160 at 48 kHz), where the counts agree.
"""

from __future__ import annotations

import struct
from pathlib import Path

from voicecoach.speech.clip import MIX_RATE_HZ

#: Extra ffmpeg output options for a split file, by extension.
SPLIT_ARGS: dict[str, tuple[str, ...]] = {
    ".m4a": ("-movie_timescale", "44100"),
    ".m4b": ("-movie_timescale", "44100"),
}

#: Split points fall on multiples of this many frames (the mix's 44.1 kHz), by extension.
SPLIT_GRID: dict[str, int] = {".opus": 147}

AAC_FRAME = 1024  # samples per AAC-LC frame
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}


def edit_list(path: Path) -> tuple[int, int, int, int]:
    """The first audio track's edit: (media start in samples, length in movie units, movie time scale, samples)

    ``samples`` is the track's total length in its own time scale (the ``mdhd`` duration, priming included).
    Raises ValueError when the file has no such boxes.
    """
    data = path.read_bytes()
    found: dict[bytes, bytes] = {}

    def walk(lo: int, hi: int) -> None:
        while lo + 8 <= hi:
            size, kind = struct.unpack(">I4s", data[lo : lo + 8])
            head = 8
            if size == 1:
                size, head = struct.unpack(">Q", data[lo + 8 : lo + 16])[0], 16
            elif size == 0:
                size = hi - lo
            if size < head:
                raise ValueError(f"{path.name}: a damaged MP4 box")
            if kind in _CONTAINERS:
                walk(lo + head, lo + size)
            elif kind in (b"mvhd", b"mdhd", b"elst") and kind not in found:
                found[kind] = data[lo + head : lo + size]
            lo += size

    walk(0, len(data))
    if not {b"mvhd", b"mdhd", b"elst"} <= found.keys():
        raise ValueError(f"{path.name}: no edit list")
    mvhd, mdhd, elst = found[b"mvhd"], found[b"mdhd"], found[b"elst"]
    scale = struct.unpack(">I", mvhd[12:16] if mvhd[0] == 0 else mvhd[20:24])[0]
    samples = struct.unpack(">I", mdhd[16:20])[0] if mdhd[0] == 0 else struct.unpack(">Q", mdhd[24:32])[0]
    if elst[0] == 0:
        length, start = struct.unpack(">Ii", elst[8:16])
    else:
        length, start = struct.unpack(">Qq", elst[8:24])
    return start, length, scale, samples


def itunsmpb(delay: int, frames: int) -> str:
    """Apple's gapless tag: priming, padding (to a whole AAC frame) and length, in hexadecimal."""
    padding = -(delay + frames) % AAC_FRAME
    return f" 00000000 {delay:08X} {padding:08X} {frames:016X}" + " 00000000" * 8


def mark_mp4(part: Path, frames: int) -> None:
    """Add ``iTunSMPB`` to an MP4 part of ``frames`` samples, from the priming its edit list skips.

    Raises ValueError if the edit list does not cover exactly ``frames`` samples (an ffmpeg
    that ignored ``-movie_timescale``): such a file would not join without a gap.
    """
    from mutagen.mp4 import MP4, MP4FreeForm

    delay, length, scale, _ = edit_list(part)
    if length * MIX_RATE_HZ != frames * scale:
        raise ValueError(f"{part.name}: its edit list lasts {length}/{scale} s, not {frames} samples")
    mp4 = MP4(str(part))
    mp4["----:com.apple.iTunes:iTunSMPB"] = [MP4FreeForm(itunsmpb(delay, frames).encode("ascii"))]
    mp4.save()


MP3_FRAME = 1152  # samples per MPEG-1 Layer III frame
_XING_SIZE = 156  # ffmpeg's Xing frame: the tag's CRC is its last two bytes, the delay/padding at +141


def _crc16(data: bytes) -> int:
    """CRC-16/ARC (ffmpeg's AV_CRC_16_ANSI_LE), which the LAME tag's own CRC uses."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def fix_mp3_padding(path: Path, frames: int) -> None:
    """Write the padding of an MP3 of ``frames`` samples into its LAME tag, in place.

    The padding is what the coded frames hold beyond the tag's delay and the
    samples: ``1152 * coded frames - delay - frames``. Raises ValueError when
    the file has no LAME tag where ffmpeg writes one.
    """
    with open(path, "r+b") as f:
        head = f.read(10)
        at = 0
        if head[:3] == b"ID3":  # the frames start after the ID3v2 tag (its size: four 7-bit bytes)
            at = 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
        f.seek(at)
        frame = bytearray(f.read(2 * _XING_SIZE))
        if len(frame) < 4 or frame[0] != 0xFF or frame[1] & 0xE0 != 0xE0:
            raise ValueError(f"{path.name}: no MP3 frame after the ID3 tag")
        xing = 21 if frame[3] >> 6 == 3 else 36  # after MPEG-1's side information: mono or stereo
        if frame[xing : xing + 4] not in (b"Info", b"Xing") or frame[xing + 7] & 0x0F != 0x0F:
            raise ValueError(f"{path.name}: no Xing/LAME tag in the first frame")
        coded = int.from_bytes(frame[xing + 8 : xing + 12], "big")
        delay = int.from_bytes(frame[xing + 141 : xing + 144], "big") >> 12
        padding = MP3_FRAME * coded - delay - frames
        if not 0 <= padding < 1 << 12:
            raise ValueError(f"{path.name}: {coded} frames cannot hold {frames} samples after a delay of {delay}")
        frame[xing + 141 : xing + 144] = ((delay << 12) | padding).to_bytes(3, "big")
        crc_at = xing + _XING_SIZE - 2
        frame[crc_at : crc_at + 2] = b"\0\0"  # as ffmpeg computes it: over 190 bytes, this field still zero
        frame[crc_at : crc_at + 2] = _crc16(bytes(frame[:190])).to_bytes(2, "big")
        f.seek(at)
        f.write(frame[: xing + _XING_SIZE])
