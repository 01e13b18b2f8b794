"""Generated speakers for the voice-control benchmark: no recordings of real people, ever.

A "speaker" is a voice engine plus a pitch and pace shift: the Piper "joe"
voice (if the neural extra is installed) and several espeak-ng voices and
variants. Pitch is shifted by resampling (which also moves the formants, so a
shifted voice sounds like another, differently sized, person); pace comes
from the engine itself (Piper's length scale, espeak-ng's words per minute).
A "room" adds a little reverberation (an exponentially decaying noise
impulse response) and noise at a given signal-to-noise ratio: steady
fan-like noise (low-passed, with a little hiss), or traffic through an open
window (a low rumble with cars passing: swells of broader tyre noise a few
seconds long, at random times). Everything is 16 kHz float32 mono, made at run
time and kept only in memory.
"""

from __future__ import annotations

import io
import subprocess
import wave
from dataclasses import dataclass

import numpy as np
from scipy import signal

RATE = 16000


@dataclass(frozen=True)
class Speaker:
    """One generated voice: ``engine`` "piper" or "espeak", its voice, pitch factor and pace."""

    name: str
    engine: str
    voice: str  # espeak-ng voice (with +variant); ignored for piper (the bundled voice)
    pitch: float  # resampling factor: 1.1 is 10 % higher (and formants 10 % up)
    pace: float  # 1.0 the voice's own pace; 1.15 is 15 % faster
    espeak_pitch: int = 50  # espeak-ng's -p (0-99)


# Speakers the thresholds were chosen on, and speakers kept out of that choice.
TUNING = (
    Speaker("piper-joe", "piper", "", 1.0, 1.0),
    Speaker("piper-joe-high-fast", "piper", "", 1.12, 1.1),
    Speaker("espeak-us", "espeak", "en-us", 1.0, 1.0),
    Speaker("espeak-gb-f3", "espeak", "en-gb+f3", 1.0, 0.95, 60),
)
HELD_OUT = (
    Speaker("piper-joe-low-slow", "piper", "", 0.88, 0.9),
    Speaker("piper-joe-higher", "piper", "", 1.22, 1.0),
    Speaker("espeak-us-m3-low", "espeak", "en-us+m3", 0.92, 1.05, 40),
    Speaker("espeak-gb-rp-f2", "espeak", "en-gb-x-rp+f2", 1.05, 0.9, 65),
    Speaker("espeak-scot", "espeak", "en-gb-scotland", 0.96, 1.0, 45),
    Speaker("espeak-029-f4", "espeak", "en-029+f4", 1.08, 1.1, 55),
)


def piper_available() -> bool:
    from voicecoach.speech import piper

    return piper.available()


