"""Noise suppression and automatic gain in front of recognition: WebRTC's, through ``webrtc-noise-gain``.

The package (Apache-2.0, the one Home Assistant's voice pipeline uses) wraps
the noise suppressor and the gain control of webrtc-audio-processing and ships
them compiled in its wheel. It takes 10 ms frames of 16 kHz int16 audio (160
samples); :class:`NoiseCleaner` cuts any chunk into those frames, keeping what
is left over for the next chunk, and returns as many samples as it was given
(chunks of a multiple of 10 ms, as the microphone's are, pass with no delay).

What we measured (``scripts/bench voice``, held-out generated voices) decided
where it goes: only in front of the command recognizer (:data:`PLACE`). There
the voice activity detector hears the command end over a steady fan, which it
took for speech before (commands obeyed with a fan at 10 dB SNR, at level 3: 20 of 69
woken without it, 43 of 66 with it). In front of the wake word model it made
the wake word heard less often (quiet room 63 of 75 takes against 71, fan at
10 dB SNR 53 against 69): the model's own front end already copes with
steady noise, and the suppressor's artefacts are new to it. So the wake word
model hears the microphone as it is; the suppressor still runs on every
chunk, so it knows the room's noise before anyone speaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from voicecoach.errors import MissingDependencyError

#: WebRTC noise suppression level: 0 off, 1-4 mild to strongest. 2, not 3: on the tuning speakers
#: (wake word forced, all four conditions) both obeyed as often within a command or two, but 3
#: also blurred short words said in a quiet room ("done" by a clean, lower voice went unheard).
SUPPRESSION = 2
#: Automatic gain: the target level in dB below full scale (0 turns it off). Off: with it (3 dBFS)
#: the tuning speakers' commands were obeyed no more often and with a fan at 10 dB SNR executed
#: wrongly more often (8 of 60 against 5, before the verification step); pocketsphinx normalizes
#: the level itself.
AUTO_GAIN_DBFS = 0
FRAME = 160  # 10 ms at 16 kHz: the only size the processor takes
INSTALL_HINT = "install webrtc-noise-gain (pip install 'voicecoach[listen]', or ./scripts/run --listen)"


class NoiseSuppressionMissing(MissingDependencyError):
    """The noise suppressor's package or native library cannot be loaded (voice control turns itself off)."""


def missing_error(detail: str = "") -> NoiseSuppressionMissing:
    why = f" ({detail})" if detail else ""
    return NoiseSuppressionMissing(f"noise suppression (webrtc-noise-gain) cannot be loaded{why}", hint=INSTALL_HINT)


class NoiseCleaner:
    """A :class:`~voicecoach.control.voice.Cleaner`: WebRTC noise suppression and automatic gain.

    Raises :class:`NoiseSuppressionMissing` when the package or its native
    library cannot be loaded (the caller turns voice control off in one line).
    """

    def __init__(self, suppression: int | None = None, auto_gain_dbfs: int | None = None) -> None:
        suppression = SUPPRESSION if suppression is None else suppression
        auto_gain_dbfs = AUTO_GAIN_DBFS if auto_gain_dbfs is None else auto_gain_dbfs
        try:
            from webrtc_noise_gain import AudioProcessor
        except ImportError as exc:  # the package, or its compiled library (a missing libstdc++...)
            raise missing_error(str(exc).splitlines()[0] if str(exc) else "") from exc
        self.suppression, self.auto_gain_dbfs = suppression, auto_gain_dbfs
        self._processor: Any = AudioProcessor(auto_gain_dbfs, suppression)
        self._in = np.zeros(0, np.int16)  # less than a frame, waiting for the next chunk
        self._out = np.zeros(0, np.int16)  # cleaned, not yet returned (only with odd chunk sizes)

    def process(self, pcm: np.ndarray, t_end: float) -> np.ndarray:
        pcm = np.asarray(pcm, np.int16)
        data = np.concatenate([self._in, pcm]) if len(self._in) else pcm
        n = len(data) // FRAME * FRAME
        self._in = data[n:].copy()
        raw = data[:n].astype("<i2").tobytes()
        cleaned = [self._processor.Process10ms(raw[i : i + 2 * FRAME]).audio for i in range(0, 2 * n, 2 * FRAME)]
        out = np.frombuffer(b"".join(cleaned), "<i2").astype(np.int16)
        if len(self._out):
            out = np.concatenate([self._out, out])
        if len(out) < len(pcm):  # an odd chunk size: a few samples of delay from here on
            out = np.concatenate([np.zeros(len(pcm) - len(out), np.int16), out])
        self._out = out[len(pcm) :]
        return out[: len(pcm)]


#: Where the suppressor goes: "recognizer" (the recognizer alone; the wake word model hears the
#: microphone as it is) or "both" (in front of the wake word model too; see the module docstring).
PLACE = "recognizer"


@dataclass(frozen=True)
class Stages:
    """Where the noise stage goes in :class:`~voicecoach.control.voice.listener.VoiceLogic`.

    ``VoiceLogic(detector, recognizer, cleaners=s.cleaners, recognizer_cleaners=s.recognizer_cleaners)``;
    an echo canceller goes in front: ``cleaners=(canceller, *s.cleaners)``.
    """

    cleaners: tuple[NoiseCleaner, ...] = ()
    recognizer_cleaners: tuple[NoiseCleaner, ...] = ()


def stages(place: str | None = None) -> Stages:
    """The noise stage, placed as :data:`PLACE` says (raises :class:`NoiseSuppressionMissing`)."""
    where = place or PLACE
    if where == "both":
        return Stages(cleaners=(NoiseCleaner(),))
    return Stages(recognizer_cleaners=(NoiseCleaner(),))
