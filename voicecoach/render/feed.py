"""The music of a live session, decoded ahead on its own clock by background threads.

A live session's music does not follow the session's time: a pause stops it,
a skip does not make it jump. Its frames are those of the levelled, looped
playlist (:meth:`voicecoach.render.bed.Bed.raw_blocks`), in order, and a
:class:`MusicFeed` decodes them in a thread into a bounded buffer, from
:data:`AHEAD_S` ahead of the furthest frame read down to :data:`HISTORY_S`
behind it: a stream that is stopped has read further than was heard, and the
next one goes on from what was heard. One ffmpeg process per track, opened
once; a second thread measures the tracks' loudness in play order, so a long
file is measured while the one before it plays.

:meth:`MusicFeed.read` is called by the thread that mixes the stream (never by
the audio callback); it waits at most ``timeout_s`` for frames not decoded yet.
A file that fails turns the feed off for good with one line
(:attr:`MusicFeed.error`) when the music reaches it (what was decoded before
still plays), and frames that are late turn it off at once: the music stops,
the coaching goes on.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence

import numpy as np

from voicecoach.core.duck import DuckPlan, Envelope
from voicecoach.errors import MusicError
from voicecoach.render import music
from voicecoach.render.bed import Bed
from voicecoach.speech.clip import MIX_RATE_HZ

AHEAD_S = 5.0  # decoded ahead of the furthest frame read (a stream reads about a second ahead of what is heard)
HISTORY_S = 8.0  # kept behind it: where a stopped stream's successor goes on
CHUNK_FRAMES = 8192
LATE_S = 0.25  # frames still missing after this wait: the music is late, and turns itself off
_NO_PLAN = DuckPlan(Envelope((), ()), Envelope((), ()))
_FOREVER = 1 << 62


class MusicFeed:
    """The playlist's frames from 0 on, decoded ahead in a thread (see the module's docstring)."""

    def __init__(
        self,
        tracks: Sequence[music.Track],
        level_lufs: float,
        *,
        lufs: Callable[[music.Track], float] | None = None,
        ahead_s: float = AHEAD_S,
        history_s: float = HISTORY_S,
        chunk_frames: int = CHUNK_FRAMES,
    ) -> None:
        self.tracks = tuple(tracks)
        self.error: str | None = None  # "Music is off: <file>: <why>." once the feed has stopped
        self._measure = lufs or (lambda track: music.measure_lufs(track.path))
        self._measured: dict[int, float | BaseException] = {}
        self._bed = Bed(self.tracks, _NO_PLAN, level_lufs, lufs=self._lufs)
        self._ahead = int(ahead_s * MIX_RATE_HZ)
        self._history = int(history_s * MIX_RATE_HZ)
        self._chunk = chunk_frames
        self._cv = threading.Condition()
        self._chunks: deque[tuple[int, np.ndarray]] = deque()  # (first frame, frames), in order
        self._first = 0  # first frame still held
        self._end = 0  # frames decoded so far
        self._want = 0  # the furthest frame read
        self._closed = False
        self._failed: str | None = None  # the decoder stopped on a broken file: why
        self._threads = [
            threading.Thread(target=self._measure_all, name="voicecoach-music-level", daemon=True),
            threading.Thread(target=self._decode, name="voicecoach-music", daemon=True),
        ]

    def start(self) -> MusicFeed:
        for thread in self._threads:
            thread.start()
        return self

    # -- the threads ----------------------------------------------------------------
    def _measure_all(self) -> None:
        for index, track in enumerate(self.tracks):
            if self._closed:
                return
            try:
                result: float | BaseException = self._measure(track)
            except BaseException as exc:  # handed to the decoder, which stops the music with it
                result = exc
            with self._cv:
                self._measured[index] = result
                self._cv.notify_all()

    def _lufs(self, track: music.Track) -> float:
        index = self.tracks.index(track)
        with self._cv:
            self._cv.wait_for(lambda: index in self._measured or self._closed)
            result = self._measured.get(index, float("-inf"))
        if isinstance(result, BaseException):
            raise result
        return result

    def _decode(self) -> None:
        blocks = self._bed.raw_blocks(0, _FOREVER, self._chunk)
        try:
            for block in blocks:
                with self._cv:
                    self._cv.wait_for(lambda: self._closed or self._end - self._want < self._ahead)
                    if self._closed:
                        return
                    self._chunks.append((self._end, block))
                    self._end += block.shape[0]
                    keep_from = self._want - self._history
                    while self._chunks and self._chunks[0][0] + self._chunks[0][1].shape[0] <= keep_from:
                        self._chunks.popleft()
                    self._first = self._chunks[0][0] if self._chunks else self._end
                    self._cv.notify_all()
        except MusicError as exc:
            self._broke(f"{exc.path}: {exc.why}" if exc.path is not None else exc.message.rstrip("."))
        except Exception as exc:  # an OSError of the pipe, or a bug: the coaching must go on
            self._broke(f"{self._where()}: {exc}")
        finally:
            blocks.close()  # ends the ffmpeg processes

    def _broke(self, why: str) -> None:
        """What was decoded still plays; the music stops where it ends (with ``why``)."""
        with self._cv:
            self._failed = why
            self._cv.notify_all()

    def _where(self) -> str:
        current = self._bed.current or self.tracks[0]
        return str(current.path)

    def _stop(self, why: str) -> None:
        with self._cv:
            if self.error is None and not self._closed:
                self.error = f"Music is off: {why.rstrip('.')}."
            self._closed = True
            self._chunks.clear()
            self._cv.notify_all()

    # -- the mixing thread's side ---------------------------------------------------------
    def ready(self, frames: int = 1) -> bool:
        """The first ``frames`` frames are decoded (the music can begin)."""
        with self._cv:
            return self.error is None and self._end >= frames

    def wait_ready(self, timeout_s: float, frames: int = 1) -> bool:
        """Wait at most ``timeout_s`` for the first ``frames`` frames (the live start waits no longer)."""
        with self._cv:
            self._cv.wait_for(lambda: self._closed or self._end >= frames, timeout_s)
            return self.error is None and self._end >= frames

    def read(self, lo: int, hi: int, timeout_s: float = LATE_S) -> np.ndarray | None:
        """Frames ``[lo, hi)`` (``lo >= 0``), a new (frames, 2) array; None once the music is off.

        Frames not decoded within ``timeout_s`` turn it off (it is late: the stream
        must not wait for it), as do frames no longer held (a bug, never expected).
        """
        with self._cv:
            if self._closed:
                return None
            if hi > self._want:
                self._want = hi
                self._cv.notify_all()
            if not self._cv.wait_for(lambda: self._closed or self._failed or self._end >= hi, timeout_s):
                late = f"{self._where()}: it could not be decoded in time"
            elif self._closed:
                return None
            elif lo < self._first:
                late = f"{self._where()}: it is no longer where the session left it"
            elif self._end >= hi:
                return self._copy(lo, hi)
            else:  # the file broke: its last frames, then silence, and the music is off
                last = self._copy(lo, max(lo, self._end))
                out = np.zeros((hi - lo, music.CHANNELS), dtype=np.float32)
                out[: last.shape[0]] = last
                self._stop(self._failed or "the music stopped")
                return out
        self._stop(late)
        return None

    def _copy(self, lo: int, hi: int) -> np.ndarray:
        out = np.empty((hi - lo, music.CHANNELS), dtype=np.float32)
        for first, block in self._chunks:
            a, b = max(lo, first), min(hi, first + block.shape[0])
            if a < b:
                out[a - lo : b - lo] = block[a - first : b - first]
            if first >= hi:
                break
        return out

    def off(self, why: str) -> None:
        """Turn the music off with ``why`` (``<file>: <what>``)."""
        self._stop(why)

    def close(self) -> None:
        """Stop the threads (their ffmpeg processes end); the feed gives nothing after."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(timeout=2.0)
