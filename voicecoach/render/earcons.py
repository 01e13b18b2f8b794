"""Earcons: short, distinct, non-speech sounds that mark session events.

They are synthesised here with numpy, deterministically, so the project owns
them outright (no sample libraries, no licences) and ``scripts/make-earcons``
can regenerate the committed ``audio/<name>.wav`` files bit for bit.

Design rules, so they sit *under* the voice rather than compete with it:

* 60-400 ms long: long enough to register, short enough not to mask the
  first word of the cue that starts at the same moment;
* peak at -12 dBFS (speech is normalised well above that);
* raised-cosine attack and release on every note, so no note starts or stops
  on a non-zero sample (an instantaneous step is heard as a click);
* each earcon is recognisable by its *shape* (rising, falling, one blip, two
  blips, a chord), not only by pitch, for people with poor pitch perception.
"""

from __future__ import annotations

import io
import wave
from functools import cache

import numpy as np

from voicecoach.speech.clip import MIX_RATE_HZ, Clip, pcm16_bytes

#: Every earcon name a :class:`~voicecoach.core.timeline.Cue` may carry.
NAMES = ("start", "stop", "tick", "switch", "end")

#: Peak level of every earcon, in dBFS.
PEAK_DBFS = -12.0

_RATE = MIX_RATE_HZ
# A soft timbre: the fundamental plus a little second and third harmonic
# reads as a "chime" rather than a test-tone beep, and is still gentle.
_CHIME = ((1, 1.0), (2, 0.22), (3, 0.06))
_PURE = ((1, 1.0),)

# Note frequencies (equal temperament, A4 = 440 Hz).
_D5, _A5 = 587.33, 880.0
_C5, _E5, _G5 = 523.25, 659.26, 783.99


def _frames(seconds: float) -> int:
    return int(round(seconds * _RATE))


def _note(
    freq_hz: float,
    duration_s: float,
    *,
    attack_s: float = 0.006,
    release_s: float = 0.030,
    decay_per_s: float = 0.0,
    partials: tuple[tuple[int, float], ...] = _CHIME,
) -> np.ndarray:
    """One enveloped note as float64 samples (unnormalised)."""
    n = _frames(duration_s)
    t = np.arange(n, dtype=np.float64) / _RATE
    wave_ = np.zeros(n, dtype=np.float64)
    for harmonic, amplitude in partials:
        wave_ += amplitude * np.sin(2.0 * np.pi * freq_hz * harmonic * t)
    env = np.ones(n, dtype=np.float64)
    if decay_per_s:
        env *= np.exp(-decay_per_s * t)  # a struck, bell-like fade
    # Half-Hann ramps: the first and last samples are exactly zero, and the
    # slope is zero there too, so neither end produces a click.
    a, r = _frames(attack_s), _frames(release_s)
    env[:a] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / a)
    env[n - r :] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, r + 1) / r)
    return wave_ * env


def _sequence(total_s: float, notes: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """Place notes (offset in seconds, samples) into one buffer."""
    out = np.zeros(_frames(total_s), dtype=np.float64)
    for offset_s, samples in notes:
        i = _frames(offset_s)
        out[i : i + samples.shape[0]] += samples[: out.shape[0] - i]
    return out


def _synthesise(name: str) -> np.ndarray:
    if name == "start":  # rising fifth: "go"
        return _sequence(0.23, [(0.0, _note(_D5, 0.10)), (0.10, _note(_A5, 0.13, decay_per_s=6))])
    if name == "stop":  # falling fifth: "done"
        return _sequence(0.25, [(0.0, _note(_A5, 0.10)), (0.10, _note(_D5, 0.15, decay_per_s=6))])
    if name == "tick":  # one short high blip per countdown number
        return _note(1318.5, 0.07, attack_s=0.003, release_s=0.025, decay_per_s=25, partials=_PURE)
    if name == "switch":  # two quick identical blips: "other side"
        blip = _note(987.77, 0.055, attack_s=0.003, release_s=0.02, decay_per_s=10)
        return _sequence(0.145, [(0.0, blip), (0.09, blip)])
    if name == "end":  # C-E-G arpeggio ringing into a major chord
        notes = [
            (i * 0.09, _note(f, 0.40 - i * 0.09, release_s=0.08, decay_per_s=5)) for i, f in enumerate((_C5, _E5, _G5))
        ]
        return _sequence(0.40, notes)
    raise ValueError(f"unknown earcon {name!r}; expected one of: {', '.join(NAMES)}")


@cache
def earcon(name: str) -> Clip:
    """The earcon ``name`` (one of :data:`NAMES`) as a mono clip at MIX_RATE_HZ.

    Generated on first use and cached; the returned samples are read-only
    because the same array is shared by every caller.
    """
    samples = _synthesise(name)
    samples *= 10.0 ** (PEAK_DBFS / 20.0) / np.max(np.abs(samples))
    out = samples.astype(np.float32)
    out.flags.writeable = False
    return Clip(out, _RATE)


def wav_bytes(name: str) -> bytes:
    """The earcon as a 16-bit mono 44100 Hz WAV file (what make-earcons writes)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(_RATE)
        w.writeframes(pcm16_bytes(earcon(name).samples))
    return buf.getvalue()
