"""Where the last session of each plan stopped, so ``play --resume`` can continue there.

The places live in the training journal (its ``places`` table). An older voicecoach kept
them in ``progress.json`` beside it: :func:`migrate_progress_json` brings that file in
once, and keeps it renamed, never deleted.
"""

from __future__ import annotations

import json
import math
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

from voicecoach.core import phrases
from voicecoach.core.plan import Plan
from voicecoach.store.journal import Journal, data_dir


@dataclass(frozen=True)
class Saved:
    exercise_index: int
    exercise: str
    set: int | None = None
    side: str | None = None
    saved_at: float = 0.0


def legacy_path() -> Path:
    """Where an older voicecoach kept the saved places."""
    return data_dir() / "progress.json"


class PlaceStore:
    """The saved place of each plan, in the journal. Without a journal (it could not be opened)
    nothing is saved and there is nothing to resume. Writes raise
    :class:`voicecoach.store.journal.JournalUnavailable`."""

    def __init__(self, journal: Journal | None) -> None:
        self.journal = journal

    def load(self, key: str) -> Saved | None:
        if self.journal is None:
            return None
        row = self.journal.place(key)
        return Saved(*row) if row else None

    def save(self, key: str, saved: Saved) -> None:
        if self.journal is None:
            return
        self.journal.save_place(key, saved.exercise_index, saved.exercise, saved.set, saved.side)

    def resume(self, key: str, plan: Plan) -> tuple[int, str] | None:
        """Where to resume ``plan``: (exercise index, what to say), if a saved place still fits it."""
        saved = self.load(key)
        n = len(plan.exercises)
        if (
            saved is None
            or not 0 <= saved.exercise_index < n
            or plan.exercises[saved.exercise_index].name != saved.exercise
        ):
            return None  # nothing saved, or the plan file changed since
        i = saved.exercise_index
        return i, phrases.resume_intro(plan, i, saved.exercise)

    def clear(self, key: str) -> None:
        if self.journal is None:
            return
        self.journal.clear_place(key)


def _is_int(v: object) -> TypeGuard[int]:
    """An int SQLite can store (a 30-digit one raised OverflowError out of the import)."""
    return isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63


def _is_text(v: object) -> bool:
    """A str SQLite can store: JSON's "\\ud800" escapes give lone surrogates, which UTF-8 refuses."""
    if not isinstance(v, str):
        return False
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _valid_place(entry: object) -> bool:
    if not isinstance(entry, dict):
        return False
    index, name = entry.get("exercise_index"), entry.get("exercise")
    set_, side, saved_at = entry.get("set"), entry.get("side"), entry.get("saved_at", 0.0)
    return (
        _is_int(index)
        and index >= 0
        and _is_text(name)
        and (set_ is None or _is_int(set_))
        and (side is None or _is_text(side))
        and (_is_int(saved_at) or (isinstance(saved_at, float) and math.isfinite(saved_at)))
    )


def migrate_progress_json(journal: Journal, path: Path | None = None) -> int:
    """Import an old ``progress.json`` into the saved places once; returns how many were imported.

    Places already in the journal win. Entries with wrong types are skipped. The file is then
    renamed to ``progress.json.migrated`` (or ``.migrated.1`` ... if that exists), never deleted;
    a damaged file is renamed too, as the old store read it as empty. Never raises OSError.
    """
    path = Path(path) if path is not None else legacy_path()
    try:
        if not path.is_file():
            return 0  # missing; or a FIFO, whose read would wait forever
        raw = path.read_bytes()
    except OSError:
        return 0  # missing or unreadable: nothing to do
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # undecodable bytes, or absurdly nested
        data = {}
    entries = {k: v for k, v in data.items() if _is_text(k) and _valid_place(v)} if isinstance(data, dict) else {}
    journal.import_places(
        (key, v["exercise_index"], v["exercise"], v.get("set"), v.get("side"), float(v.get("saved_at", 0.0)))
        for key, v in entries.items()
    )
    target = path.with_name(path.name + ".migrated")
    n = 0
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.migrated.{n}")
    with suppress(OSError):  # imported anyway; INSERT OR IGNORE makes a next attempt harmless
        path.rename(target)
    return len(entries)
