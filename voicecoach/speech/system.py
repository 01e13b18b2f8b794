"""The system voice through pyttsx3, fenced off from the faults of its 2.99 espeak driver.

Faults confirmed by experiment and in ``pyttsx3/drivers/espeak.py`` (2.99,
espeak-ng 1.51), and what we do about each:

* ``save_to_file`` only stores the text and file name, so of several items
  queued before ``runAndWait()`` only the last is rendered: ONE utterance per
  ``runAndWait``.
* The synthesis callback is process-wide (``espeak_SetSynthCallback``): a
  second engine steals it, and a garbage-collected one resets it to NULL;
  either way nothing is written again. One engine per process, created lazily,
  used behind a lock, dropped only at exit (its ``__del__`` prints a traceback
  during interpreter teardown).
* espeak-ng runs in AUDIO_OUTPUT_RETRIEVAL mode, which is asynchronous: the
  callback writes the WAV, then prints, on espeak-ng's own thread, and
  ``runAndWait`` can return before the WAV exists (always on a process's first
  call). We wait for "finished-utterance", then for a complete file, with a
  timeout.
* After its first call, ``runAndWait`` spins until the callback ends the loop;
  if it never does (stolen callback, a WAV write error raised inside the
  callback) it spins forever. Marking the proxy busy first makes the loop end
  after one pass, whatever the callback does (we wait ourselves, above).
* Parameters (rate, volume) are queued behind the synthesis thread, and the
  ``stop()`` run by every end of loop calls ``espeak_Cancel`` when that thread
  is busy, which restores the previous utterance's parameters: rate changes
  were lost at random. We wait until espeak-ng is idle, and put rate and
  volume in the text as embedded commands (``\x01175S``), per utterance.
* ``getProperty("rate"/"volume")`` calls ``espeak_GetParameter`` without its
  ``current`` argument (absent from the ctypes prototype): it returns the
  current or the default value at random, so we never read it.
* A bad voice is only reported to "error" listeners: we listen.
* The callback prints "Audio saved to ..." on stdout, and errors inside it
  become tracebacks on stderr: both are captured.
* ``say()`` shells out to ``aplay``: never used.

Nothing here imports pyttsx3 at module import.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import difflib
import io
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach import quiet
from voicecoach.core.vocab import EngineName
from voicecoach.errors import MissingDependencyError, VoicecoachError
from voicecoach.outputs import raise_if_unwritable
from voicecoach.speech.engine import ResolvedVoice, VoiceInfo, clean_text, normalize_language
from voicecoach.speech.engine import speaks as voice_speaks
from voicecoach.speech.wavfile import read_audio, wait_complete

# espeak-ng's own default (the `espeak-ng` command's); pyttsx3 would say 200.
ESPEAK_DEFAULT_RATE_WPM = 175
WAV_TIMEOUT_S = 10.0
_TEMP_FILE = "the system voice's temporary file in "  # what a full disk or ulimit -f stopped
ENGINE_LABELS = {"espeak": "espeak-ng", "sapi5": "SAPI5", "nsss": "macOS", "avspeech": "macOS"}


class _System:
    """The process's one pyttsx3 engine and what it told us at start."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.driver: str = getattr(engine, "driver_name", str(engine))
        self.default_voice_id = str(engine.getProperty("voice") or "")
        self.default_rate = ESPEAK_DEFAULT_RATE_WPM if self.driver == "espeak" else int(engine.getProperty("rate"))


_lock = threading.Lock()
_system: _System | None = None


def _missing(detail: str, *, python_package: bool = False) -> MissingDependencyError:
    if python_package:
        hint = "Reinstall voicecoach's Python dependencies: pip install pyttsx3."
    elif sys.platform.startswith("linux"):
        hint = "Install espeak-ng: sudo apt-get install espeak-ng (Debian/Ubuntu), sudo dnf install espeak-ng (Fedora)."
    else:
        hint = (
            "The system voice is built into macOS and Windows; reinstall the Python "
            "package: pip install --force-reinstall pyttsx3."
        )
    return MissingDependencyError(f"The system voice is not available ({detail}).", hint=hint)


