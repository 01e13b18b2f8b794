"""``export --split``: a folder with a file per exercise, sliced from one render, joined without a gap.

``-o walk.mp3 --split`` writes ``walk/``: ``01 Introduction.mp3``, then one
file per exercise, then ``NN Finish.mp3``, and ``walk.m3u8``, so "next
track" in any player means "next exercise". The files are the chapters of
the single export, each begun at its first cue (a chapter starts where the
speech before it ends, a moment earlier): a file begins at its exercise's
first cue; a rest, and the pause before that cue, belong to the file before it.

The session is mixed once, as for one file (the same gain, the same music,
the same samples), and the stream of blocks is cut at the split points,
each piece piped into an ffmpeg of its own; :mod:`voicecoach.export.gapless`
says what each format writes so the pieces join without a gap.

The folder is built under a part name beside ``walk/`` and put in its
place only when every file is complete (:func:`voicecoach.atomic.commit_part_dir`);
a failure or Ctrl-C removes it and leaves an earlier ``walk/`` as it was.
An existing ``walk/`` is replaced only if an earlier ``--split`` wrote it
(its playlist lists its files); any other folder is refused, never emptied.
"""

from __future__ import annotations

import bisect
import math
import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from voicecoach import atomic
from voicecoach.core.sheet import one_line
from voicecoach.core.timeline import Chapter, Timeline
from voicecoach.errors import OutputError, VoicecoachError
from voicecoach.export import captions as _captions
from voicecoach.export import gapless
from voicecoach.export.encode import (
    EXPORT_BLOCK_FRAMES,
    ExportResult,
    _Progress,
    base_tags,
    finish_file,
    format_for,
    pipe_to_ffmpeg,
)
from voicecoach.export.ffmpeg import find_ffmpeg
from voicecoach.export.metadata import clean_chapters, ffmetadata
from voicecoach.outputs import cannot_write, check_output
from voicecoach.render import mix
from voicecoach.speech.clip import MIX_RATE_HZ, Clip

_SIDECARS = (*_captions.FORMATS, "txt")
_TITLE_BYTES = 120  # room for the number, the longest extension and a part suffix within NAME_MAX
# Not in a file name anywhere: Windows' reserved characters, the path separators, control characters.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


@dataclass(frozen=True)
class Piece:
    """One file of a split export: frames ``[start, end)`` of the session."""

    number: int
    title: str
    start: int
    end: int
    name: str  # the file name, e.g. "02 Clamshells.mp3"

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / MIX_RATE_HZ


def folder_for(path: str | os.PathLike[str]) -> Path:
    """The folder ``--split`` writes for ``-o path``: ``walk/`` for ``walk.mp3``."""
    return Path(path).with_suffix("")


def safe_title(title: str) -> str:
    """``title`` as a file name on any system: no separators or reserved characters, at most 120 bytes."""
    text = " ".join(_UNSAFE.sub("_", unicodedata.normalize("NFC", title)).split())
    while len(text.encode("utf-8")) > _TITLE_BYTES:
        text = text[:-1]
    return text.rstrip(". ") or "Part"  # Windows drops trailing dots and spaces


def pieces(timeline: Timeline, ext: str) -> list[Piece]:
    """The files of ``timeline`` split by chapter, numbered from 1, with their names (extension ``ext``)."""
    total = mix.total_frames(timeline)
    grid = gapless.SPLIT_GRID.get(ext, 1)
    cues = sorted(int(round(c.start_s * MIX_RATE_HZ)) for c in timeline.cues)
    marks: list[tuple[int, str]] = []
    for ch in clean_chapters(timeline) or [Chapter(0.0, timeline.duration_s, timeline.title)]:
        # A chapter starts where the speech before it ends; its file, at its first cue (if it has one).
        first = bisect.bisect_left(cues, int(round(ch.start_s * MIX_RATE_HZ)))
        at = round(ch.start_s * MIX_RATE_HZ)
        if first < len(cues) and cues[first] < round(ch.end_s * MIX_RATE_HZ):
            at = cues[first]
        frame = 0 if not marks else at // grid * grid
        if marks and frame <= marks[-1][0]:  # the chapter before is empty: this one takes its place
            marks[-1] = (marks[-1][0], ch.title)
            continue
        marks.append((frame, ch.title))
    spans = [(a, z, t) for (a, t), (z, _) in zip(marks, [*marks[1:], (total, "")]) if z > a]
    width = max(2, len(str(len(spans))))
    return [
        Piece(n, title, a, z, f"{n:0{width}d} {safe_title(title)}{ext}") for n, (a, z, title) in enumerate(spans, 1)
    ]


