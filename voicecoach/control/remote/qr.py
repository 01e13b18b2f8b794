"""The remote's address as a QR code in the terminal, for a phone's camera.

segno (pure Python) makes the code; each text line stands for two rows of modules drawn
with half blocks. Its compact output draws the *light* modules, so every line is forced
to white on black: the code then reads the same on light and dark terminal themes. Where
that cannot be shown (plain or accessible output, ``NO_COLOR``, ``ACCESSIBLE``, a dumb terminal, an
encoding without the block characters) the address is printed alone.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import TextIO

_BLOCKS = "█▀▄"
_WHITE_ON_BLACK, _RESET = "\x1b[97;40m", "\x1b[0m"


def can_draw(stream: TextIO, env: Mapping[str, str] = os.environ) -> bool:
    """Whether ``stream`` is a terminal that shows colours and the block characters."""
    if "NO_COLOR" in env or "ACCESSIBLE" in env or env.get("TERM", "") in ("", "dumb"):
        return False
    try:
        if not stream.isatty():
            return False
        _BLOCKS.encode(stream.encoding or "ascii")
    except (AttributeError, ValueError, LookupError, UnicodeError, OSError):
        return False
    return True


def terminal_code(url: str) -> str:
    """``url`` as a QR code of half blocks, white on black, one line per two module rows."""
    import segno

    buf = io.StringIO()
    segno.make(url, error="m").terminal(out=buf, compact=True)
    return "".join(f"{_WHITE_ON_BLACK}{line}{_RESET}\n" for line in buf.getvalue().splitlines())
