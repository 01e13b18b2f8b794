"""Where the last session of each plan stopped, so ``play --resume`` can continue there."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from voicecoach.atomic import write_atomic
from voicecoach.core import phrases


@dataclass(frozen=True)
class Saved:
    exercise_index: int
    exercise: str
    set: int | None = None
    side: str | None = None
    saved_at: float = 0.0


def default_path() -> Path:
    env = os.environ.get("VOICECOACH_DATA_DIR")
    if env:
        return Path(env) / "progress.json"
    import platformdirs

    return Path(platformdirs.user_data_dir("voicecoach")) / "progress.json"


def plan_key(spec: str) -> str:
    """A stable key for a PLAN argument: the built-in name, or the file's absolute path."""
    path = Path(spec)
    return str(path.resolve()) if path.is_file() else spec


class ProgressStore:
    """A small JSON file of plan key -> :class:`Saved`, written atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}  # missing or damaged: no saved progress, never an error

    def _write(self, data: dict[str, dict]) -> None:
        write_atomic(self.path, json.dumps(data, indent=1))

    def load(self, key: str) -> Saved | None:
        entry = self._read().get(key)
        try:
            return Saved(**entry) if entry else None
        except TypeError:
            return None

    def save(self, key: str, saved: Saved) -> None:
        data = self._read()
        data[key] = asdict(Saved(**{**asdict(saved), "saved_at": time.time()}))
        self._write(data)

    def resume(self, key: str, plan) -> tuple[int, str] | None:
        """Where to resume ``plan``: (exercise index, what to say), if a saved place still fits it."""
        saved = self.load(key)
        n = len(plan.exercises)
        if saved is None or not 0 <= saved.exercise_index < n \
                or plan.exercises[saved.exercise_index].name != saved.exercise:
            return None  # nothing saved, or the plan file changed since
        i = saved.exercise_index
        return i, phrases.resume_intro(plan, i, saved.exercise)

    def clear(self, key: str) -> None:
        data = self._read()
        if data.pop(key, None) is not None:
            self._write(data)
