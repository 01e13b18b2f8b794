"""Playback: the stream of blocks, its thread, and where the session is.

It owns the prepared session and its timeline (which change as parts of a partial session
become final, from the stream's thread too, under a lock), the thread that hands blocks to
the player, and the position. It knows nothing of controls or questions: the controller
asks it to play some words, then (or not) the session from a point, and to stop.

A session may start before all its phrases are synthesized (see
:class:`voicecoach.render.prepare.LiveStart`): its timeline is then final only up to a
horizon, the start of the next part still waiting for phrases. The stream mixes up to the
horizon, takes the part that has become final (the timeline is stitched, so nothing already
heard moves, and edits such as a longer hold carry over) and goes on without a gap. If the
voice has fallen behind, the stream ends at the horizon (:attr:`Playback.behind_at`).

A self-paced set is waited for the same way: the stream ends as the set's opening words end
(:attr:`Playback.paced_at`), and the controller waits there for "done".
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from voicecoach.core.parts import part_start, stitch
from voicecoach.core.replan import next_pace_point
from voicecoach.core.schedule import Options
from voicecoach.core.timeline import Cue, Timeline
from voicecoach.live.stream import PlayerLike, Segment, spoken
from voicecoach.render import mix
from voicecoach.render.prepare import Prepared

if TYPE_CHECKING:
    from voicecoach.live.music import LiveMusic, StreamMusic

POLL_S = 0.05  # how often the player reports its position
#: The coach's voice while it listens to a command after the wake word: -20 dB (docs/benchmarks.md, "Barge-in").
DUCK_GAIN = 0.1
#: The longest the voice stays lowered without the command being decided (the recognizer's own limit is 3 s).
LISTEN_TIMEOUT_S = 4.0
GRACE_S = 0.3  # at the horizon, how long the stream waits for the next part (about half the player's queue)


class Playback:
    """One stream at a time: optional words, then the session from a point."""

    def __init__(
        self,
        prepared: Prepared,
        player: PlayerLike,
        *,
        earcons: bool = True,
        gain: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], threading.Thread] | None = None,
        music: LiveMusic | None = None,
    ) -> None:
        self.prepared = prepared
        self.timeline = prepared.timeline
        self.player = player
        self.earcons = earcons
        self.gain = gain  # the session's loudness gain: live sounds as the exported file does
        self.clock = clock
        self.spawn = spawn or _thread  # a test's player may want to know of a stream before it starts
        self.music = music  # music under the coach: every stream is stereo, the bed under the session's
        self._music: StreamMusic | None = None  # the current stream's music
        self.underruns = 0
        self.behind_at: float | None = None  # where the last stream stopped, waiting for phrases
        self.paced_at: float | None = None  # where the last stream stopped, waiting for "done"
        self.segment = Segment(None, 0.0)
        self._sounded = 0  # cues of the timeline already reported by sounded()
        self._listening_since: float | None = None  # the voice heard the wake word then: the sound is lowered
        self._played_s = 0.0  # playback clock of the current stream, from the player's progress calls
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        # Every stop ends a stream's right to change the session (its producer may still be mixing).
        self._lock = threading.Lock()
        self._stream = 0

    # -- what is playing ------------------------------------------------------------
    @property
    def exercises(self) -> int:
        return len(self.prepared.plan.exercises)

    def position(self) -> float:
        """Where the session is in its timeline (during words before it: where it will go on)."""
        return self.segment.position(self._played_s)

    def stand_at(self, t: float, *, session: bool = True) -> None:
        """Nothing plays; the clock stands at ``t`` (a pause, or a wait for the voice)."""
        self.segment, self._played_s = Segment(self.timeline if session else None, t), 0.0

    def sounded(self, t: float) -> list[Cue]:
        """The session's cues that have started sounding by ``t`` since the last call (at ``t``: not yet)."""
        cues, first = self.timeline.cues, self._sounded
        while self._sounded < len(cues) and cues[self._sounded].start_s < t - 1e-3:
            self._sounded += 1
        return list(cues[first : self._sounded])

    @property
    def started(self) -> bool:
        """A stream has been started and not yet stopped."""
        return self._thread is not None

    @property
    def plays_session(self) -> bool:
        """The current stream goes on into the session (not only words)."""
        return self.segment.timeline is not None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def ended(self) -> bool:
        """A stream was started and has played to its end."""
        return self._thread is not None and not self._thread.is_alive() and self._error is None

    @property
    def idle(self) -> bool:
        """Nothing is playing (never started, or ended)."""
        return self._thread is None or (not self._thread.is_alive() and self._error is None)

    def check(self) -> None:
        """Raise the stream's error (a device fault, the voice's failure) on the caller's thread."""
        if self._error is not None:
            raise self._error

    def words(self, texts: Sequence[str], count_in: int = 0) -> Timeline:
        """A short timeline that says ``texts`` (then counts ``count_in`` down)."""
        return spoken(self.prepared, list(texts), count_in=count_in)

    # -- the session's timeline ---------------------------------------------------------
    def horizon(self) -> float:
        """Up to when the timeline is final (its end once every phrase is known)."""
        part = self.prepared.next_part
        return self.timeline.duration_s if part is None else part_start(self.timeline, part)

    def advance(self, stream: int | None = None) -> bool:
        """Take the parts that have become final since; False when none has (or ``stream`` is over)."""
        with self._lock:
            part = self.prepared.next_part
            if part is None or (stream is not None and stream != self._stream):
                return False
            new = self.prepared.refresh()  # raises the voice's error, if synthesis failed
            if new.ready == self.prepared.ready:
                return False
            self.timeline = stitch(self.timeline, new.timeline, part)
            self.prepared = new
            return True

    def set_timeline(self, timeline: Timeline) -> None:
        """An edited timeline (more or less time); call while stopped."""
        with self._lock:
            self.timeline = timeline

    def replan(self, options: Options) -> None:
        """The session planned again (another first exercise, today's doses); call while stopped."""
        with self._lock:
            self.prepared = self.prepared.replan(options)
            self.timeline = self.prepared.timeline

    # -- streams ------------------------------------------------------------------------
    def play(self, prefix: Timeline | None, start_s: float, *, session: bool = True) -> None:
        """Play ``prefix``, then (with ``session``) the session from ``start_s``."""
        self.stop()
        self.behind_at = self.paced_at = None
        self.segment = Segment(self.timeline if session else None, start_s, prefix.duration_s if prefix else 0.0)
        self._sounded = sum(1 for c in self.timeline.cues if c.start_s < start_s - 1e-9)
        music = self._music = (
            self.music.stream(prefix, start_s, self.timeline if session else None) if self.music is not None else None
        )
        parts = []
        if prefix is not None:
            bed = music.prefix_bed() if music is not None else None
            parts.append(
                mix.blocks(prefix, self.prepared.clips_for(prefix), earcons=self.earcons, gain=self.gain, bed=bed)
            )
        if session:
            parts.append(self._session_blocks(start_s, self._stream, music))
        blocks = itertools.chain(*parts)
        self._played_s = 0.0
        # With music, the echo gate follows the coach's words and earcons, not the whole mix.
        extra: dict[str, Any] = {"voiced": music.voiced} if music is not None else {}

        def on_progress(position_s: float) -> None:
            self._played_s = position_s

        def run() -> None:
            try:
                self.player.play(blocks, on_progress=on_progress, progress_interval_s=POLL_S, **extra)
            except BaseException as exc:  # handed to the main thread, which reports it
                self._error = exc

        self._thread = self.spawn(run)

    def listen(self, on: bool, now: float) -> bool:
        """The voice listens to a command (``on``): what plays is lowered by :data:`DUCK_GAIN`, in the audio
        path (the stream and its clock go on); or back to full. False when it already was so."""
        if on == (self._listening_since is not None):
            return False
        self._listening_since = now if on else None
        self.player.duck(DUCK_GAIN if on else 1.0)
        return True

    def listen_expired(self, now: float) -> bool:
        """Lowered for :data:`LISTEN_TIMEOUT_S` without the command being decided."""
        return self._listening_since is not None and now - self._listening_since >= LISTEN_TIMEOUT_S

    def wait(self) -> None:
        """Until the current stream ends (the goodbye)."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        with self._lock:
            self._stream += 1  # a producer still mixing the old stream may no longer change the session
        if self._thread is not None:
            # stop() acts only on a play() already entered: repeat until the thread ends.
            while self._thread.is_alive():
                self.player.stop()
                self._thread.join(0.05)
            self.underruns += self.player.underruns
            self._thread = None
            if self.music is not None and self._music is not None:
                # What was heard of the stream (its buffered rest was thrown away): the music goes on from there.
                heard = getattr(self.player, "heard_s", self._played_s)
                self.music.stopped(self._music, heard)

    def session_blocks(self, start_s: float = 0.0) -> Iterator[np.ndarray]:
        """The session's blocks from ``start_s``, as the current stream would play them (tests compare them)."""
        return self._session_blocks(start_s, self._stream)

    def _session_blocks(self, start_s: float, stream: int, music: StreamMusic | None = None) -> Iterator[np.ndarray]:
        """The session from ``start_s``: up to the horizon, then on as parts become final."""
        pos = start_s
        while True:
            with self._lock:
                timeline, horizon, complete = self.timeline, self.horizon(), self.prepared.complete
            wait = next_pace_point(timeline, pos)
            paced = wait is not None and wait <= horizon + 1e-9  # a self-paced set: on only after "done"
            end = wait if paced and wait is not None else horizon
            if pos < end - 1e-9:
                yield from mix.blocks(
                    timeline,
                    self.prepared.clips_for(timeline),
                    earcons=self.earcons,
                    start_s=pos,
                    end_s=end,
                    gain=self.gain,
                    bed=music.session_bed(timeline) if music is not None else None,
                )
                pos = end
            if paced:
                self.paced_at = end
                return
            if complete:
                return
            deadline = self.clock() + GRACE_S
            while not self.advance(stream):
                if stream != self._stream:
                    return
                if self.clock() >= deadline:
                    self.behind_at = pos  # the voice is behind: the session waits here
                    return
                time.sleep(0.01)


def _thread(run: Callable[[], None]) -> threading.Thread:
    """The stream's thread, started (the player blocks in it; the controller's loop goes on)."""
    thread = threading.Thread(target=run, name="voicecoach-play", daemon=True)
    thread.start()
    return thread
