"""Saved places as the fault tests reach them: one seam, so a change of store changes only this file.

The places live in the training journal (``journal.sqlite3`` in the data folder); an old
``progress.json`` beside it is imported once when the journal is opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from voicecoach.store.places import PlaceStore, Saved
from voicecoach.store.training import open_journal


def journal_path(data_dir: Path) -> Path:
    """The journal a session with ``VOICECOACH_DATA_DIR=data_dir`` uses."""
    return Path(data_dir) / "journal.sqlite3"


@contextmanager
def store_in(data_dir: Path) -> Iterator[PlaceStore]:
    """The progress store of ``data_dir``'s journal, opened as a session opens it (importing an
    old progress.json there). Raises JournalUnavailable when it cannot be opened."""
    with open_journal(journal_path(data_dir)) as journal:
        yield PlaceStore(journal)


@contextmanager
def store_for_play(data_dir: Path) -> Iterator[tuple[PlaceStore, list]]:
    """The store and the notes ``voicecoach play`` starts a session with, by play's own code:
    without a journal (it could not be opened), PlaceStore(None) and the one note saying so."""
    from voicecoach.live.launch import open_journal_for_play

    old = os.environ.get("VOICECOACH_DATA_DIR")
    os.environ["VOICECOACH_DATA_DIR"] = str(data_dir)
    try:
        journal, notes = open_journal_for_play()
    finally:
        if old is None:
            del os.environ["VOICECOACH_DATA_DIR"]
        else:
            os.environ["VOICECOACH_DATA_DIR"] = old
    try:
        yield PlaceStore(journal), notes
    finally:
        if journal is not None:
            journal.close()


def saved_place(data_dir: Path, key: str) -> Saved | None:
    """The place saved for plan ``key`` (a built-in name, or a plan file's absolute path)."""
    if not journal_path(data_dir).exists() and not (Path(data_dir) / "progress.json").exists():
        return None  # nothing was ever saved: do not make a journal to find that out
    with store_in(data_dir) as store:
        return store.load(key)
