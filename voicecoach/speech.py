"""The speech layer: phrases -> trimmed 44.1 kHz clips, cached on disk.

Importing this module is cheap: pyttsx3, espeak-ng and scipy are loaded on
the first phrase that is not in the cache (see :mod:`voicecoach.speech_engine`
for the engine and :mod:`voicecoach.speech_cache` for the cache).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from voicecoach import speech_engine
from voicecoach.clip import MIX_RATE_HZ, Clip
from voicecoach.errors import VoicecoachError
from voicecoach.speech_cache import CACHE_FORMAT_VERSION, ClipCache, cache_key, default_clip_dir
from voicecoach.speech_engine import VoiceInfo

__all__ = ["CACHE_FORMAT_VERSION", "ENGINES", "Speaker", "SpeechSettings", "VoiceInfo", "list_voices"]

ENGINES = ("system",)
RATE_RANGE_WPM = (80, 400)
SILENCE_DBFS = -50.0  # quieter than this at either end is trimmed...
KEEP_S = 0.010  # ...keeping this much before the first and after the last sound


@dataclass(frozen=True)
class SpeechSettings:
    """How to speak. ``voice`` is an id or name (a unique part is enough);
    ``language`` (e.g. "en-us") picks a voice when ``voice`` is None."""

    engine: str = "system"
    voice: str | None = None
    rate: int | None = None  # words per minute; None = the engine's default
    volume: float = 1.0  # 0..1
    language: str | None = None


def _check(settings: SpeechSettings) -> None:
    if settings.engine == "piper":
        raise VoicecoachError("The piper engine is not available yet.", hint="Use --engine system.")
    if settings.engine not in ENGINES:
        raise VoicecoachError(f"Unknown speech engine {settings.engine!r}; choose from: {', '.join(ENGINES)}.")
    lo, hi = RATE_RANGE_WPM
    rate = settings.rate
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int) or not lo <= rate <= hi):
        raise VoicecoachError(f"Speaking rate must be a whole number of words per minute from {lo} to {hi}, "
                              f"not {rate!r}.")
    vol = settings.volume
    if isinstance(vol, bool) or not isinstance(vol, (int, float)) or not 0.0 <= vol <= 1.0:
        raise VoicecoachError(f"Volume must be from 0 to 1, not {vol!r}.")


def list_voices(engine: str = "system") -> list[VoiceInfo]:
    """The installed voices of ``engine``."""
    _check(SpeechSettings(engine=engine))
    return speech_engine.voices()


class Speaker:
    """Turns phrases into clips with one voice, through the disk cache.

    ``cache_dir`` (default: ``$VOICECOACH_CACHE_DIR``, else the user cache
    dir's ``voicecoach/clips``) is where clips are stored. ``synthesized``
    counts the phrases this Speaker had to synthesize (cache misses).
    Settings are checked here; the voice is looked up on first use.
    """

    def __init__(self, settings: SpeechSettings = SpeechSettings(), cache_dir: Path | None = None) -> None:
        _check(settings)
        self.settings = settings
        self.cache = ClipCache(Path(cache_dir) if cache_dir is not None else default_clip_dir())
        self.synthesized = 0
        self._clips: dict[str, Clip] = {}
        self._voice: tuple[str, VoiceInfo, int] | None = None  # (driver, voice, rate)

    def _resolved(self) -> tuple[str, VoiceInfo, int]:
        if self._voice is None:
            driver, default_id, default_rate = speech_engine.info()
            voice = _pick_voice(speech_engine.voices(), self.settings.voice, self.settings.language,
                                default_id, driver)
            self._voice = (driver, voice, self.settings.rate or default_rate)
        return self._voice

    def clip(self, text: str) -> Clip:
        """The clip for ``text``: from memory, else the disk cache, else synthesized."""
        found = self._clips.get(text)
        if found is not None:
            return found
        if not text.strip():  # nothing to say (and pyttsx3 asserts on empty text)
            return self._keep(text, np.zeros(0, np.int16))
        driver, voice, rate = self._resolved()
        s = self.settings
        key = cache_key(driver, voice.id, rate, float(s.volume), s.language, text)
        pcm = self.cache.load(key, MIX_RATE_HZ)
        if pcm is None:
            samples, rate_hz = speech_engine.synthesize(text, voice.id, rate)
            pcm = _to_int16(_process(samples, rate_hz, s.volume))
            self.synthesized += 1
            self.cache.store(key, pcm, MIX_RATE_HZ)
        return self._keep(text, pcm)

    def _keep(self, text: str, pcm: np.ndarray) -> Clip:
        # Fresh and cached clips both come from int16, so they are identical.
        samples = (pcm.astype(np.float32) / 32767.0).astype(np.float32)
        samples.flags.writeable = False  # shared between callers: nobody may change it in place
        clip = self._clips[text] = Clip(samples, MIX_RATE_HZ)
        return clip

    def clips(self, texts: Iterable[str], progress: Callable[[int, int], None] | None = None) -> dict[str, Clip]:
        """Clips for the distinct ``texts`` (in first-seen order); ``progress(done, total)`` after each."""
        distinct = list(dict.fromkeys(texts))
        out: dict[str, Clip] = {}
        for done, text in enumerate(distinct, 1):
            out[text] = self.clip(text)
            if progress is not None:
                progress(done, len(distinct))
        return out

    def length_s(self, text: str) -> float:
        """How long ``text`` really takes to say, in seconds (its clip's duration)."""
        return self.clip(text).duration_s

    def describe(self) -> str:
        """The voice in words, e.g. "espeak-ng voice English (America), 175 wpm"."""
        driver, voice, rate = self._resolved()
        label = speech_engine.ENGINE_LABELS.get(driver, driver)
        text = f"{label} voice {voice.name}, {rate} wpm"
        if self.settings.volume != 1.0:
            text += f", volume {round(self.settings.volume * 100)}%"
        return text


def _pick_voice(voices: list[VoiceInfo], wanted: str | None, language: str | None,
                default_id: str, driver: str) -> VoiceInfo:
    """The voice for ``wanted`` (id, name or part of one), else for ``language``, else the default."""
    lang = language.strip().lower().replace("_", "-") if language else None
    speaks = [v for v in voices if lang and any(x == lang or x.startswith(lang + "-") for x in v.languages)]
    if lang and not speaks and wanted is None:
        raise VoicecoachError(f"No installed voice speaks {language!r}.",
                              hint="Run `voicecoach voices` to see the installed voices and their languages.")
    if wanted is None:
        if lang:  # exact tag first, then the most general variant ("en" -> en-gb before en-gb-scotland)
            return min(speaks, key=lambda v: (lang not in v.languages, min(len(x) for x in v.languages)))
        for v in voices:
            if v.id == default_id:
                return v
        return VoiceInfo(default_id, default_id or "default", (), driver)

    w = wanted.strip().casefold()

    def rank(v: VoiceInfo) -> int | None:
        vid, name = v.id.casefold(), v.name.casefold()
        if w in (vid, name):
            return 0
        if w == vid.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] or w in v.languages:
            return 1
        if name.startswith(w):
            return 2
        if w in vid or w in name:
            return 3
        return None

    pool = speaks or voices  # a --language narrows a --voice match when it can
    ranked = [(r, len(v.name), i) for i, v in enumerate(pool) if (r := rank(v)) is not None]
    if ranked:
        return pool[min(ranked)[2]]
    raise VoicecoachError(f"Unknown voice {wanted!r}.", hint=_voice_hint(voices, wanted))


def _voice_hint(voices: list[VoiceInfo], wanted: str) -> str:
    """A few voices to try: close names first, then English ones."""
    by_name = {v.name: v for v in voices}
    close = [by_name[n] for n in difflib.get_close_matches(wanted, list(by_name), n=5, cutoff=0.6)]
    english = [v for v in voices if any(x.startswith("en") for x in v.languages)]
    picks = list(dict.fromkeys(close + english + voices))[:5]
    listed = ", ".join(f"{v.name} ({v.id})" for v in picks)
    return f"Some available voices: {listed}.\nRun `voicecoach voices` to list them all."


def _process(samples: np.ndarray, rate_hz: int, volume: float) -> np.ndarray:
    """Trim silence at both ends, resample to the mix rate, apply the volume."""
    from scipy.signal import resample_poly  # scipy is slow to import; only needed on a miss

    threshold = 10 ** (SILENCE_DBFS / 20)
    loud = np.flatnonzero(np.abs(samples) >= threshold)
    if loud.size == 0:
        return np.zeros(0, np.float32)
    keep = round(KEEP_S * rate_hz)
    samples = samples[max(0, loud[0] - keep): loud[-1] + 1 + keep]
    if rate_hz != MIX_RATE_HZ:
        g = math.gcd(rate_hz, MIX_RATE_HZ)
        samples = resample_poly(samples.astype(np.float64), MIX_RATE_HZ // g, rate_hz // g)
    # Volume is applied here, not by the engine: the trim above then does not depend on it.
    return (np.asarray(samples, np.float64) * volume).astype(np.float32)


def _to_int16(samples: np.ndarray) -> np.ndarray:
    return np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
