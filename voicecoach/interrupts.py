"""Every way to stop voicecoach from outside (Ctrl-C, SIGTERM, SIGHUP, Ctrl-\\) as one KeyboardInterrupt.

A polite kill unwinds like Ctrl-C, so an export removes its temporary file
and a live session saves its place. Three rules keep that orderly:

* An inherited "ignore" stays: ``nohup voicecoach export ...`` starts with
  SIGHUP ignored (and a job started with ``&`` by a script, SIGINT);
  overriding it would let a closed terminal end the export.
* Only the first signal raises. A second one (an impatient double Ctrl-C,
  the SIGHUP that follows a closed terminal's SIGTERM) must not break into
  the clean-up the first one started, so it only calls the hurry-up callback
  (a live session stops its goodbye). That is what makes "Stopped. Your
  place is saved" come exactly once, with nothing after it.
* A clean-up that hangs is not a trap: the third signal exits at once (130).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

FORCE_AFTER = 3  # this many signals end the process without any clean-up
# SIGQUIT (Ctrl-\\) too: a core dump with the terminal in cbreak mode helps no one here.
_NAMES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
_state: dict[str, Any] = {"count": 0, "hurry": None}


def install() -> None:
    """Route SIGINT, SIGTERM, SIGHUP and SIGQUIT to :func:`handle`, keeping an inherited SIG_IGN (main thread only)."""
    for name in _NAMES:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            if signal.getsignal(sig) == signal.SIG_IGN:
                continue
            signal.signal(sig, handle)
        except (ValueError, OSError):  # not the main thread, or not on this platform
            pass


def handle(signum: int, frame: Any) -> None:
    """The signal handler: KeyboardInterrupt the first time; then only hurry; the third time, exit."""
    _state["count"] += 1
    if _state["count"] == 1:
        raise KeyboardInterrupt
    if _state["count"] >= FORCE_AFTER:
        os._exit(130)
    hurry = _state["hurry"]
    if hurry is not None:
        try:
            hurry()
        except Exception:
            pass


def stopping(hurry: Callable[[], None] | None = None) -> None:
    """The process is on its way out (a live session quitting by any input): no signal raises from now on.

    ``hurry`` is called by the next signal instead (e.g. stop speaking the goodbye).
    """
    _state["count"] = max(_state["count"], 1)
    _state["hurry"] = hurry


def reset() -> None:
    """Back to the start: the next signal raises again (for tests that run sessions in one process)."""
    _state["count"] = 0
    _state["hurry"] = None
