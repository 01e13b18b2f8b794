"""Where the last session of each plan stopped, so ``play --resume`` can continue there."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from voicecoach.atomic import remove_stale_parts, write_atomic
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


def _valid(entry: object) -> Saved | None:
    """A saved place from one JSON entry, or None if anything in it has the wrong type (a damaged file)."""
    if not isinstance(entry, dict) or set(entry) - set(Saved.__dataclass_fields__):
        return None
    index, name = entry.get("exercise_index"), entry.get("exercise")
    set_, side, at = entry.get("set"), entry.get("side"), entry.get("saved_at", 0.0)
    if not (type(index) is int and isinstance(name, str) and (set_ is None or type(set_) is int)
            and (side is None or isinstance(side, str)) and type(at) in (int, float)):
        return None
    try:
        return Saved(index, name, set_, side, float(at))
    except OverflowError:  # a 400-digit time stamp
        return None


class ProgressStore:
    """A small JSON file of plan key -> :class:`Saved`, written atomically.

    A save is a read-modify-write of the whole file, so two sessions saving
    at once (two terminals, two plans) would lose one's place: each save
    holds an exclusive lock (``flock`` on the data folder) for it.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._swept = False

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError, RecursionError):
            return {}  # missing, damaged or absurdly nested: no saved progress, never an error

    def _write(self, data: dict[str, object]) -> None:
        if not self._swept:  # part files of sessions that were killed outright (kill -9, a power cut)
            remove_stale_parts(self.path)
            self._swept = True
        write_atomic(self.path, json.dumps(data, indent=1))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's lock (raises OSError when the data folder cannot be made)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: no flock; saves are rare enough to go unlocked
            yield
            return
        fd = os.open(self.path.parent, os.O_RDONLY)  # the folder itself: no lock file to leave behind
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def load(self, key: str) -> Saved | None:
        return _valid(self._read().get(key))

    def save(self, key: str, saved: Saved) -> None:
        with self._locked():
            data = self._read()
            data[key] = asdict(replace(saved, saved_at=time.time()))
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
        with self._locked():
            data = self._read()
            if data.pop(key, None) is not None:
                self._write(data)
