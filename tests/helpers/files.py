"""Where the tests find the repository and their data files, and what they look for after a write."""

from __future__ import annotations

from pathlib import Path

#: The repository (scripts/, audio/, voicecoach/).
ROOT = Path(__file__).resolve().parents[2]
#: Malformed plan files, each with its located errors (the plan parser's tests and `voicecoach check`'s).
BAD_PLANS = ROOT / "tests" / "core" / "bad_plans"
#: Malformed config files.
BAD_CONFIGS = ROOT / "tests" / "cli" / "bad_configs"


def part_files(directory: Path) -> list[str]:
    """The names of the part files (unfinished atomic writes) in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))
