"""Export a session to an audio file (plus optional caption sidecars).

Two streaming passes over the mixer, so memory stays flat however long the
session is: pass 1 measures loudness and picks one static gain, pass 2
pipes raw s16le PCM with that gain into ffmpeg's stdin.  Chapters and tags
go to ffmpeg as an ffmetadata file (second input); where ffmpeg cannot
write them right (Ogg and FLAC chapters, an ID3 comment frame, MP3
chapters on an ffmpeg without CHAP support) mutagen fixes the file up
before it is moved into place.

The target is replaced atomically: ffmpeg writes ``.NAME.<pid>.XXXX.part`` in
the same directory, which is fsynced and then ``os.replace``d onto the
target only if everything succeeded.  Any failure, including Ctrl-C,
removes the part file and leaves an earlier file of the same name as it was.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach import atomic
from voicecoach.core.timeline import Chapter, Timeline
from voicecoach.errors import OutputError, VoicecoachError
from voicecoach.export import captions as _captions
from voicecoach.export.cover import cover_png
from voicecoach.export.ffmpeg import ffmpeg_command, find_ffmpeg, raise_ffmpeg_failed
from voicecoach.export.metadata import add_cover, clean_chapters, ffmetadata, fix_metadata
from voicecoach.outputs import cannot_write, check_output
from voicecoach.render import mix
from voicecoach.speech.clip import MIX_RATE_HZ, Clip, pcm16_bytes

# Big blocks for export: fewer Python iterations and pipe writes
# (there is no latency to care about here, unlike live playback).
EXPORT_BLOCK_FRAMES = 1 << 16


@dataclass(frozen=True)
class Format:
    """How ffmpeg writes one file type, and who writes its chapters."""

    muxer: str
    codec_args: tuple[str, ...]
    chapters: str  # "ffmpeg", "id3" (ffmpeg, checked/fixed by mutagen), "vorbis" (mutagen), "none"


#: Supported output file types, by lower-case extension.
FORMATS: dict[str, Format] = {
    # CBR rather than VBR: players seek to a chapter by byte offset, which
    # is exact for CBR and only approximate through a VBR Xing TOC.
    ".mp3": Format("mp3", ("-c:a", "libmp3lame", "-b:a", "96k", "-id3v2_version", "3"), "id3"),
    # Chapters of Ogg and FLAC are vorbis comments written by mutagen:
    # ffmpeg 5.1 writes none for Vorbis/FLAC and wrong times for Opus.
    ".ogg": Format("ogg", ("-c:a", "libvorbis", "-q:a", "4"), "vorbis"),
    # libopus cannot encode 44.1 kHz; 48 kHz is Opus's native rate.
    ".opus": Format("opus", ("-c:a", "libopus", "-b:a", "64k", "-ar", "48000"), "vorbis"),
    # faststart puts the index first so players can start before the end arrives.
    ".m4a": Format("ipod", ("-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart"), "ffmpeg"),
    # An audiobook: brand "M4B " (ffmpeg would write "M4A ": it cannot see the extension of
    # the part file) and the iTunes media kind "Audiobook" (stik = 2, from the media_type tag).
    ".m4b": Format("ipod", ("-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", "-brand", "M4B "), "ffmpeg"),
    ".wav": Format("wav", ("-c:a", "pcm_s16le"), "none"),
    ".flac": Format("flac", ("-c:a", "flac"), "vorbis"),
}

GENRE = "Fitness"  # every export is an exercise session


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` wrote."""

    path: Path
    duration_s: float
    sidecars: tuple[Path, ...]
    gain_db: float  # static gain applied to the whole mix
    files: tuple[Path, ...] = ()  # with --split (:mod:`voicecoach.export.split`): the audio files in the folder


def format_for(path: str | os.PathLike[str]) -> Format:
    """The :class:`Format` for ``path``'s extension, or a VoicecoachError."""
    ext = Path(path).suffix.lower()
    try:
        return FORMATS[ext]
    except KeyError:
        what = f"'{ext}'" if ext else "no extension"
        raise VoicecoachError(
            f"Cannot export to {Path(path).name}: unsupported file type ({what}).",
            hint="Supported: " + ", ".join(FORMATS),
        ) from None


def sidecar_path(path: str | os.PathLike[str], ext: str) -> Path:
    """``session.vtt`` for ``session.mp3`` and ``ext="vtt"``."""
    return Path(path).with_suffix("." + ext.lstrip("."))


