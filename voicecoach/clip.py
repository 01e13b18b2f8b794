"""Audio clips as the mixer sees them: mono float32 samples at one rate."""

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
