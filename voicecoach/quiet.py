"""Keeping libraries' own messages (ALSA, onnxruntime) out of the user's output, unless --debug.

What voicecoach prints is read aloud by screen readers and parsed by
scripts: a line such as ``ALSA lib pcm.c:8570:(snd_pcm_recover) underrun
occurred`` among the cues is noise at best. voicecoach reports what matters
itself, in words (underruns are counted and said after the session).
``--debug`` turns the libraries' messages back on.

* ALSA prints its errors from C, straight to file descriptor 2, through a
  process-wide handler: :func:`silence_alsa` replaces it with a C function
  that does nothing. Not a Python callback: ALSA calls the handler on
  PortAudio's real-time thread (an underrun is reported from there), and a
  Python callback would have to take the GIL, which can stall that thread
  for milliseconds: the very gap being reported.
* PortAudio prints its failed expressions (``Expression '...' failed in
  'src/hostapi/alsa/pa_linux_alsa.c'``, when the sound server dies) from C to
  file descriptor 2, through a print hook (``PaUtil_SetDebugPrintFunction``)
  that distributions' builds do not export. For the commands that load it,
  :func:`c_stderr_to_null` points fd 2 at /dev/null and gives Python's
  ``sys.stderr`` a descriptor of its own: voicecoach's messages still reach
  the terminal, the C libraries' do not.
* onnxruntime (the piper voice) logs through its own logger: its severity
  is raised to "fatal" where the session is created.
* ffmpeg runs with ``-loglevel error`` and its stderr captured; the system
  voice's prints are captured by ``speech.system._quiet``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import io
import os
import sys
import tempfile
from collections.abc import Iterator

_state = {"verbose": False, "alsa": False, "fd2": False}
_keep: list[object] = []  # the handler must outlive every ALSA call: kept for the process's life

#: onnxruntime's severities: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal.
ORT_FATAL = 4
ORT_WARNING = 2


def set_verbose(on: bool) -> None:
    """``--debug``: let the libraries print what they print."""
    _state["verbose"] = on


def verbose() -> bool:
    return bool(_state["verbose"])


def onnx_severity() -> int:
    """The log severity to give onnxruntime: warnings with --debug, else only fatal errors."""
    return ORT_WARNING if verbose() else ORT_FATAL


def silence_alsa() -> bool:
    """Replace ALSA's error handler with one that prints nothing (once; not with --debug).

    Call it before PortAudio is initialised (importing sounddevice does that),
    which enumerates the ALSA devices and may already complain. Returns
    whether ALSA is silenced; False where there is no ALSA (macOS, Windows).
    """
    if verbose() or not sys.platform.startswith("linux"):
        return False
    if _state["alsa"]:
        return True
    try:
        asound = ctypes.CDLL(ctypes.util.find_library("asound") or "libasound.so.2")
        libc = ctypes.CDLL(None)
        setter = asound.snd_lib_error_set_handler
    except (OSError, AttributeError):
        return False
    # The handler is ``void (*)(const char *file, int line, const char *func, int err,
    # const char *fmt, ...)``. getpid takes no arguments and has no effect: in the C calling
    # conventions of every Linux platform the caller removes the arguments, so a function
    # that ignores them is a valid no-op handler, and it is C all the way.
    noop = ctypes.cast(libc.getpid, ctypes.c_void_p)
    setter.argtypes = [ctypes.c_void_p]
    setter.restype = ctypes.c_int
    if setter(noop) != 0:
        return False
    _keep.append(noop)
    _state["alsa"] = True
    return True


def c_stderr_to_null() -> bool:
    """File descriptor 2 to /dev/null for the C libraries; ``sys.stderr`` keeps the real one (once; not with --debug).

    For the commands that run PortAudio (``play``, ``devices``), before it is
    loaded. Child processes inherit the silenced descriptor too (the wake word
    probe captures its own). Returns whether fd 2 is now silenced.
    """
    if verbose():
        return False
    if _state["fd2"]:
        return True
    stream = sys.stderr
    try:
        if stream is not None:
            stream.flush()
        own = os.dup(2)  # not inherited by children (PEP 446)
    except (OSError, ValueError):
        return False
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        os.close(own)
        return False
    encoding = getattr(stream, "encoding", None) or "utf-8"
    errors = getattr(stream, "errors", None) or "backslashreplace"
    mine = io.TextIOWrapper(
        io.FileIO(own, "w"), encoding=encoding, errors=errors, line_buffering=True, write_through=True
    )
    os.dup2(null, 2)
    os.close(null)
    # Both: some messages go to sys.__stderr__ on purpose (the system voice swaps sys.stderr while it speaks).
    sys.stderr = mine
    setattr(sys, "__stderr__", mine)  # noqa: B010 (typeshed makes it Final; it is a plain attribute)
    _state["fd2"] = True
    return True


@contextlib.contextmanager
def c_stderr_kept() -> Iterator[None]:
    """File descriptor 2 into a temporary file while a C library starts; shown only with --debug.

    espeak-ng opens its audio library even to write files, and that connects
    to PulseAudio, whose client prints its own errors to fd 2 (``shm.c:
    ftruncate() failed: File too large`` under ``ulimit -f``). For start-up
    only: the descriptor is the whole process's for that moment.
    """
    try:
        saved = os.dup(2)
        kept = tempfile.TemporaryFile()
    except OSError:
        yield
        return
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
        os.dup2(kept.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        kept.seek(0)
        text = kept.read()
        kept.close()
        if text and verbose() and sys.stderr is not None:
            sys.stderr.write(text.decode("utf-8", "replace"))
