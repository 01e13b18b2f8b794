"""Where the tests find the repository and their data files, and what they look for after a write."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The repository (scripts/, audio/, voicecoach/).
ROOT = Path(__file__).resolve().parents[2]
#: Malformed plan files, each with its located errors (the plan parser's tests and `voicecoach check`'s).
BAD_PLANS = ROOT / "tests" / "core" / "bad_plans"
#: Malformed config files.
BAD_CONFIGS = ROOT / "tests" / "cli" / "bad_configs"


def part_files(directory: Path) -> list[str]:
    """The names of the part files (unfinished atomic writes) in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


@contextlib.contextmanager
def tmpfs(
    path: Path, size: str = "256k", *, fill: bool = False, readonly: bool = False, files: dict[str, bytes] | None = None
) -> Iterator[Path]:
    """A real small filesystem at ``path``: optionally with ``files``, then filled up or made read-only."""
    path.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(path)], capture_output=True, text=True
    )
    if got.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({got.stderr.strip() or 'not root'}): the full-disk and read-only cases need it"
        )
    try:
        for name, data in (files or {}).items():
            (path / name).write_bytes(data)
        if fill:
            with contextlib.suppress(OSError), open(path / ".filler", "wb", buffering=0) as f:
                while True:
                    f.write(b"\0" * 512)
        if readonly:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