def speakers(include_piper: bool | None = None) -> tuple[Speaker, ...]:
    """All speakers, without the Piper ones when the neural extra is not installed."""
    use_piper = piper_available() if include_piper is None else include_piper
    return tuple(s for s in (*TUNING, *HELD_OUT) if use_piper or s.engine != "piper")


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    from math import gcd

    g = gcd(int(src), int(dst))
    return signal.resample_poly(x, dst // g, src // g).astype(np.float32)


def _espeak(text: str, voice: str, wpm: int, pitch: int) -> tuple[np.ndarray, int]:
    out = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    with wave.open(io.BytesIO(out)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    return pcm.astype(np.float32) / 32768.0, rate


def _piper(text: str, pace: float) -> tuple[np.ndarray, int]:
    from voicecoach.speech import piper

    return piper.synthesize(piper.bundled_voice(), text, int(round(piper.DEFAULT_RATE_WPM * pace)))


def say(speaker: Speaker, text: str) -> np.ndarray:
    """``text`` in this speaker's voice: 16 kHz float32, peak-normalized to 0.5, silence trimmed."""
    if speaker.engine == "piper":
        x, rate = _piper(text, speaker.pace)
    else:
        x, rate = _espeak(text, speaker.voice, int(round(165 * speaker.pace)), speaker.espeak_pitch)
    # Played `pitch` times faster: pitch and formants up, then back to the nominal length
    # through the engine's pace alone (resampling also shortens by 1/pitch; we accept that:
    # a higher voice that is also a little quicker is another plausible person).
    x = _resample(x, int(round(rate * speaker.pitch)), RATE)
    loud = np.flatnonzero(np.abs(x) > 0.01 * max(1e-9, float(np.abs(x).max())))
    if loud.size:
        x = x[max(0, loud[0] - 160) : loud[-1] + 160]
    peak = float(np.abs(x).max()) if x.size else 1.0
    return (x * (0.5 / max(peak, 1e-9))).astype(np.float32)


def speech_level(x: np.ndarray) -> float:
    """RMS over the louder half of 20 ms frames: the level of the speech, not of its pauses."""
    n = len(x) // 320
    if n == 0:
        return float(np.sqrt(np.mean(x**2))) if x.size else 0.0
    frames = x[: n * 320].reshape(n, 320)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    top = np.sort(rms)[n // 2 :]
    return float(np.sqrt(np.mean(top**2)))


class Room:
    """Reverberation and room noise, reproducible from ``seed``."""

    def __init__(self, seed: int = 0, rt60_s: float = 0.3, wet: float = 0.25) -> None:
        self.rng = np.random.default_rng(seed)
        n = int(rt60_s * RATE)
        t = np.arange(n) / RATE
        ir = self.rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s)  # -60 dB at rt60
        ir[: int(0.003 * RATE)] = 0.0  # the first reflection arrives after a few ms
        ir *= wet / np.sqrt(np.sum(ir**2))
        ir[0] = 1.0  # the direct sound
        self.ir = ir.astype(np.float32)
        # Fan-like room noise: brown-ish noise low-passed under 1 kHz plus a little broadband hiss.
        self._sos = signal.butter(2, 1000, "low", fs=RATE, output="sos")

    def reverb(self, x: np.ndarray) -> np.ndarray:
        return signal.fftconvolve(x, self.ir)[: len(x) + len(self.ir) // 2].astype(np.float32)

    def noise(self, n: int, level_rms: float, kind: str = "room") -> np.ndarray:
        """``n`` samples of ``kind`` noise ("room" tone, "fan" or "traffic") at ``level_rms``."""
        if kind == "traffic":
            return self.traffic(n, level_rms)
        if kind == "fan":
            return self.fan(n, level_rms)
        w = self.rng.standard_normal(n)
        z = signal.sosfilt(self._sos, w) + 0.3 * w
        z *= level_rms / max(1e-12, float(np.sqrt(np.mean(z**2))))
        return z.astype(np.float32)

    def fan(self, n: int, level_rms: float) -> np.ndarray:
        """A room fan: broadband air noise falling 3 dB an octave (pink) from 60 Hz to 7 kHz, and the
        blades' hum (a 90 Hz tone and its harmonics, 10 dB under the noise)."""
        spectrum = np.fft.rfft(self.rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / RATE)
        spectrum *= np.where((f >= 60) & (f <= 7000), 1 / np.sqrt(np.maximum(f, 60.0)), 0.0)
        z = np.fft.irfft(spectrum, n)
        z /= max(1e-12, float(np.sqrt(np.mean(z**2))))
        t = np.arange(n) / RATE
        phase = self.rng.uniform(0, 2 * np.pi)
        hum = sum(np.sin(2 * np.pi * 90 * k * t + k * phase) / k for k in (1, 2, 3))
        z += 0.3 * hum / float(np.sqrt(np.mean(hum**2)))
        z *= level_rms / max(1e-12, float(np.sqrt(np.mean(z**2))))
        return z.astype(np.float32)

    def traffic(self, n: int, level_rms: float) -> np.ndarray:
        """Street noise through a window: a steady rumble under 150 Hz, and cars passing.

        Each car is band-passed noise (tyres and engine, 80 Hz-2 kHz) under a
        bell-shaped swell 2-6 s long, 6-15 dB over the rumble at its peak,
        one every 1-5 s on average (they overlap in a busy street).
        """
        rumble = signal.sosfilt(signal.butter(2, 150, "low", fs=RATE, output="sos"), self.rng.standard_normal(n))
        rumble /= max(1e-12, float(np.sqrt(np.mean(rumble**2))))
        tyres = signal.sosfilt(signal.butter(2, (80, 2000), "band", fs=RATE, output="sos"), self.rng.standard_normal(n))
        tyres /= max(1e-12, float(np.sqrt(np.mean(tyres**2))))
        swell = np.zeros(n)
        t = np.arange(n) / RATE
        at = -3.0
        while at < n / RATE + 3.0:
            width = self.rng.uniform(2.0, 6.0) / 4  # the bell's standard deviation
            peak = 10 ** (self.rng.uniform(6, 15) / 20)
            swell += peak * np.exp(-0.5 * ((t - at) / width) ** 2)
            at += self.rng.uniform(1.0, 5.0)
        z = rumble + swell * tyres
        z *= level_rms / max(1e-12, float(np.sqrt(np.mean(z**2))))
        return z.astype(np.float32)


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``noise`` scaled so the speech level is ``snr_db`` above the noise's RMS."""
    s = speech_level(speech)
    rms = float(np.sqrt(np.mean(noise**2))) or 1.0
    return (speech + noise * (s / (10 ** (snr_db / 20)) / rms)).astype(np.float32)


def to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767).astype("<i2")


_SAID: dict[tuple[str, str], np.ndarray] = {}


def said(speaker: Speaker, text: str) -> np.ndarray:
    """:func:`say`, made once per run: every condition hears the same take (only the room differs)."""
    key = (speaker.name, text)
    if key not in _SAID:
        _SAID[key] = say(speaker, text)
    return _SAID[key]