def _get() -> _System:
    """The engine, created on first use. Caller holds ``_lock``."""
    global _system
    if _system is None:
        try:
            import pyttsx3
        except ImportError as exc:
            raise _missing(f"pyttsx3 cannot be imported: {exc}", python_package=True) from None
        try:
            with _quiet(), quiet.c_stderr_kept():
                # pyttsx3.init() reuses a live engine for the same driver name:
                # other code calling it shares ours instead of stealing the callback.
                _system = _System(pyttsx3.init())
        except Exception as exc:  # a missing libespeak-ng raises RuntimeError/OSError
            raise _missing(str(exc) or type(exc).__name__) from None
        atexit.register(_release)
    return _system


def _release() -> None:
    """Drop the engine at exit, while modules are whole: pyttsx3's ``DriverProxy.__del__``
    prints a traceback when it runs during interpreter teardown."""
    global _system
    if _lock.acquire(timeout=1.0):  # never hang an exit on a stuck synthesis
        try:
            if _system is not None and _system.driver == "espeak":
                # An utterance cut short (Ctrl-C while preparing) may still be on espeak-ng's
                # thread; its callback into a dropped engine printed a traceback.
                _cancel_espeak()
            _system = None
        finally:
            _lock.release()


def info() -> tuple[str, str, int]:
    """The system voice's driver ("espeak", "sapi5", "nsss"), default voice id and rate (wpm)."""
    with _lock:
        s = _get()
        return s.driver, s.default_voice_id, s.default_rate


def voices() -> list[VoiceInfo]:
    """Every voice the system engine offers."""
    with _lock:
        s = _get()
        with _quiet():
            found = s.engine.getProperty("voices")
    return [
        VoiceInfo(
            id=str(v.id),
            name=str(v.name or v.id),
            languages=tuple(_norm_lang(lang) for lang in (v.languages or ())),
            engine=s.driver,
        )
        for v in found
    ]


def _norm_lang(lang: Any) -> str:
    if isinstance(lang, bytes):  # espeak-ng's languages come as bytes
        lang = lang.decode("utf-8", "replace")
    return normalize_language(lang)


def synthesize(text: str, voice_id: str, rate: int) -> tuple[np.ndarray, int]:
    """Speak ``text`` into memory: (float32 mono samples, sample rate). Volume stays at 1."""
    with _lock, tempfile.TemporaryDirectory(prefix="voicecoach-") as tmp:
        s = _get()
        engine, espeak = s.engine, s.driver == "espeak"
        path = Path(tmp) / "phrase.wav"
        timeout = WAV_TIMEOUT_S + 0.01 * len(text)
        errors: list[object] = []
        finished = threading.Event()
        tokens = [
            engine.connect("error", lambda **kw: errors.append(kw.get("exception"))),
            engine.connect("finished-utterance", lambda **kw: finished.set()),
        ]
        try:
            with _quiet() as stderr:
                if espeak:
                    _wait_espeak_idle()
                    # Queued behind a busy driver, everything (end-of-loop included) runs in
                    # the loop's first pass, so runAndWait returns without waiting for a
                    # callback that may never come.
                    engine.proxy.setBusy(True)
                    engine.setProperty("voice", voice_id)  # synchronous in espeak-ng
                    # Rate and volume ride in the text as espeak embedded commands: set as
                    # parameters they are queued, and a Cancel can undo them (see above).
                    spoken = f"\x01{rate}S\x01100A{clean_text(text)}"  # no ctrl-A from the text: it starts a command
                else:
                    engine.setProperty("voice", voice_id)
                    engine.setProperty("rate", rate)
                    engine.setProperty("volume", 1.0)
                    spoken = clean_text(text)
                try:
                    engine.save_to_file(spoken, str(path))  # ONE utterance per runAndWait
                    engine.runAndWait()
                    # espeak-ng speaks on its own thread and the callback prints after writing
                    # the file: wait for its "finished" inside _quiet, then for a whole file.
                    ok = (not espeak or finished.wait(timeout)) and wait_complete(path, timeout)
                except BaseException:
                    if espeak:  # Ctrl-C: stop espeak-ng's thread here, inside _quiet, before its callback prints
                        _cancel_espeak()
                    raise
        except Exception as exc:  # pyttsx3 raising is a voice failure, not our bug
            raise VoicecoachError(f"The system voice failed on {text!r}: {exc}") from None
        finally:
            for token in tokens:
                engine.disconnect(token)
        if errors:
            raise_if_unwritable(str(errors[0]), Path(tmp).parent, what=_TEMP_FILE)
            raise VoicecoachError(f"The system voice failed on {text!r}: {errors[0]}")
        if not ok:
            raise_if_unwritable(stderr.getvalue(), Path(tmp).parent, what=_TEMP_FILE)
            detail = stderr.getvalue().strip().splitlines()
            raise VoicecoachError(
                f"The system voice produced no audio for {text!r}.", hint=detail[-1] if detail else None
            )
        return read_audio(path)


