"""Audio clips as speech makes them and the mixer takes them: mono float32 samples at one rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The mixer's rate. espeak-ng and Piper voices speak at 22050 Hz, exactly half.
MIX_RATE_HZ = 44100


@dataclass(frozen=True, eq=False)
class Clip:
    """A mono clip: float32 samples in [-1, 1] at ``sample_rate_hz``."""

    samples: np.ndarray
    sample_rate_hz: int = MIX_RATE_HZ

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate_hz


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as signed 16-bit little-endian PCM samples.

    Scaled by 32767 (not 32768) so +1.0 does not wrap around, rounded to
    nearest rather than truncated so quiet signals are not biased.
    """
    scaled = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * np.float32(32767.0)
    return np.rint(scaled).astype("<i2")


def pcm16_bytes(samples: np.ndarray) -> bytes:
    """:func:`to_int16` as raw bytes, what ffmpeg and WAV files take."""
    return to_int16(samples).tobytes()