def export(
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
    """Render ``timeline`` with ``clips`` and encode it to ``path``.

    The format comes from the extension (see :data:`FORMATS`).  ``tags``
    (e.g. ``title``, ``album``, ``comment``, ``artist``) become the file's
    metadata; ``title`` defaults to the timeline's title, ``genre`` to
    Fitness, ``date`` to today and ``track`` to 1, and every format but WAV
    gets a cover picture (:mod:`voicecoach.export.cover`).  The timeline's
    chapters become the file's chapters (not possible in WAV).

    ``gain`` is applied to the whole mix, through the true-peak limiter the
    mixer applies: the caller measures it (:func:`voicecoach.render.prepare.session_gain`;
    the live player applies the same gain, so a session sounds the same live
    and exported).  ``progress`` is called with a fraction in [0, 1] as work advances.  ``captions`` names sidecar formats ("vtt",
    "srt", "lrc") written next to the audio with the same stem, and
    ``transcript`` adds a ``.txt`` cue sheet. No output may be one of
    ``inputs`` (the plan file). With a ``bed`` (music, :class:`voicecoach.render.bed.Bed`)
    the file is stereo: the speech at the same gain, the bed under it, the limiter on the mix.

    Raises :class:`VoicecoachError` for an unsupported extension or caption
    format, :class:`OutputError` if the file cannot be written (checked
    before any work) or ffmpeg fails, and :class:`MissingDependencyError`
    without ffmpeg.  On any failure no partial file is left and an existing
    file at ``path`` is untouched.
    """
    path = Path(path)
    fmt = format_for(path)
    sidecar_texts = _sidecar_texts(timeline, path, captions, transcript)
    for target in (path, *(side for side, _ in sidecar_texts)):
        check_output(target)  # every output, before any work: a sidecar failing later would be too late
        _check_not_an_input(target, inputs)
    for target in (path, *(side for side, _ in sidecar_texts)):
        atomic.remove_stale_parts(target)  # leftovers of earlier exports that were killed outright
    ffmpeg = find_ffmpeg()
    report = _Progress(progress)
    tag_map = base_tags(timeline, path, tags)
    chapters = clean_chapters(timeline)

    def encode(part: Path) -> None:
        _encode(
            ffmpeg,
            fmt,
            part,
            timeline,
            clips,
            earcons,
            gain,
            tag_map,
            chapters,
            report.update,
            bed,
        )
        finish_file(fmt, part, path, tag_map, chapters, tag_map.get("album") or timeline.title)

    # Every file is written in full before any is moved into place: a sidecar that fails
    # (a full disk) leaves the earlier audio file untouched too.
    writes: list[tuple[Path, Callable[[Path], None]]] = [(path, encode)]
    for side, text in sidecar_texts:

        def write_text(part: Path, text: str = text) -> None:
            part.write_text(text, encoding="utf-8")

        writes.append((side, write_text))
    _atomic_write_all(writes)
    written = [side for side, _ in sidecar_texts]
    report.update(1.0, force=True)

    return ExportResult(
        path=path,
        duration_s=mix.total_frames(timeline) / MIX_RATE_HZ,
        sidecars=tuple(written),
        gain_db=20.0 * math.log10(gain) if gain > 0 else float("-inf"),
    )


def base_tags(timeline: Timeline, path: Path, tags: Mapping[str, str] | None) -> dict[str, str]:
    """The tags of an export to ``path``: title, genre, date, track 1 (media kind for .m4b), then ``tags``."""
    return {
        "title": timeline.title,
        "genre": GENRE,
        "date": datetime.date.today().isoformat(),
        "track": "1",
        **({"media_type": "2"} if path.suffix.lower() == ".m4b" else {}),
        **(tags or {}),
    }


def finish_file(
    fmt: Format, part: Path, target: Path, tag_map: Mapping[str, str], chapters: Sequence[Chapter], cover: str
) -> None:
    """What ffmpeg does not write right (ID3 comment, Vorbis chapters), and the cover picture of ``cover``."""
    from mutagen import MutagenError

    try:
        fix_metadata(fmt.chapters, fmt.muxer, part, tag_map, chapters)
        add_cover(fmt.muxer, part, cover_png(cover))
    except MutagenError as exc:  # ffmpeg said nothing, yet the file is not what it wrote (a failing disk)
        raise OutputError(f"cannot write {target}: the encoded file is damaged ({exc}).") from None


# --- checks done before any work --------------------------------------------


def _sidecar_texts(timeline: Timeline, path: Path, formats: Sequence[str], transcript: bool) -> list[tuple[Path, str]]:
    out = []
    for fmt in dict.fromkeys(f.lower().lstrip(".") for f in formats):
        if fmt not in _captions.FORMATS:
            raise VoicecoachError(f"Unknown caption format '{fmt}'.", hint="Supported: " + ", ".join(_captions.FORMATS))
        out.append((sidecar_path(path, fmt), _captions.render(fmt, timeline)))
    if transcript:
        out.append((sidecar_path(path, "txt"), _captions.to_transcript(timeline)))
    for side, _ in out:
        if side == path:
            raise VoicecoachError(f"A sidecar would overwrite the audio file {path}.")
    return out


def _check_not_an_input(target: Path, inputs: Sequence[str | os.PathLike[str]]) -> None:
    """An export must never replace what it reads (``-o`` or a sidecar landing on the plan file)."""
    for source in inputs:
        try:
            same = os.path.samefile(target, source)
        except OSError:  # one of them does not exist (yet): they cannot be the same file
            same = False
        if same:
            raise OutputError(
                f"cannot write {target}: it is the plan file this export reads.", hint="Choose another output name."
            )


# --- the encode --------------------------------------------------------------


def _frames_done(blocks: Iterable[np.ndarray], sink: Callable[[np.ndarray], object]) -> Iterator[int]:
    """Pass each block to ``sink`` and yield the frame count so far."""
    done = 0
    for block in blocks:
        sink(block)
        done += block.shape[0]
        yield done


def _encode(
    ffmpeg: str,
    fmt: Format,
    part: Path,
    timeline: Timeline,
    clips: Mapping[str, Clip],
    earcons: bool,
    gain: float,
    tag_map: Mapping[str, str],
    chapters: list[Chapter],
    progress: Callable[[float], None],
    bed: mix.BedLike | None = None,
) -> None:
    total = max(1, mix.total_frames(timeline))
    blocks = mix.blocks(timeline, clips, earcons=earcons, gain=gain, block_frames=EXPORT_BLOCK_FRAMES, bed=bed)
    pipe_to_ffmpeg(
        ffmpeg,
        fmt.codec_args,
        fmt.muxer,
        part,
        ffmetadata(tag_map, chapters),
        1 if bed is None else 2,
        blocks,
        lambda done: progress(done / total),
    )


def pipe_to_ffmpeg(
    ffmpeg: str,
    codec_args: Sequence[str],
    muxer: str,
    part: Path,
    meta_text: str,
    channels: int,
    blocks: Iterable[np.ndarray],
    on_frames: Callable[[int], None],
) -> None:
    """Encode ``blocks`` (float32, ``channels`` wide) into ``part`` with ffmpeg, ``meta_text`` its ffmetadata.

    ``on_frames`` gets the count of frames written so far after each block. Raises
    :class:`OutputError` in our words when ffmpeg fails; ffmpeg is killed on any exception.
    """
    meta = tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".ffmeta", delete=False)
    err = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stall ffmpeg
    proc: subprocess.Popen[bytes] | None = None
    try:
        with meta:
            meta.write(meta_text)
        cmd = ffmpeg_command(ffmpeg, codec_args, muxer, meta.name, str(part), channels)
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        assert proc.stdin is not None
        try:
            for done in _frames_done(blocks, lambda block: proc.stdin.write(pcm16_bytes(block))):  # type: ignore[union-attr]
                on_frames(done)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg exited early; its exit status and stderr say why
        rc = proc.wait()
        err.seek(0)
        # On a disk full from the start, ffmpeg 5.1 can report the write errors and still exit 0.
        if rc != 0 or b"No space left on device" in err.read():
            raise_ffmpeg_failed(part, rc, err)
    except BaseException:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    finally:
        if proc is not None and proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        err.close()
        os.unlink(meta.name)


# --- atomic replace ---------------------------------------------------------------


def _atomic_write_all(writes: Sequence[tuple[Path, Callable[[Path], None]]]) -> None:
    """Run each ``write(part)`` on a fresh part file next to its target; swap them all in only if all succeeded."""
    target = writes[0][0]
    try:
        with contextlib.ExitStack() as stack:
            for target, write in writes:
                part = stack.enter_context(atomic.atomic_path(target))
                write(part)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise _os_error(target, exc) from exc


def _os_error(target: Path, exc: OSError) -> OutputError:
    return cannot_write(target, exc)


class _Progress:
    """Calls the user's callback at most every 0.5 % (and always at the end)."""

    def __init__(self, callback: Callable[[float], None] | None) -> None:
        self._callback = callback
        self._last = -1.0

    def update(self, fraction: float, force: bool = False) -> None:
        if self._callback is None:
            return
        fraction = min(1.0, max(0.0, fraction))
        if force or fraction - self._last >= 0.005:
            self._last = fraction
            self._callback(fraction)
