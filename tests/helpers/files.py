"""What the tests look for in a folder after a write: part files left behind."""

from __future__ import annotations

from pathlib import Path


def part_files(directory: Path) -> list[str]:
    """The names of the part files (unfinished atomic writes) in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))
