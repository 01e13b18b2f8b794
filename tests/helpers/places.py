"""Saved places as the fault tests reach them: one seam, so a new store (the journal) changes only this file."""

from __future__ import annotations

from pathlib import Path

from voicecoach.store.progress import ProgressStore, Saved


def store_in(data_dir: Path) -> ProgressStore:
    """The progress store a session with ``VOICECOACH_DATA_DIR=data_dir`` uses."""
    return ProgressStore(Path(data_dir) / "progress.json")


def saved_place(data_dir: Path, key: str) -> Saved | None:
    """The place saved for plan ``key`` (a built-in name, or a plan file's absolute path)."""
    return store_in(data_dir).load(key)
