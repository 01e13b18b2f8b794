"""The microphone check's judgement (``voicecoach mic-check``): levels, noise floor, verdicts. Pure.

Everything here takes 16 kHz int16 samples or numbers and returns numbers
or words; :mod:`voicecoach.live.miccheck` runs the steps with a real
microphone and voice. The thresholds, and why:

* **Too noisy**: the speech less than :data:`NOISY_SNR_DB` above the room's
  noise floor. 10 dB is the issue's "fan on, window open" condition, where
  the wake word is still heard; at 5 dB it is heard far less often
  (docs/benchmarks.md, "Wake word sensitivity": ``scripts/bench wake``).
* **Too quiet**: the speech under :data:`QUIET_SPEECH_DBFS`. The wake word
  model normalises the level and hears a voice far quieter than that, but
  the command recognizer starts to miss commands under it (the same
  section: commands at lower input levels).
* **Clipping**: a peak at :data:`CLIP_DBFS` or above: the input gain is so
  high that the loudest sounds are cut off, which both engines mishear.
* **A personal cutoff**: the lowest of the user's takes less
  :data:`CUTOFF_MARGIN` (a quieter take than the check's), never under the
  lowest cutoff that kept false wakes within 1 per hour of unrelated speech
  (:data:`SAFE_FLOOR`, measured per shipped model).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from voicecoach.control.voice import RATE

#: Level frames: 20 ms.
FRAME = RATE // 50
#: A frame this far above the noise floor is taken as speech: a voice 5 dB over a steady fan
#: (the bench's worst case) still is; the frame-to-frame wobble of steady noise stays under it.
SPEECH_OVER_FLOOR_DB = 6.0
#: The quietest noise floor we report as measured (digital silence reads far lower).
SILENCE_DBFS = -96.0
NOISY_SNR_DB = 10.0
FAIR_SNR_DB = 20.0
QUIET_SPEECH_DBFS = -45.0
CLIP_DBFS = -1.0
#: A take this little above the cutoff was heard, but only just.
JUST_MARGIN = 0.02
CUTOFF_MARGIN = 0.03
#: Per shipped model: the lowest cutoff with at most 1 false wake per hour of unrelated speech and
#: none in the coach's own session (scripts/bench wake: every model down to the lowest it tried).
SAFE_FLOOR: dict[str, float] = {"hey jarvis": 0.5, "okay nabu": 0.5, "hey mycroft": 0.5, "alexa": 0.5}


def dbfs(rms: float) -> float:
    """An RMS of int16 samples in dB relative to full scale (a full-scale square wave is 0 dBFS)."""
    return 20.0 * math.log10(max(rms, 1e-12) / 32768.0)


def frame_levels(pcm: np.ndarray) -> np.ndarray:
    """The level of every whole 20 ms frame, in dBFS."""
    x = np.asarray(pcm, dtype=np.float64)
    n = len(x) // FRAME
    if n == 0:
        return np.zeros(0)
    rms = np.sqrt(np.mean(x[: n * FRAME].reshape(n, FRAME) ** 2, axis=1))
    levels: np.ndarray = 20.0 * np.log10(np.maximum(rms, 1e-12) / 32768.0)
    return levels


def noise_floor(pcm: np.ndarray) -> float:
    """The room's noise floor over a stretch of quiet: the median frame level (a cough or a click does not move it)."""
    levels = frame_levels(pcm)
    return max(SILENCE_DBFS, float(np.median(levels))) if levels.size else SILENCE_DBFS


def peak_dbfs(pcm: np.ndarray) -> float:
    x = np.abs(np.asarray(pcm, dtype=np.float64))
    return dbfs(float(x.max())) if x.size else SILENCE_DBFS


@dataclass(frozen=True)
class Speech:
    """What a take held: its speech level (None: no speech), its peak, and the seconds of speech."""

    level_dbfs: float | None
    peak_dbfs: float
    seconds: float


def speech(pcm: np.ndarray, floor_dbfs: float) -> Speech:
    """The speech in a take: the power mean of the frames :data:`SPEECH_OVER_FLOOR_DB` above the floor,
    less the noise's power in them (what the voice alone brings)."""
    levels = frame_levels(pcm)
    loud = levels[levels > floor_dbfs + SPEECH_OVER_FLOOR_DB]
    if loud.size < 3:  # under 60 ms: a click, not a word
        return Speech(None, peak_dbfs(pcm), 0.0)
    power = float(np.mean(10.0 ** (loud / 10.0))) - 10.0 ** (floor_dbfs / 10.0)
    return Speech(10.0 * math.log10(power), peak_dbfs(pcm), loud.size * FRAME / RATE)


class EndOfSpeech:
    """Fed the samples of a take as they come; :attr:`done` once speech was heard and then
    ``after_s`` of non-speech followed. Frames are judged against the room's noise floor."""

    def __init__(self, floor_dbfs: float, after_s: float = 0.8) -> None:
        self.floor = floor_dbfs
        self._after = int(after_s * RATE / FRAME)
        self._pending = np.zeros(0, np.int16)
        self._quiet = 0
        self._loud = 0
        self.heard = False
        self.done = False

    def feed(self, pcm: np.ndarray) -> bool:
        x = np.concatenate([self._pending, np.asarray(pcm, np.int16)])
        n = len(x) // FRAME * FRAME
        self._pending = x[n:]
        for level in frame_levels(x[:n]):
            if level > self.floor + SPEECH_OVER_FLOOR_DB:
                self._loud += 1
                self._quiet = 0
                self.heard = self.heard or self._loud >= 3
            else:
                self._quiet += 1
                if not self.heard:
                    self._loud = 0
        self.done = self.heard and self._quiet >= self._after
        return self.done