def _cancel_espeak() -> None:
    """Stop what espeak-ng is synthesizing and wait until its thread is idle (never raises)."""
    with contextlib.suppress(Exception):
        from pyttsx3.drivers import _espeak

        _espeak.Cancel()
        _wait_espeak_idle()


def _wait_espeak_idle(timeout_s: float = 2.0) -> None:
    """Wait until espeak-ng's synthesis thread is idle (the previous callback has returned)."""
    from pyttsx3.drivers import _espeak

    deadline = time.monotonic() + timeout_s
    while _espeak.IsPlaying() and time.monotonic() < deadline:
        time.sleep(0.001)


class _Theirs(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` while the voice speaks: what the voice's threads write goes to ``sink``.

    Those are the thread that called it and espeak-ng's own threads, which
    enter Python through a ctypes callback (as "dummy" threads). Every other
    thread (a live session printing its cues while phrases are made in the
    background) writes through to the real stream.
    """

    def __init__(self, real: Any, sink: io.StringIO, caller: threading.Thread) -> None:
        self.real, self.sink, self.caller = real, sink, caller

    def _target(self) -> Any:
        me = threading.current_thread()
        voice = me is self.caller or isinstance(me, threading._DummyThread)
        return self.sink if voice or self.real is None else self.real

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """Silence stdout at the Python and file-descriptor level; capture Python's stderr.

    The driver prints from Python, and espeak-ng (C) may print too, so fd 1 is
    pointed at /dev/null as well. That is process-wide: other threads' writes
    to fd 1 are lost for these few milliseconds (a live session's lines go
    through a descriptor of their own); at the Python level only the voice's
    threads are silenced (:class:`_Theirs`).
    """
    if sys.stdout is not None:
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (e.g. pythonw)
        saved = None
    err = io.StringIO()
    try:
        if saved is not None:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
        me = threading.current_thread()
        with (
            contextlib.redirect_stdout(_Theirs(sys.stdout, io.StringIO(), me)),
            contextlib.redirect_stderr(_Theirs(sys.stderr, err, me)),
        ):
            yield err
    finally:
        if saved is not None:
            _flush_c_stdout()  # C buffers must drain into /dev/null, not into our stdout later
            os.dup2(saved, 1)
            os.close(saved)


def _flush_c_stdout() -> None:
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)


# -- the engine object the Speaker uses ------------------------------------------


class SystemEngine:
    """The system voice as an :class:`~voicecoach.speech.engine.Engine`."""

    name = EngineName.SYSTEM

    def available(self) -> bool:
        return True  # whether it really runs is found on first use, with a clear error

    def missing_error(self) -> MissingDependencyError:
        return _missing("not found")

    def voices(self) -> list[VoiceInfo]:
        return voices()

    def serves(self, voice: str | None, language: str | None) -> bool:
        return True  # the fallback: it takes any --voice and --language (or says why not)

    def resolve(self, voice: str | None, language: str | None, rate: int | None, volume: float) -> ResolvedVoice:
        driver, default_id, default_rate = info()
        found = _pick_voice(voices(), voice, language, default_id, driver)
        wpm = rate or default_rate
        label = ENGINE_LABELS.get(driver, driver)
        voice_id = found.id
        # The key is the one voicecoach has always used: existing caches stay valid.
        return ResolvedVoice(
            key=(driver, voice_id, wpm, float(volume), language),
            label=f"{label} voice {found.name}, {wpm} wpm",
            synthesize=lambda text: synthesize(text, voice_id, wpm),
        )


SYSTEM = SystemEngine()


def _pick_voice(
    voices: list[VoiceInfo], wanted: str | None, language: str | None, default_id: str, driver: str
) -> VoiceInfo:
    """The voice for ``wanted`` (id, name or part of one), else for ``language``, else the default."""
    lang = normalize_language(language) if language else None
    speaks = [v for v in voices if lang and voice_speaks(v.languages, lang)]
    if lang and not speaks and wanted is None:
        raise VoicecoachError(
            f"No installed voice speaks {language!r}.",
            hint="Run `voicecoach voices` to see the installed voices and their languages.",
        )
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
