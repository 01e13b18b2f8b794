"""Generated "people" for voice-control tests: the Piper voice, made deterministic and shifted in pitch.

Never a recording of a real person. Piper normally renders a phrase a little
differently each time (generator noise); with the noise scales at 0 the same
text gives the same samples, so a test that passes once passes every time.
Pitch is shifted by resampling (formants move too: another, smaller or
larger, speaker). Output: 16 kHz int16 mono, what a microphone stream gives.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from scipy import signal

RATE = 16000


def piper_available() -> bool:
    from voicecoach.speech import piper

    return piper.available()


def say(text: str, pitch: float = 1.0, pace: float = 1.0) -> np.ndarray:
    """``text`` in the Piper voice, ``pitch`` times higher and ``pace`` times faster; 16 kHz int16, peak -6 dBFS."""
    from voicecoach.speech import piper

    voice = piper.bundled_voice()
    model = piper.load(voice)
    config = piper._import_piper().SynthesisConfig(
        length_scale=voice.length_scale / pace, noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False
    )
    x = np.concatenate(
        [np.asarray(c.audio_float_array, np.float32).reshape(-1) for c in model.synthesize(text, syn_config=config)]
    )
    src = int(round(voice.sample_rate * pitch))
    g = np.gcd(src, RATE)
    x = signal.resample_poly(x, RATE // g, src // g)
    x = x * (0.5 / max(1e-9, float(np.abs(x).max())))
    return (x * 32767).astype(np.int16)


def write_wav(path: Path, pcm: np.ndarray, lead_s: float = 0.2) -> Path:
    """A 16 kHz mono WAV of ``pcm`` after ``lead_s`` of silence (paplay starts cleanly)."""
    data = np.concatenate([np.zeros(int(lead_s * RATE), np.int16), pcm, np.zeros(int(0.3 * RATE), np.int16)])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data.astype("<i2").tobytes())
    return path
