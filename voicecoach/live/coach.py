"""The live session controller: plays the block stream, obeys commands from every input, replans.

The audio itself is the :class:`voicecoach.live.player.Player`'s job; this loop
runs on the main thread beside it, waiting on all control inputs at once
(:class:`voicecoach.control.inputs.Inputs`: keys, media buttons, voice) and
following the playback clock. It does not care where a command came from,
except to say so in the printed line ("Paused (headset)."). Every control
stops the current stream, edits or rebuilds the timeline with the pure
functions of :mod:`voicecoach.core.replan` and the scheduler, and plays a new
stream from that point: first a short spoken confirmation, then the session.
Inputs that show state (the MPRIS player) are told the status and the current
exercise whenever they change. With a :class:`voicecoach.live.checkin.CheckIn`, the
session starts and ends with spoken questions (answered by the inputs' answer
commands, skippable, never asked twice) and every control, answer and exercise
is recorded in the training journal.

A session may start before all its phrases are synthesized (see
:class:`voicecoach.render.session.LiveStart`): its timeline is then final only
up to a horizon, the start of the next part still waiting for phrases. The
stream mixes up to the horizon, takes the part that has become final (the
timeline is stitched, so nothing already heard moves, and edits such as a
longer hold carry over) and goes on without a gap. If the voice has fallen
behind, the stream ends at the horizon, before an exercise's setup: the
session waits there (saying "One moment." if it takes long) and goes on
from that point when the phrases exist.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import numpy as np

from voicecoach import interrupts
from voicecoach.control.commands import Command, PlayerState
from voicecoach.control.inputs import Inputs
from voicecoach.core import phrases
from voicecoach.core.parts import part_start, stitch
from voicecoach.core.replan import adjust_phase, exercise_at, last_instruction, phase_at, resume_point
from voicecoach.core.timeline import Timeline
from voicecoach.live.checkin import ANSWER_WAIT_S, CheckIn, Outcome, Question, Script
from voicecoach.live.questions import ACTIONS_LOGGED, Questions
from voicecoach.live.status import Output, status_text
from voicecoach.live.stream import InputsLike, PlayerLike, Segment, spoken
from voicecoach.render import mix
from voicecoach.render.prepare import Prepared
from voicecoach.store.journal import JournalUnavailable
from voicecoach.store.places import ProgressStore, Saved

POLL_S = 0.05
GRACE_S = 0.3  # at the horizon, how long the stream waits for the next part (about half the player's queue)
MOMENT_AFTER_S = 1.0  # waiting longer than this for the voice, the session says "One moment."

# Everything a control may say, synthesized with the session so controls answer at once.
CONTROL_PHRASES = phrases.control_phrases()


class Coach(Questions):
    """Runs one live session to its end, a quit, or a device fault."""

    def __init__(
        self,
        prepared: Prepared,
        player: PlayerLike,
        output: Output,
        *,
        inputs: InputsLike | None = None,
        store: ProgressStore | None = None,
        plan_key: str = "",
        notes: Sequence[str | tuple[str, str]] = (),
        earcons: bool = True,
        gain: float = 1.0,
        checkin: CheckIn | None = None,
        answer_wait_s: float = ANSWER_WAIT_S,
    ) -> None:
        self.p = prepared
        self.player = player
        self.out = output
        self.inputs: InputsLike = inputs if inputs is not None else Inputs()
        self.store = store
        self.plan_key = plan_key
        self.notes = tuple(notes)  # said (and printed) before the session starts
        self.earcons = earcons
        self.gain = gain  # the session's loudness gain: live sounds as the exported file does
        self.timeline = prepared.timeline
        self.n = len(prepared.plan.exercises)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._segment = Segment(None, 0.0)
        self._printed = 0  # cues of self.timeline already shown
        self._saved: tuple | None = None
        self.underruns = 0
        self.paused = False
        self._paused_at = 0.0
        self._played_s = 0.0  # playback clock of the current stream, from the player's progress calls
        self._shown: tuple[str, str, str] | None = None  # the state last shown to the inputs
        # Check-ins: the script running, the question waiting for an answer, and when it stops waiting.
        self.checkin = checkin
        self.answer_wait_s = answer_wait_s
        self._script: Script | None = None
        self._script_done: Callable[[Outcome], None] = lambda outcome: None
        self.asking: Question | None = None
        self._deadline: float | None = None
        self._pending: list[str] = []  # said before whatever plays next (an answer's "Noted: 4.")
        self._hinted: set[str] = set()  # the kinds of question whose answer keys were said
        self._ending: bool | None = None  # once the words playing now end, run() returns this
        # A partial session (phrases still being made): the timeline and self.p change as parts
        # become final, from the stream's thread too. Every stop ends a stream's right to do so.
        self._lock = threading.Lock()
        self._stream = 0
        self._behind_at: float | None = None  # where the last stream stopped, waiting for phrases
        self._waiting_since: float | None = None
        self._said_moment = False

    # -- streams ------------------------------------------------------------
    def _blocks(self, prefix: Timeline | None, start_s: float, session: bool = True) -> Iterator[np.ndarray]:
        parts = []
        if prefix is not None:
            parts.append(mix.blocks(prefix, self.p.clips_for(prefix), earcons=self.earcons, gain=self.gain))
        if session and not self.paused:
            parts.append(self._session_blocks(start_s, self._stream))
        return itertools.chain(*parts)

    def _horizon(self) -> float:
        """Up to when self.timeline is final (its end once every phrase is known)."""
        part = self.p.next_part
        return self.timeline.duration_s if part is None else part_start(self.timeline, part)

    def _session_blocks(self, start_s: float, stream: int) -> Iterator[np.ndarray]:
        """The session from ``start_s``: up to the horizon, then on as parts become final."""
        pos = start_s
        while True:
            with self._lock:
                timeline, horizon, complete = self.timeline, self._horizon(), self.p.complete
            if pos < horizon:
                yield from mix.blocks(
                    timeline,
                    self.p.clips_for(timeline),
                    earcons=self.earcons,
                    start_s=pos,
                    end_s=horizon,
                    gain=self.gain,
                )
                pos = horizon
            if complete:
                return
            deadline = time.monotonic() + GRACE_S
            while not self._advance(stream):
                if stream != self._stream:
                    return
                if time.monotonic() >= deadline:
                    self._behind_at = pos  # the voice is behind: the session waits here
                    return
                time.sleep(0.01)

    def _advance(self, stream: int | None = None) -> bool:
        """Take the parts that have become final since; False when none has (or ``stream`` is over)."""
        with self._lock:
            part = self.p.next_part
            if part is None or (stream is not None and stream != self._stream):
                return False
            new = self.p.refresh()  # raises the voice's error, if synthesis failed
            if new.ready == self.p.ready:
                return False
            self.timeline = stitch(self.timeline, new.timeline, part)
            self.p = new
            return True

    def _play(self, prefix: Timeline | None, start_s: float, *, session: bool = True, waiting: bool = False) -> None:
        """Play ``prefix``, then (unless paused, or ``session`` is False) the session from ``start_s``."""
        self._stop()
        self._behind_at = None
        if not waiting:
            self._waiting_since, self._said_moment = None, False
        session = session and not self.paused
        self._segment = Segment(self.timeline if session else None, start_s, prefix.duration_s if prefix else 0.0)
        self._printed = sum(1 for c in self.timeline.cues if c.start_s < start_s - 1e-9)
        blocks = self._blocks(prefix, start_s, session)

        self._played_s = 0.0

        def on_progress(position_s: float) -> None:
            self._played_s = position_s

        def run() -> None:
            try:
                self.player.play(blocks, on_progress=on_progress, progress_interval_s=POLL_S)
            except BaseException as exc:  # handed to the main thread, which reports it
                self._error = exc

        self._thread = threading.Thread(target=run, name="voicecoach-play", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        with self._lock:
            self._stream += 1  # a producer still mixing the old stream may no longer change the session
        if self._thread is not None:
            # stop() acts only on a play() already entered: repeat until the thread ends.
            while self._thread.is_alive():
                self.player.stop()
                self._thread.join(0.05)
            self.underruns += self.player.underruns
            self._thread = None

    def position(self) -> float:
        return self._segment.position(self._played_s)

    # -- the loop -------------------------------------------------------------
    def run(self) -> bool:
        """Play to the end; True if the session finished, False if the user quit.

        It starts with the notes and, with keys on, how to hear them: said as printed.
        """
        try:  # from the first line: a Ctrl-C anywhere in the session is a quit that saves the place
            # A note is its words, or (words, printed line) when the screen says more (a path).
            notes = [(n, phrases.PRINTED.get(n, n)) if isinstance(n, str) else n for n in self.notes]
            if "keys" in self.inputs.names():
                notes.append((phrases.KEYS_HINT, phrases.PRINTED[phrases.KEYS_HINT]))
            said = [words for words, _ in notes]
            for _, printed in notes:
                self.out.message(printed)
            if self.checkin is not None:
                self._pending = said
                self._run_script(self.checkin.before(self._can_answer()), self._begin)
            else:
                self._play(spoken(self.p, said) if said else None, 0.0)
            while True:
                if self._error is not None:
                    raise self._error
                for command in self.inputs.wait(POLL_S):
                    if command.heard:
                        self.out.message(phrases.heard(command.heard))  # then the usual confirmation
                    if command.action == "quit":
                        self._quit(command.source)
                        return False
                    if self.asking is not None:
                        self._answer(command)
                    else:
                        self._control(command)
                self._journal_check()
                idle = self._thread is None or (not self._thread.is_alive() and self._error is None)
                if self._ending is not None and idle:
                    self._stop()
                    if self._ending:
                        self._finish()
                    return self._ending
                if self.asking is not None:
                    self._wait_for_answer(idle)
                    continue
                if self._thread is not None and not self._thread.is_alive() and self._error is None:
                    if self.paused:
                        self._stop()  # the "paused" words are done; wait for a command
                        continue
                    if self._segment.timeline is not None and self._behind_at is not None:
                        self._catch_up(self._behind_at)
                        continue
                    if self._segment.timeline is not None:
                        self._show(self.timeline.duration_s + 1)
                        self._stop()
                        if self.checkin is None:
                            self._finish()
                            return True
                        self._run_script(self.checkin.after(self._can_answer()), self._after)
                        continue
                if not self.paused and self._thread is not None and self._segment.timeline is not None:
                    self._show(self.position())
                self._publish()
        except KeyboardInterrupt:
            self._quit("keys")
            return False
        finally:
            self._stop()
            self._publish("Stopped")
            self.out.close()

    def _catch_up(self, at: float) -> None:
        """The voice fell behind and the stream stopped at ``at`` (before a part): go on once it is final."""
        self._segment, self._played_s = Segment(self.timeline, at), 0.0  # the clock stands at the wait point
        if self._advance():
            self._play(None, at)
            return
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        if not self._said_moment and now - self._waiting_since >= MOMENT_AFTER_S:
            self._said_moment = True
            self.out.message(phrases.ONE_MOMENT)
            self._play(spoken(self.p, [phrases.ONE_MOMENT]), at, waiting=True)  # then on, if the part is final

    def _show(self, t: float) -> None:
        cues = self.timeline.cues
        while self._printed < len(cues) and cues[self._printed].start_s < t - 1e-3:  # at t (a wait point): not yet
            self.out.cue(cues[self._printed])
            self._printed += 1
        self.out.status(status_text(self.timeline, t, self.n))
        self._save(t)
        if self.checkin is not None:
            self.checkin.track(self.timeline, t)

    def _save(self, t: float, *, force: bool = False) -> None:
        ph = phase_at(self.timeline, t)
        if ph is not None and ph.exercise_index is None and force:
            # Quitting in the introduction or a rest: the place is the exercise that comes next.
            ph = next((q for q in self.timeline.phases if q.exercise_index is not None and q.start_s >= t), None)
        if self.store is None or ph is None or ph.exercise_index is None:
            return
        key = (ph.exercise_index, ph.set, ph.side)
        if key != self._saved or force:
            try:
                self.store.save(self.plan_key, Saved(ph.exercise_index, ph.exercise or "", ph.set, ph.side))
                self._saved = key  # only once written: an interrupted write is tried again
            except JournalUnavailable as exc:
                self.store = None
                self._journal_lost(exc, t)
            except OSError as exc:
                # Saving the place must never end a session: say so once and go on without it.
                self.store = None
                where = f": {exc.filename}" if exc.filename else ""
                self.out.message(f"{phrases.CANNOT_SAVE_PLACE} ({exc.strerror or exc}{where})")
                if not self.paused and self._thread is not None and self._thread.is_alive():
                    self._play(spoken(self.p, [phrases.CANNOT_SAVE_PLACE]), resume_point(self.timeline, t))

    def _finish(self) -> None:
        if self.store is not None:
            try:
                self.store.clear(self.plan_key)
            except (OSError, JournalUnavailable):
                pass
        if self.checkin is not None:
            self.checkin.finish(self.timeline, self.timeline.duration_s, ended_early=False)
        self.out.message(phrases.SESSION_COMPLETE_PRINTED)

    def _quit(self, source: str) -> None:
        """Every way out (q, Ctrl-C, SIGTERM, SIGHUP, stop from any input): the place is kept, said once."""
        interrupts.stopping(self.player.stop)  # another signal now only cuts the goodbye short
        t = self._paused_at if self.paused else self.position()
        self._stop()
        if self.store is not None:
            self._save(t, force=True)  # where the session is now, even if the last save was cut off
        if self.checkin is not None:
            self.checkin.control("quit", source, self.timeline, t)
            self.checkin.finish(self.timeline, t, ended_early=True)
        # Only say the place is saved when it is: without a journal (locked, damaged) it is not.
        saved = self.store is not None
        self.out.message(phrases.STOPPED_PRINTED if saved else phrases.STOPPED_UNSAVED_PRINTED, source=source)
        self.paused = True
        try:
            self._play(spoken(self.p, [phrases.STOPPING if saved else phrases.STOPPING_UNSAVED]), 0.0)
            assert self._thread is not None
            self._thread.join()
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop talking, the place is saved already
        self._stop()

    # -- what inputs that show state see ---------------------------------------
    def track_position_us(self) -> int:
        """Microseconds into the current exercise (the MPRIS "track")."""
        t = self._paused_at if self.paused else self.position()
        chapter = next((c for c in reversed(self.timeline.chapters) if c.start_s <= t + 1e-9), None)
        return max(0, round((t - chapter.start_s) * 1e6)) if chapter else 0

    def _publish(self, status: str | None = None) -> None:
        t = self._paused_at if self.paused else self.position()
        status = status or ("Paused" if self.paused else "Playing")
        chapter = next((c for c in reversed(self.timeline.chapters) if c.start_s <= t + 1e-9), None)
        ph = phase_at(self.timeline, t)
        title = chapter.title if chapter else self.p.plan.title
        if ph is not None and ph.exercise_index is not None:
            title = track_title(ph.exercise_index, self.n, ph.exercise or "", ph.set, ph.sets, ph.side)
        track = (
            f"{ph.exercise_index}"
            if ph is not None and ph.exercise_index is not None
            else (chapter.title.lower() if chapter else "session")
        )
        key = (status, title, track)
        if key == self._shown:
            return
        self._shown = key
        length_s = (chapter.end_s - chapter.start_s) if chapter else self.timeline.duration_s
        self.inputs.show(
            PlayerState(
                status=status,
                title=title,
                album=self.p.plan.title,
                track_id=track,
                length_us=round(length_s * 1e6),
                position_us=self.track_position_us(),
            )
        )

    # -- controls -------------------------------------------------------------
    def _say(self, text: str, source: str, *, printed: str | None = None) -> Timeline:
        self.out.message(printed or text, source=source)
        return spoken(self.p, [text])

    def _resume(self, source: str, first: Sequence[str] = ()) -> None:
        self.paused = False
        for text in first:
            self.out.message(text)
        self.out.message(phrases.RESUMING, source=source)
        self._play(
            spoken(self.p, [*first, phrases.RESUMING], count_in=len(phrases.COUNT_IN)),
            resume_point(self.timeline, self._paused_at),
        )

    def _control(self, command: Command) -> None:
        action, source = command.action, command.source
        if action == "unknown":
            # The wake word, then no command: say so, change nothing (a pause stays a pause).
            t = self._paused_at if self.paused else self.position()
            self._play(self._say(phrases.SORRY, source), 0.0 if self.paused else resume_point(self.timeline, t))
            return
        if self.checkin is not None and action in ACTIONS_LOGGED:
            self.checkin.control(action, source, self.timeline, self._paused_at if self.paused else self.position())
        if action == "hurt":
            self._hurt(source)
            return
        if self.paused:
            if action in ("toggle", "resume"):
                self._resume(source)
            elif action == "help":
                self._play(self._say(phrases.help_for(source), source), 0.0)
            elif action in ("next", "back", "repeat", "more", "less"):
                # Obeyed from the paused place, and the session goes on: a headset's
                # Next while paused means "on to the next one", not "stay paused".
                self.paused = False
                self._segment = Segment(self.timeline, self._paused_at)
                self._played_s = 0.0
                self._control_playing(action, source, self._paused_at)
            return  # "pause" while paused: already done (headsets repeat it)
        t = self.position()
        if action in ("toggle", "pause"):
            self._stop()
            self._paused_at = t
            self.paused = True
            self._play(self._say(phrases.paused(source), source), 0.0)
            return
        if action == "resume":
            return  # already playing
        self._control_playing(action, source, t)

    def _control_playing(self, action: str, source: str, t: float) -> None:
        self._stop()  # before the timeline changes: the stream's thread may change it too
        if action in ("next", "back"):
            current = exercise_at(self.timeline, t)
            target = (
                (current + 1 if current is not None else self._first_after(t))
                if action == "next"
                else (current if current is not None else self._first_after(t))
            )
            self._jump(target, phrases.NEXT if action == "next" else phrases.BACK, source)
        elif action in ("more", "less"):
            step = phrases.STEP_S if action == "more" else -phrases.STEP_S
            self.timeline, applied = adjust_phase(self.timeline, t, step)
            self._play(self._say(phrases.adjusted(applied), source), resume_point(self.timeline, t))
            self.inputs.seeked(self.track_position_us())
        elif action == "repeat":
            cue = last_instruction(self.timeline, t)
            text = cue.text if cue else phrases.NOTHING_TO_REPEAT
            self._play(self._say(text, source), resume_point(self.timeline, t))
        elif action == "help":
            self._play(self._say(phrases.help_for(source), source), resume_point(self.timeline, t))

    def _words(self, texts: list[str]) -> Timeline:
        return spoken(self.p, texts)

    def _leave_pause(self) -> None:
        """Go on from the paused place (the stream restarts there)."""
        self.paused = False
        self._segment = Segment(self.timeline, self._paused_at)
        self._played_s = 0.0

    def _first_after(self, t: float) -> int:
        """The first exercise starting after ``t`` (from the intro), or the end."""
        for ph in self.timeline.phases:
            if ph.exercise_index is not None and ph.start_s >= t:
                return ph.exercise_index
        return self.n

    def _jump(self, target: int, words: str, source: str, first: Sequence[str] = ()) -> None:
        if self.checkin is not None and target != exercise_at(self.timeline, self.position()):
            self.checkin.left(self.timeline, self.position())  # "back" restarts it: not left
        for text in first:
            self.out.message(text)
        if target >= self.n:
            words = phrases.LAST_EXERCISE
            end = next(ph for ph in self.timeline.phases if ph.kind == "end")
            self.out.message(words, source=source)
            self._play(spoken(self.p, [*first, words]), end.start_s)
            return
        with self._lock:
            self.p = self.p.replan(replace(self.p.options, first_exercise=target, intro=""))
            self.timeline = self.p.timeline
        self._saved = None
        self.out.message(words, source=source)
        self._play(spoken(self.p, [*first, words]), 0.0)
        self.inputs.seeked(0)


def track_title(index: int, total: int, name: str, set_: int | None, sets: int | None, side: str | None) -> str:
    """An exercise as a media player's "track": ``Exercise 3 of 9: Bridge, set 1 of 2, right side``."""
    parts = [f"Exercise {index + 1} of {total}: {name}"]
    if set_ is not None and sets:
        parts.append(f"set {set_} of {sets}")
    if side:
        parts.append(f"{side} side")
    return ", ".join(parts)
