"""Reading what a system voice wrote: PCM WAV (espeak-ng, SAPI5) or AIFF (macOS)."""

from __future__ import annotations

import contextlib
import os
import struct
import time
import wave
from pathlib import Path

import numpy as np

from voicecoach.errors import VoicecoachError


def wait_complete(path: Path, timeout_s: float) -> bool:
    """Wait until ``path`` is a whole RIFF/WAV or AIFF file (its header's size matches)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(OSError):
            with open(path, "rb") as f:
                head = f.read(12)
                size = os.fstat(f.fileno()).st_size
            if len(head) == 12:
                if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
                    if struct.unpack("<I", head[4:8])[0] + 8 == size:
                        return True
                elif head[:4] == b"FORM" and struct.unpack(">I", head[4:8])[0] + 8 == size:
                    return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """A PCM WAV (or macOS AIFF) file as float32 mono samples in [-1, 1] and its rate."""
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"FORM":
        return _read_aiff(path)
    with wave.open(str(path), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        data = w.readframes(w.getnframes())
    return _to_mono(_pcm_to_float(data, width, "<"), channels), rate


def _pcm_to_float(data: bytes, width: int, order: str) -> np.ndarray:
    if width == 1:  # 8-bit WAV is unsigned
        return (np.frombuffer(data, np.uint8).astype(np.float32) - 128) / 128
    if width == 3:  # 24-bit: widen to 32 by putting the bytes in the high end
        b = np.frombuffer(data, np.uint8).reshape(-1, 3)
        pad = np.zeros((len(b), 1), np.uint8)
        data = (np.hstack([pad, b]) if order == "<" else np.hstack([b, pad])).tobytes()
        width = 4
    if width not in (2, 4):
        raise VoicecoachError(f"The system voice wrote {8 * width}-bit audio, which is not supported.")
    ints = np.frombuffer(data, f"{order}i{width}")
    return (ints / float(2 ** (8 * width - 1))).astype(np.float32)


def _to_mono(samples: np.ndarray, channels: int) -> np.ndarray:
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    return samples.astype(np.float32)


def _read_aiff(path: Path) -> tuple[np.ndarray, int]:
    """Minimal AIFF/AIFF-C reader (uncompressed PCM, big- or little-endian 'sowt')."""
    data = path.read_bytes()
    if data[8:12] not in (b"AIFF", b"AIFC"):
        raise VoicecoachError("The system voice wrote an unknown audio format.")
    pos, comm, ssnd = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"COMM":
            comm = body
        elif cid == b"SSND":
            offset = struct.unpack(">I", body[:4])[0]
            ssnd = body[8 + offset :]
        pos += 8 + size + (size & 1)
    if comm is None or ssnd is None:
        raise VoicecoachError("The system voice wrote an incomplete AIFF file.")
    channels, frames, bits = struct.unpack(">hIh", comm[:8])
    exponent, mantissa = struct.unpack(">HQ", comm[8:18])  # 80-bit extended float
    rate = round(mantissa * 2.0 ** ((exponent & 0x7FFF) - 16383 - 63))
    order = "<" if comm[18:22] == b"sowt" else ">"
    width = (bits + 7) // 8
    pcm = ssnd[: frames * channels * width]
    if width == 1:  # AIFF's 8-bit is signed, WAV's unsigned
        pcm = (np.frombuffer(pcm, np.uint8) ^ 0x80).tobytes()
    return _to_mono(_pcm_to_float(pcm, width, order), channels), rate