# -- verdicts -----------------------------------------------------------------------------


def take_word(probability: float, cutoff: float) -> str:
    """One take: ``clear`` (above the cutoff with room to spare), ``just`` (only just above), ``missed``."""
    if probability <= cutoff:
        return "missed"
    return "just" if probability - cutoff < JUST_MARGIN else "clear"


@dataclass(frozen=True)
class Finding:
    """A problem found, printed as ``Warning: {text}`` and spoken as ``spoken``."""

    key: str  # "noisy", "quiet", "clipping", "silent"
    text: str
    spoken: str


def room_warnings(floor_dbfs: float, takes: Sequence[Speech]) -> list[Finding]:
    """The room and the microphone, from the noise floor and the takes' speech."""
    heard = [t for t in takes if t.level_dbfs is not None]
    if not heard:
        return [
            Finding(
                "silent",
                "no speech was heard over the room's noise: is the microphone muted, or the wrong one? Choose "
                "one with --mic (voicecoach devices lists them).",
                "I heard no speech. Is the microphone muted?",
            )
        ]
    level = statistics.median(t.level_dbfs for t in heard if t.level_dbfs is not None)
    out = []
    snr = level - floor_dbfs
    if snr < NOISY_SNR_DB:
        out.append(
            Finding(
                "noisy",
                f"the room is too noisy: your voice is {snr:.0f} dB above the noise ({NOISY_SNR_DB:.0f} dB or more "
                "is needed). Turn off a fan, close the window, or come closer to the microphone.",
                "The room is too noisy.",
            )
        )
    if level < QUIET_SPEECH_DBFS:
        out.append(
            Finding(
                "quiet",
                f"the microphone is too quiet: your voice reached {level:.0f} dBFS ({QUIET_SPEECH_DBFS:.0f} or louder "
                "is needed). Turn up its input volume, or come closer.",
                "The microphone is too quiet.",
            )
        )
    if max(t.peak_dbfs for t in heard) >= CLIP_DBFS:
        out.append(
            Finding(
                "clipping",
                "the microphone clips (your voice reached full scale): turn its input volume down.",
                "The microphone is too loud.",
            )
        )
    return out


def room_words(floor_dbfs: float, speech_dbfs: float | None = None) -> str:
    """The room in a few words: ``quiet``, ``some noise``, ``noisy`` (by the speech's margin when known)."""
    if speech_dbfs is None:
        return "quiet" if floor_dbfs < -60 else ("some noise" if floor_dbfs < -45 else "noisy")
    snr = speech_dbfs - floor_dbfs
    return "quiet" if snr >= FAIR_SNR_DB else ("some noise" if snr >= NOISY_SNR_DB else "too noisy")


@dataclass(frozen=True)
class Proposal:
    """A personal sensitivity: ``value`` for --wake-sensitivity (a cutoff), or None (no change, or none helps).

    ``status``: ``lower`` (use ``value``), ``keep`` (the one in use works), ``none`` (no cutoff helps).
    """

    value: float | None
    reason: str
    status: str = "none"


def propose(peaks: Sequence[float], model_cutoff: float, cutoff: float, floor: float | None) -> Proposal:
    """A cutoff that would have woken on every take, with :data:`CUTOFF_MARGIN` to spare, within the false-wake budget.

    ``cutoff`` is the one in use; ``floor`` the lowest safe one for this model (None: unknown, the one in use).
    """
    if not peaks:
        return Proposal(None, "no take to go by", "none")
    low = min(peaks)
    # No stricter level is proposed for a voice heard clearly: takes in a quiet check score higher
    # than the same voice over a fan, so the margin is what keeps it heard then.
    if low - CUTOFF_MARGIN > cutoff:
        return Proposal(None, "every take was heard clearly at the sensitivity in use", "keep")
    want = math.floor((low - CUTOFF_MARGIN) * 100) / 100
    safe = cutoff if floor is None else min(floor, cutoff)
    if want < safe:
        return Proposal(
            None, f"your takes scored as low as {low:.2f}, under the lowest safe cutoff ({safe:.2f})", "none"
        )
    return Proposal(want, f"your takes scored {low:.2f} to {max(peaks):.2f}", "lower")


def suggest_word(current: str, scores: Mapping[str, tuple[Sequence[float], float]]) -> str | None:
    """Another wake word that was heard in every take, with the widest margin over its cutoff; None if none.

    ``scores`` maps a wake word to its takes' probabilities and its cutoff (the chosen word's included).
    """
    best, margin = None, 0.0
    for word, (peaks, cut) in scores.items():
        if word == current or not peaks:
            continue
        m = min(peaks) - cut
        if m > margin:
            best, margin = word, m
    mine = scores.get(current)
    if best is not None and mine is not None and mine[0] and min(mine[0]) - mine[1] >= margin:
        return None  # the chosen one does as well
    return best


def weak(peaks: Sequence[float], cutoff: float) -> bool:
    """Whether the chosen wake word is weak for this voice: a take missed or only just heard."""
    return not peaks or any(take_word(p, cutoff) != "clear" for p in peaks)
