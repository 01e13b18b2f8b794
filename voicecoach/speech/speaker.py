"""The speech layer: phrases -> trimmed 44.1 kHz clips, cached on disk.

Two engines: "system" (pyttsx3: espeak-ng, SAPI5 or macOS) and "piper" (the
neural voice of the optional ``neural`` extra). Importing this module is cheap:
pyttsx3, espeak-ng, piper, onnxruntime and scipy are loaded on the first phrase
that is not in the cache (see :mod:`voicecoach.speech.engine` for the engine interface,
:mod:`voicecoach.speech.system` and :mod:`voicecoach.speech.piper` for the engines and :mod:`voicecoach.speech.cache`
for the cache).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.core.vocab import EngineName
from voicecoach.errors import VoicecoachError
from voicecoach.speech.cache import CACHE_FORMAT_VERSION, ClipCache, cache_key, default_clip_dir
from voicecoach.speech.clip import MIX_RATE_HZ, Clip, to_int16
from voicecoach.speech.engine import ResolvedVoice, VoiceInfo, engines
from voicecoach.speech.resample import double_rate

__all__ = ["CACHE_FORMAT_VERSION", "Speaker", "SpeechSettings", "VoiceInfo", "list_voices", "resolve_engine"]

RATE_RANGE_WPM = (80, 400)
SILENCE_DBFS = -50.0  # quieter than this at either end is trimmed...
KEEP_S = 0.010  # ...keeping this much before the first and after the last sound


@dataclass(frozen=True)
class SpeechSettings:
    """How to speak. ``voice`` is an id or name (a unique part is enough);
    ``language`` (e.g. "en-us") picks a voice when ``voice`` is None.

    ``engine`` is "system" (the default here), "piper" or None for auto (the
    CLI's default): piper when the neural extra is installed and can take
    ``voice`` and ``language``, else system.
    With piper, ``voice`` is the path of a ``.onnx`` voice (its ``.onnx.json``
    beside it) or None for the bundled voice; ``rate`` 175 is the voice's own pace.
    """

    engine: str | None = "system"
    voice: str | None = None
    rate: int | None = None  # words per minute; None = the engine's default
    volume: float = 1.0  # 0..1
    language: str | None = None


def _check(settings: SpeechSettings) -> None:
    if settings.engine is not None and settings.engine not in tuple(EngineName):
        raise VoicecoachError(f"Unknown speech engine {settings.engine!r}; choose from: {', '.join(EngineName)}.")
    lo, hi = RATE_RANGE_WPM
    rate = settings.rate
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int) or not lo <= rate <= hi):
        raise VoicecoachError(
            f"Speaking rate must be a whole number of words per minute from {lo} to {hi}, not {rate!r}."
        )
    vol = settings.volume
    if isinstance(vol, bool) or not isinstance(vol, (int, float)) or not 0.0 <= vol <= 1.0:
        raise VoicecoachError(f"Volume must be from 0 to 1, not {vol!r}.")


def resolve_engine(settings: SpeechSettings) -> str:
    """The engine that will speak: ``settings.engine``, or the auto choice when it is None.

    Asking for an engine that is not installed is a :class:`MissingDependencyError`.
    """
    _check(settings)
    registry = engines()
    if settings.engine is None:  # the first engine, in order of preference, that takes these settings
        return next(name for name, e in registry.items() if e.serves(settings.voice, settings.language))
    engine = registry[settings.engine]
    if not engine.available():
        raise engine.missing_error()
    return engine.name


def list_voices(engine: str | None = "system") -> list[VoiceInfo]:
    """The installed voices of ``engine``; None: every available engine's, the system voices first."""
    registry = engines()
    if engine is None:
        return [v for name in EngineName for v in registry[name].voices() if registry[name].available()]
    return registry[resolve_engine(SpeechSettings(engine=engine))].voices()


MEMORY_CLIPS = 16  # clips kept in memory (~0.5 MB each); the rest reload from the disk cache (~0.6 ms)


class Speaker:
    """Turns phrases into clips with one voice, through the disk cache.

    ``cache_dir`` (default: ``$VOICECOACH_CACHE_DIR``, else the user cache
    dir's ``voicecoach/clips``) is where clips are stored. ``synthesized``
    counts the phrases this Speaker had to synthesize (cache misses).
    Settings are checked and the engine chosen (``engine``: "system" or
    "piper") here; the voice is looked up on first use.
    """

    def __init__(
        self,
        settings: SpeechSettings = SpeechSettings(),
        cache_dir: Path | None = None,
        *,
        voice: ResolvedVoice | None = None,
    ) -> None:
        self.engine = resolve_engine(settings)
        self.settings = settings
        self.cache = ClipCache(Path(cache_dir) if cache_dir is not None else default_clip_dir())
        self.synthesized = 0
        # Lengths of every phrase seen; the clips themselves only in a small LRU, so a
        # two-hour session holds no more audio in memory than a short one.
        self._lengths: dict[str, float] = {}
        self._clips: OrderedDict[str, Clip] = OrderedDict()
        self._memory_lock = threading.Lock()
        self._voice: ResolvedVoice | None = voice  # given: a voice ready to speak (the tests' fake engines)
        self._voice_lock = threading.Lock()
        self._count_lock = threading.Lock()
        # Phrases being made by some thread now: another thread asking for one waits for it
        # rather than making it again (a neural voice would say it differently the second time).
        self._making: dict[str, threading.Event] = {}
        # Clips the disk cache could not take (disk full): kept here, so a phrase is made once.
        self._unstored: dict[str, np.ndarray] = {}

    def _resolved(self) -> ResolvedVoice:
        with self._voice_lock:
            if self._voice is None:
                s = self.settings
                self._voice = engines()[self.engine].resolve(s.voice, s.language, s.rate, s.volume)
            return self._voice

    @property
    def workers(self) -> int:
        """How many phrases this voice can synthesize at once (resolving it, maybe loading it)."""
        return self._resolved().workers

    def clip(self, text: str, *, remember: bool = True) -> Clip:
        """The clip for ``text``: from memory, else the disk cache, else synthesized.

        ``remember=False`` keeps it out of the in-memory LRU (a batch that only
        needs the phrases cached and their lengths known). Thread-safe: a phrase
        asked for by several threads at once is made once.
        """
        with self._memory_lock:
            found = self._clips.get(text)
            if found is not None:
                self._clips.move_to_end(text)
                return found
        if not text.strip():  # nothing to say (and pyttsx3 asserts on empty text)
            return self._keep(text, np.zeros(0, np.int16), remember)
        with self._memory_lock:
            other = self._making.get(text)
            if other is None:
                mine = self._making[text] = threading.Event()
        if other is not None:
            other.wait()
            return self.clip(text, remember=remember)  # made by the other thread (or it failed: try again)
        try:
            voice = self._resolved()
            key = cache_key(*voice.key, text)
            pcm = self._unstored.get(text)
            if pcm is None:
                pcm = self.cache.load(key, MIX_RATE_HZ)
            if pcm is None:
                samples, rate_hz = voice.synthesize(text)
                pcm = to_int16(_process(samples, rate_hz, self.settings.volume))
                with self._count_lock:
                    self.synthesized += 1
                if not self.cache.store(key, pcm, MIX_RATE_HZ):
                    self._unstored[text] = pcm
            return self._keep(text, pcm, remember)
        finally:
            with self._memory_lock:
                del self._making[text]
            mine.set()

    def known_length(self, text: str) -> float | None:
        """``text``'s length if its clip is at hand (made or loaded in this process, or in the disk cache),
        else None. Never synthesizes."""
        known = self._lengths.get(text)
        if known is not None:
            return known
        if not text.strip():
            return 0.0
        pcm = self._unstored.get(text)
        if pcm is None:
            pcm = self.cache.load(cache_key(*self._resolved().key, text), MIX_RATE_HZ)
        if pcm is None:
            return None
        return self._keep(text, pcm, remember=False).duration_s

    def _keep(self, text: str, pcm: np.ndarray, remember: bool) -> Clip:
        # Fresh and cached clips both come from int16, so they are identical.
        samples = (pcm.astype(np.float32) / 32767.0).astype(np.float32)
        samples.flags.writeable = False  # shared between callers: nobody may change it in place
        clip = Clip(samples, MIX_RATE_HZ)
        with self._memory_lock:
            self._lengths[text] = clip.duration_s
            if remember:
                self._clips[text] = clip
                while len(self._clips) > MEMORY_CLIPS:
                    self._clips.popitem(last=False)
        return clip

    def prefetch(self, texts: Iterable[str], progress: Callable[[int, int], None] | None = None) -> None:
        """Make sure every phrase is in the disk cache and its length known, holding none of them."""
        distinct = list(dict.fromkeys(texts))
        todo = [t for t in distinct if t not in self._lengths and t.strip()]
        workers = self._resolved().workers if len(todo) > 1 else 1
        if workers > 1:
            self._clips_at_once(distinct, min(workers, len(todo)), progress)
            return
        for done, text in enumerate(distinct, 1):
            self.clip(text, remember=False)
            if progress is not None:
                progress(done, len(distinct))

    def clips(self, texts: Iterable[str], progress: Callable[[int, int], None] | None = None) -> dict[str, Clip]:
        """Clips for the distinct ``texts`` (in first-seen order); ``progress(done, total)`` after each.

        The piper engine synthesizes several phrases at once (``progress`` is
        still called from this thread, ``done`` counting up by one).
        """
        distinct = list(dict.fromkeys(texts))
        self.prefetch(distinct, progress)
        return {text: self.clip(text) for text in distinct}

    def _clips_at_once(self, distinct: list[str], workers: int, progress: Callable[[int, int], None] | None) -> None:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(workers, thread_name_prefix="voicecoach-speech") as pool:
            futures = [pool.submit(self.clip, text, remember=False) for text in distinct]
            try:
                for done, future in enumerate(as_completed(futures), 1):
                    future.result()
                    if progress is not None:
                        progress(done, len(distinct))
            except BaseException:  # an error or Ctrl-C: start no more phrases
                for future in futures:
                    future.cancel()
                raise

    def cache_keys(self, texts: Iterable[str] = ()) -> set[str]:
        """The clip-cache keys of ``texts`` and of every phrase this Speaker has met:
        what the running session needs kept when the cache is trimmed."""
        voice = self._resolved()
        with self._memory_lock:  # synthesis may still be adding phrases in the background
            seen = list(self._lengths)
        return {cache_key(*voice.key, text) for text in {*texts, *seen} if text.strip()}

    def length_s(self, text: str) -> float:
        """How long ``text`` really takes to say, in seconds (its clip's duration)."""
        known = self._lengths.get(text)
        return known if known is not None else self.clip(text).duration_s

    def describe(self) -> str:
        """The voice in words, e.g. "espeak-ng voice English (America), 175 wpm" or
        "piper voice en_US-joe-medium, 175 wpm"."""
        text = self._resolved().label
        if self.settings.volume != 1.0:
            text += f", volume {round(self.settings.volume * 100)}%"
        return text


def _process(samples: np.ndarray, rate_hz: int, volume: float) -> np.ndarray:
    """Trim silence at both ends, resample to the mix rate, apply the volume."""
    threshold = 10 ** (SILENCE_DBFS / 20)
    loud = np.flatnonzero(np.abs(samples) >= threshold)
    if loud.size == 0:
        return np.zeros(0, np.float32)
    keep = round(KEEP_S * rate_hz)
    samples = samples[max(0, loud[0] - keep) : loud[-1] + 1 + keep]
    if 2 * rate_hz == MIX_RATE_HZ:  # espeak-ng and Piper voices: scipy's result without importing scipy
        samples = double_rate(samples.astype(np.float64))
    elif rate_hz != MIX_RATE_HZ:
        from scipy.signal import resample_poly  # slow to import: only for voices at other rates

        g = math.gcd(rate_hz, MIX_RATE_HZ)
        samples = resample_poly(samples.astype(np.float64), MIX_RATE_HZ // g, rate_hz // g)
    # Volume is applied here, not by the engine: the trim above then does not depend on it.
    return (np.asarray(samples, np.float64) * volume).astype(np.float32)