def piece_timeline(timeline: Timeline, piece: Piece) -> Timeline:
    """The cues of ``piece``, timed from its own start (for its captions and transcript)."""
    at = piece.start / MIX_RATE_HZ
    dur = piece.duration_s
    cues = tuple(
        replace(c, start_s=max(0.0, c.start_s - at), end_s=min(c.end_s - at, dur))
        for c in timeline.cues
        if piece.start <= round(c.start_s * MIX_RATE_HZ) < piece.end
    )
    return Timeline(piece.title, dur, cues, (), (Chapter(0.0, dur, piece.title),))


def playlist(album: str, parts: Sequence[Piece]) -> str:
    """The ``.m3u8``: the files in order, by relative name, with their length (whole seconds) and title."""
    lines = ["#EXTM3U", f"#PLAYLIST:{one_line(album)}"]
    for p in parts:
        lines += [f"#EXTINF:{max(1, round(p.duration_s))},{one_line(p.title)}", p.name]
    return "\n".join(lines) + "\n"


def check_folder(folder: Path, inputs: Sequence[str | os.PathLike[str]] = ()) -> None:
    """Refuse, before any work, a folder ``--split`` may not write or replace (raises OutputError)."""
    where = f"{folder}{os.sep}"
    if os.path.islink(folder) or (os.path.lexists(folder) and not os.path.isdir(folder)):
        raise OutputError(f"cannot write {where}: a file of that name is in the way (--split writes a folder).")
    check_output(folder, folder=True)  # its name's length; its parent exists, is a folder, is writable
    for source in inputs:
        if Path(source).resolve().parent == folder.resolve():
            raise OutputError(f"cannot write {where}: it holds the plan file this export reads.")
    if os.path.isdir(folder):
        foreign = _foreign(folder)
        if foreign:
            raise OutputError(
                f"cannot write {where}: it is a folder an earlier --split did not write (it holds {foreign})."
            )


def _foreign(folder: Path) -> str | None:
    """An entry of ``folder`` that is not a file of an earlier split (its playlist, the files it lists, their sidecars)."""
    try:
        entries = sorted(os.listdir(folder))
    except OSError as exc:
        raise cannot_write(f"{folder}{os.sep}", exc) from None
    try:
        listed = (folder / f"{folder.name}.m3u8").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError):  # no playlist (or not ours): every entry is foreign
        listed = []
    names = {n for n in listed if n and not n.startswith("#") and os.sep not in n}
    mine = {f"{folder.name}.m3u8", *names, *(f"{Path(n).stem}.{ext}" for n in names for ext in _SIDECARS)}
    for entry in entries:
        if entry not in mine or not (folder / entry).is_file() or (folder / entry).is_symlink():
            return entry
    return None


class _Slicer:
    """Hands out the session's blocks a given number of frames at a time, cutting a block where needed."""

    def __init__(self, blocks: Iterable[np.ndarray]) -> None:
        self._blocks = iter(blocks)
        self._left: np.ndarray | None = None

    def take(self, frames: int) -> Iterator[np.ndarray]:
        while frames > 0:
            block = self._left if self._left is not None else next(self._blocks)
            self._left = None
            if block.shape[0] > frames:
                block, self._left = block[:frames], block[frames:]
            frames -= block.shape[0]
            yield block


def _at(report: _Progress, start: int, total: int) -> Callable[[int], None]:
    """The progress callback of the piece that starts at frame ``start``."""
    return lambda done: report.update((start + done) / total)


