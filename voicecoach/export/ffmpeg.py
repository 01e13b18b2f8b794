"""Running ffmpeg for an export: finding it, its command line, and its failures in our words."""

from __future__ import annotations

import errno
import os
import shutil
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from voicecoach.errors import MissingDependencyError, OutputError
from voicecoach.outputs import cannot_write
from voicecoach.speech.clip import MIX_RATE_HZ

INSTALL_HINT = "Install it with 'sudo apt-get install ffmpeg' (Debian/Ubuntu) or 'brew install ffmpeg' (macOS)."


def find_ffmpeg() -> str:
    """The ffmpeg executable on PATH."""
    found = shutil.which("ffmpeg")
    if not found:
        raise MissingDependencyError("ffmpeg is needed to export audio but was not found.", hint=INSTALL_HINT)
    return found


def ffmpeg_command(
    ffmpeg: str, codec_args: Sequence[str], muxer: str, meta_path: str, out_path: str, channels: int = 1
) -> list[str]:
    """The ffmpeg argv: raw PCM on stdin (``channels`` interleaved), ffmetadata as input 1."""
    return [
        ffmpeg,
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-y",
        # With two inputs ffmpeg reads each in its own thread through an
        # 8-packet queue; that small queue throttled a WAV export 50-fold.
        "-f",
        "s16le",
        "-ar",
        str(MIX_RATE_HZ),
        "-ac",
        str(channels),
        "-thread_queue_size",
        "1024",
        "-i",
        "pipe:0",
        "-f",
        "ffmetadata",
        "-i",
        meta_path,
        "-map",
        "0:a",
        "-map_metadata",
        "1",
        "-map_chapters",
        "1",
        *codec_args,
        "-f",
        muxer,
        out_path,
    ]


def raise_ffmpeg_failed(part: Path, rc: int, err: IO[bytes]) -> None:
    """ffmpeg's failure in our words; its own messages (naming our part file) only with --debug."""
    from voicecoach import quiet

    err.seek(0)
    text = err.read().decode("utf-8", "replace").strip()
    tail = "\n".join(text.splitlines()[-5:]) if quiet.verbose() else ""
    target = _target_of(part)
    # A full disk, or the file-size limit (ulimit -f): SIGXFSZ kills ffmpeg (a child gets the default
    # action back), or it reports EFBIG. Said as for any other write.
    for failed, code in (("No space left on device", errno.ENOSPC), ("File too large", errno.EFBIG)):
        if failed in text or (code == errno.EFBIG and rc == -signal.SIGXFSZ):
            raise cannot_write(target, OSError(code, os.strerror(code)))
    how = f"was killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"
    raise OutputError(
        f"ffmpeg failed to encode the session: it {how}.",
        hint=tail or "Run again with --debug to see ffmpeg's own messages.",
    )


def _target_of(part: Path) -> Path:
    """The file a part file stands for (``.NAME.<pid>.<hex>.part`` -> ``NAME``), for messages."""
    name = part.name
    if name.startswith(".") and name.endswith(".part") and name.count(".") >= 4:
        return part.with_name(name[1:].rsplit(".", 3)[0])
    return part
