"""Built-in programs, and resolving a PLAN argument (built-in name or plan file)."""

from __future__ import annotations

import os
import stat
from importlib import resources
from pathlib import Path

from voicecoach.core.plan import Plan
from voicecoach.core.planfile import MAX_FILE_BYTES, parse_plan, parse_plan_bytes
from voicecoach.errors import VoicecoachError

DEFAULT_PROGRAM = "inner-knee"


def builtin_names() -> list[str]:
    """Names of the built-in programs, sorted."""
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".yaml"))


def load_builtin(name: str) -> Plan:
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return parse_plan(text, source=name)


def plan_file(spec: str) -> Path | None:
    """What a PLAN argument means: the plan file it names, or None for the built-in program of that name.

    The one place that decides it: an existing file wins over a built-in program of the same name.
    """
    path = Path(spec)
    if spec in builtin_names() and not path.is_file():
        return None
    return path


def plan_key(spec: str) -> str:
    """A stable key for a PLAN argument (journal and saved places): the built-in name, or the file's absolute path."""
    path = plan_file(spec)
    return spec if path is None else str(path.resolve())


def load(spec: str) -> Plan:
    """A built-in program by name, or a plan file by path (an existing file wins)."""
    path = plan_file(spec)
    return load_builtin(spec) if path is None else load_plan_file(path)


def load_plan_file(path: Path) -> Plan:
    """Read and parse a plan file, with clear errors for unreadable files.

    Only regular files are read: a FIFO or a device would block or never end.
    """
    try:
        # O_NONBLOCK: opening a FIFO with no writer must not hang before the check below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise VoicecoachError(f"{path} is a directory, not a plan file") from None
    except FileNotFoundError:
        raise VoicecoachError(
            f"no plan file or built-in program named '{path}'",
            hint="see the built-in programs with: voicecoach programs",
        ) from None
    except OSError as exc:
        raise VoicecoachError(f"cannot read {path}: {exc.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
    if stat.S_ISDIR(st.st_mode):
        raise VoicecoachError(f"{path} is a directory, not a plan file")
    if not stat.S_ISREG(st.st_mode):
        raise VoicecoachError(f"{path} is not a regular file (a pipe or a device?); give the path of a plan file")
    with os.fdopen(fd, "rb") as f:
        if st.st_size > MAX_FILE_BYTES:
            raise VoicecoachError(f"{path}: the file is too large for a plan ({st.st_size} bytes)")
        try:
            data = f.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise VoicecoachError(f"cannot read {path}: {exc.strerror}") from None
    return parse_plan_bytes(data, str(path))