def export_split(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    path: str | os.PathLike[str],
    *,
    earcons: bool = True,
    tags: Mapping[str, str] | None = None,
    progress: Callable[[float], None] | None = None,
    captions: Sequence[str] = (),
    transcript: bool = False,
    gain: float = 1.0,
    inputs: Sequence[str | os.PathLike[str]] = (),
    bed: mix.BedLike | None = None,
) -> ExportResult:
    """Render ``timeline`` once and write it as a folder of files, one per chapter, plus a playlist.

    The arguments are those of :func:`voicecoach.export.encode.export`; ``path`` names the
    format and the folder (``walk.mp3`` -> ``walk/``). Each file is tagged with its title,
    its track number (n/N) and the session's album and other ``tags``; ``captions`` and
    ``transcript`` are written per file, timed from its start. The result's ``path`` is the
    folder and its ``sidecars`` the playlist and the captions.
    """
    path = Path(path)
    fmt, ext, folder = format_for(path), path.suffix.lower(), folder_for(path)
    formats = list(dict.fromkeys(f.lower().lstrip(".") for f in captions))
    for f in formats:
        if f not in _captions.FORMATS:
            raise VoicecoachError(f"Unknown caption format '{f}'.", hint="Supported: " + ", ".join(_captions.FORMATS))
    check_folder(folder, inputs)
    parts = pieces(timeline, ext)
    ffmpeg = find_ffmpeg()
    atomic.remove_stale_part_dirs(folder)  # leftovers of earlier exports that were killed outright
    base = base_tags(timeline, path, tags)
    album = base.setdefault("album", timeline.title)
    report = _Progress(progress)
    total = max(1, mix.total_frames(timeline))
    stream = _Slicer(mix.blocks(timeline, clips, earcons=earcons, gain=gain, block_frames=EXPORT_BLOCK_FRAMES, bed=bed))
    written: list[Path] = []
    try:
        build = atomic.create_part_dir(folder)
    except OSError as exc:
        raise cannot_write(f"{folder}{os.sep}", exc) from None
    try:
        for piece in parts:
            file = build / piece.name
            tag_map = {**base, "title": piece.title, "track": f"{piece.number}/{len(parts)}"}
            pipe_to_ffmpeg(
                ffmpeg,
                (*fmt.codec_args, *gapless.SPLIT_ARGS.get(ext, ())),
                fmt.muxer,
                file,
                ffmetadata(tag_map, []),
                1 if bed is None else 2,
                stream.take(piece.end - piece.start),
                _at(report, piece.start, total),
            )
            try:
                if fmt.muxer == "mp3":
                    gapless.fix_mp3_padding(file, piece.end - piece.start)
                elif fmt.muxer == "ipod":
                    gapless.mark_mp4(file, piece.end - piece.start)
            except ValueError as exc:  # an ffmpeg that wrote no LAME tag, or no sample-exact edit list
                raise OutputError(f"cannot write {folder / piece.name} without a gap: {exc}.") from None
            finish_file(fmt, file, folder / piece.name, tag_map, [], album)
            own = piece_timeline(timeline, piece)
            texts = [(f, _captions.render(f, own)) for f in formats]
            texts += [("txt", _captions.to_transcript(own))] if transcript else []
            for f, text in texts:
                (build / f"{Path(piece.name).stem}.{f}").write_text(text, encoding="utf-8")
                written.append(folder / f"{Path(piece.name).stem}.{f}")
        (build / f"{folder.name}.m3u8").write_text(playlist(album, parts), encoding="utf-8")
        atomic.commit_part_dir(build, folder)
    except OutputError as exc:  # ffmpeg's failure names the file in the part folder: name it where it was going
        shutil.rmtree(build, ignore_errors=True)
        raise OutputError(exc.message.replace(str(build), str(folder)), hint=exc.hint) from None
    except OSError as exc:
        shutil.rmtree(build, ignore_errors=True)
        raise cannot_write(f"{folder}{os.sep}", exc) from exc
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    report.update(1.0, force=True)
    return ExportResult(
        path=folder,
        duration_s=mix.total_frames(timeline) / MIX_RATE_HZ,
        sidecars=(folder / f"{folder.name}.m3u8", *written),
        files=tuple(folder / p.name for p in parts),
        gain_db=20.0 * math.log10(gain) if gain > 0 else float("-inf"),
    )
