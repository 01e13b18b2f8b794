"""The live session's controller: a few parts around one event stream.

* :class:`~voicecoach.live.playback.Playback` plays words and the session, and knows where it is;
* :class:`~voicecoach.live.questions.QuestionRunner` asks the check-in scripts' questions;
* :mod:`voicecoach.live.controls` maps each :class:`~voicecoach.control.commands.Action` to its handler (a table);
* outputs subscribe to the :class:`~voicecoach.live.events.EventStream`: the screen and the media player
  (:mod:`voicecoach.live.views`), the journal's record, the saved place (:class:`~voicecoach.live.keeper.PlaceKeeper`).

This loop runs on the main thread beside the audio, waiting on all control inputs at once
(:class:`voicecoach.control.inputs.Inputs`: keys, media buttons, voice) and following the
playback clock. Every control stops the current stream, edits or rebuilds the timeline with
the pure functions of :mod:`voicecoach.core.replan` and plays a new stream from that point:
first a short spoken confirmation, then the session. If the voice has fallen behind, the
session waits where the stream ended, before an exercise's setup (saying "One moment." if
it takes long), and goes on from there when the phrases exist.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from voicecoach import interrupts
from voicecoach.control.commands import Action, Source
from voicecoach.control.inputs import Inputs
from voicecoach.core import phrases
from voicecoach.core.replan import exercise_at, phase_at, resume_point
from voicecoach.core.timeline import Timeline
from voicecoach.live import controls
from voicecoach.live.checkin import ANSWER_WAIT_S, ANSWERING_SOURCES, CheckIn, Outcome
from voicecoach.live.events import Event, EventStream, EventType
from voicecoach.live.keeper import PlaceKeeper, Trouble
from voicecoach.live.music import LiveMusic
from voicecoach.live.pacer import Pacer
from voicecoach.live.playback import POLL_S, Playback
from voicecoach.live.questions import QuestionRunner
from voicecoach.live.status import Output
from voicecoach.live.stream import InputsLike, PlayerLike
from voicecoach.live.views import JournalRecorder, MediaView, StatusView
from voicecoach.render.prepare import Prepared
from voicecoach.store.places import PlaceStore

MOMENT_AFTER_S = 1.0  # waiting longer than this for the voice, the session says "One moment."

# Everything a control may say, synthesized with the session so controls answer at once.
CONTROL_PHRASES = phrases.control_phrases()


class Coach:
    """Runs one live session to its end, a quit, or a device fault."""

    def __init__(
        self,
        prepared: Prepared,
        player: PlayerLike,
        output: Output,
        *,
        inputs: InputsLike | None = None,
        store: PlaceStore | None = None,
        plan_key: str = "",
        notes: Sequence[str | tuple[str, str]] = (),
        earcons: bool = True,
        gain: float = 1.0,
        checkin: CheckIn | None = None,
        answer_wait_s: float = ANSWER_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], threading.Thread] | None = None,
        music: LiveMusic | None = None,
    ) -> None:
        self.playback = Playback(prepared, player, earcons=earcons, gain=gain, clock=clock, spawn=spawn, music=music)
        self.inputs: InputsLike = inputs if inputs is not None else Inputs()
        self.notes = tuple(notes)  # said (and printed) before the session starts
        self.checkin = checkin
        self.clock = clock
        self.paused = False
        self.paused_at = 0.0
        self.events = EventStream()
        self.questions = QuestionRunner(
            self._say_only,
            self.message,
            self.playback.stop,
            self.emit,
            hints=Source.KEYS in self.inputs.names(),
            answer_wait_s=answer_wait_s,
            clock=clock,
        )
        self._troubles: list[Trouble] = []  # outputs that failed, handled at the next turn
        self.places = PlaceKeeper(store, plan_key, self._troubles.append)
        self.pacer = Pacer(self, clock)  # self-paced sets: the wait for "done"
        self._ending: bool | None = None  # once the words playing now end, run() returns this
        self._waiting_since: float | None = None  # waiting for the voice since
        self._said_moment = False
        self._place: tuple[int | None, int | None, str | None] | None = None  # exercise, set, side last published
        # The outputs, in the order they hear each event.
        exercises = self.playback.exercises
        self.events.subscribe(StatusView(output, exercises))
        self.events.subscribe(self.places)
        if checkin is not None:
            self.events.subscribe(JournalRecorder(checkin, self._troubles.append))
        self.events.subscribe(MediaView(self.inputs, prepared.plan.title, exercises))

    # -- what the parts share ---------------------------------------------------------------
    @property
    def prepared(self) -> Prepared:
        return self.playback.prepared

    @property
    def timeline(self) -> Timeline:
        return self.playback.timeline

    @property
    def underruns(self) -> int:
        return self.playback.underruns

    def now(self) -> float:
        """Where the session is (while paused: where it was paused)."""
        return self.paused_at if self.paused else self.playback.position()

    def emit(self, kind: EventType, **fields: Any) -> None:
        """Publish an event of this session (at :meth:`now` unless ``t`` is given)."""
        fields.setdefault("t", self.now())
        self.events.publish(Event(kind, self.timeline, paused=self.paused, **fields))

    def message(self, text: str, source: Source = Source.KEYS) -> None:
        """A line that is also spoken (the caller plays the words)."""
        self.emit(EventType.MESSAGE, text=text, source=source)

    # -- the loop -----------------------------------------------------------------------------
    def run(self) -> bool:
        """Play to the end; True if the session finished, False if the user quit.

        It starts with the notes and, with keys on, how to hear them: said as printed.
        """
        try:  # from the first line: a Ctrl-C anywhere in the session is a quit that saves the place
            self.emit(EventType.STARTED)
            # A note is its words, or (words, printed line) when the screen says more (a path).
            notes = [(n, phrases.PRINTED.get(n, n)) if isinstance(n, str) else n for n in self.notes]
            if Source.KEYS in self.inputs.names():
                notes.append((phrases.KEYS_HINT, phrases.PRINTED[phrases.KEYS_HINT]))
            said = [words for words, _ in notes]
            for _, printed in notes:
                self.message(printed)
            if self.checkin is not None:
                self.questions.pending = said
                self.questions.run(self.checkin.before(self._can_answer()), self._begin)
            else:
                self.play(self.playback.words(said) if said else None, 0.0)
            while True:
                self.playback.check()
                for command in self.inputs.wait(POLL_S):
                    if command.heard:
                        self.message(phrases.heard(command.heard))  # then the usual confirmation
                    if command.action == Action.QUIT:
                        self._quit(command.source)
                        return False
                    if self.questions.asking is not None and command.action not in controls.NOTICES:
                        self.questions.heard(command)
                    else:
                        controls.dispatch(self, command)
                self.emit(EventType.TICK)
                self._handle_troubles()
                ending = self._turn()
                if ending is not None:
                    return ending
        except KeyboardInterrupt:
            self._quit(Source.KEYS)
            return False
        finally:
            self.playback.stop()
            self.emit(EventType.CLOSED)

    def _turn(self) -> bool | None:
        """Follow the stream for one turn of the loop; what run() returns, once it is over."""
        pb = self.playback
        self.pacer.tick()
        if self.playback.listen_expired(self.clock()):  # the voice never said it was done: never stay lowered
            self.listening(False, Source.VOICE)
        if self._ending is not None and pb.idle:
            pb.stop()
            if self._ending:
                self._finish()
            return self._ending
        if self.questions.asking is not None:
            self.questions.tick(pb.idle)
            return None
        if pb.ended:
            if self.paused:
                pb.stop()  # the "paused" words are done; wait for a command
                return None
            if pb.plays_session and pb.paced_at is not None:
                self.pacer.wait(pb.paced_at)
                self.emit(EventType.STATE)
                return None
            if pb.plays_session and pb.behind_at is not None:
                self._catch_up(pb.behind_at)
                return None
            if pb.plays_session:
                self._progress(self.timeline.duration_s + 1)
                pb.stop()
                if self.checkin is None:
                    self._finish()
                    return True
                self.questions.run(self.checkin.after(self._can_answer()), self._after)
                return None
        if not self.paused and pb.started and pb.plays_session:
            self._progress(pb.position())
        self.emit(EventType.STATE)
        return None

    def _progress(self, t: float) -> None:
        for cue in self.playback.sounded(t):
            self.emit(EventType.CUE, t=t, cue=cue)
        self.emit(EventType.PROGRESS, t=t)
        ph = phase_at(self.timeline, t)
        place = (ph.exercise_index, ph.set, ph.side) if ph is not None else None
        if place != self._place:
            self._place = place
            self.emit(EventType.PLACE, t=t)

    def _catch_up(self, at: float) -> None:
        """The voice fell behind and the stream stopped at ``at`` (before a part): go on once it is final."""
        self.playback.stand_at(at)  # the clock stands at the wait point
        if self.playback.advance():
            self.play(None, at)
            return
        now = self.clock()
        if self._waiting_since is None:
            self._waiting_since = now
            self.emit(EventType.WAITING, t=at)
        if not self._said_moment and now - self._waiting_since >= MOMENT_AFTER_S:
            self._said_moment = True
            self.message(phrases.ONE_MOMENT)
            self.play(self.playback.words([phrases.ONE_MOMENT]), at, waiting=True)  # then on, if the part is final

    def _handle_troubles(self) -> None:
        """An output failed (the journal, saving the place, the music): said once, and the session goes on."""
        if self.playback.music is not None and (line := self.playback.music.notice()) is not None:
            self.message(line)  # printed, not spoken: the coaching goes on as it was
        while self._troubles:
            trouble = self._troubles.pop(0)
            if trouble.journal:
                self.emit(EventType.JOURNAL_LOST, text=trouble.printed)
            self.message(trouble.printed)
            pb, t = self.playback, self.now()
            if trouble.journal and (self.questions.asking is not None or self.paused or not pb.running):
                self.questions.pending.append(trouble.spoken)  # said before whatever plays next
            elif not self.paused and pb.running:
                self.play(pb.words([trouble.spoken]), resume_point(self.timeline, t), session=pb.plays_session)

    def _finish(self) -> None:
        self.emit(EventType.FINISHED, t=self.timeline.duration_s)
        self.message(phrases.SESSION_COMPLETE_PRINTED)

    def _quit(self, source: Source) -> None:
        """Every way out (q, Ctrl-C, SIGTERM, SIGHUP, stop from any input): the place is kept, said once."""
        interrupts.stopping(self.playback.player.stop)  # another signal now only cuts the goodbye short
        t = self.now()
        self.playback.stop()
        self.emit(EventType.STOPPED, t=t, source=source)
        while self._troubles:  # printed only: the goodbye says what matters
            self.message(self._troubles.pop(0).printed)
        # Only say the place is saved when it is: without a journal (locked, damaged) it is not.
        saved = self.places.keeping
        self.message(phrases.STOPPED_PRINTED if saved else phrases.STOPPED_UNSAVED_PRINTED, source=source)
        self.paused = True
        try:
            self.play(self.playback.words([phrases.STOPPING if saved else phrases.STOPPING_UNSAVED]), 0.0)
            self.playback.wait()
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop talking, the place is saved already
        self.playback.stop()

    # -- what controls and questions do ---------------------------------------------------------
    def play(self, prefix: Timeline | None, start_s: float, *, session: bool = True, waiting: bool = False) -> None:
        """Play ``prefix``, then (unless paused, or ``session`` is False) the session from ``start_s``."""
        if not waiting:
            self._waiting_since, self._said_moment = None, False
        self.playback.play(prefix, start_s, session=session and not self.paused)

    def say(self, text: str, source: Source) -> None:
        """Print and say ``text``, then go on with the session where it is (unless paused)."""
        self.message(text, source)
        self.play(self.playback.words([text]), 0.0 if self.paused else resume_point(self.timeline, self.now()))

    def _say_only(self, texts: Sequence[str]) -> None:
        self.play(self.playback.words(texts), 0.0, session=False)

    def _can_answer(self) -> bool:
        return bool(self.inputs.names() & ANSWERING_SOURCES)

    def pause(self, source: Source) -> None:
        t = self.playback.position()
        self.playback.stop()
        self.paused_at, self.paused = t, True
        self.emit(EventType.PAUSED, source=source)
        self.say(phrases.paused(source), source)

    def resume(self, source: Source, first: Sequence[str] = ()) -> None:
        self.paused = False
        self.emit(EventType.RESUMED, t=self.paused_at, source=source)
        for text in first:
            self.message(text)
        self.message(phrases.RESUMING, source=source)
        words = self.playback.words([*first, phrases.RESUMING], count_in=len(phrases.COUNT_IN))
        self.play(words, resume_point(self.timeline, self.paused_at))

    def go_on(self) -> float:
        """Stop the stream (leaving a pause: a move means "on from here"); where the session is."""
        if self.paused:
            self.paused = False
            self.playback.stand_at(self.paused_at)
            self.emit(EventType.RESUMED)
        self.playback.stop()  # before the timeline changes: the stream's thread may change it too
        return self.playback.position()

    def first_after(self, t: float) -> int:
        """The first exercise starting after ``t`` (from the intro), or the end."""
        for ph in self.timeline.phases:
            if ph.exercise_index is not None and ph.start_s >= t:
                return ph.exercise_index
        return self.playback.exercises

    def jump(self, target: int, words: str, source: Source, t: float, first: Sequence[str] = ()) -> None:
        """To the start of exercise ``target`` (past the last: the closing words); the stream is stopped."""
        if target != exercise_at(self.timeline, t):
            self.emit(EventType.LEFT, t=t)  # "back" restarts it: not left
        for text in first:
            self.message(text)
        if target >= self.playback.exercises:
            end = next(ph for ph in self.timeline.phases if ph.kind == "end")
            self.message(phrases.LAST_EXERCISE, source=source)
            self.play(self.playback.words([*first, phrases.LAST_EXERCISE]), end.start_s)
            return
        self.playback.replan(replace(self.prepared.options, first_exercise=target, intro=""))
        self.message(words, source=source)
        self.play(self.playback.words([*first, words]), 0.0)
        self.emit(EventType.JUMPED, t=0.0)

    def adjust(self, timeline: Timeline, source: Source, words: str) -> None:
        """The stream is stopped; go on with an edited timeline from the same place."""
        self.playback.set_timeline(timeline)
        self.say(words, source)
        self.emit(EventType.ADJUSTED, t=self.playback.position())

    def listening(self, on: bool, source: Source) -> None:
        """The wake word was heard (``on``): lower the voice at once, the session going on; or back to full."""
        if self.playback.listen(on, self.clock()):
            self.emit(EventType.LISTENING if on else EventType.LISTENED, source=source)

    def hurt(self, source: Source) -> None:
        """ "It hurts": pause, ask how much, and stop this exercise above 5."""
        t = self.now()
        self.playback.stop()
        self.paused, self.paused_at = True, t
        self.emit(EventType.HURT, source=source)
        if self.checkin is None:
            self.say(phrases.paused(source), source)
            return
        index = exercise_at(self.timeline, t)
        script = self.checkin.hurt(index, self._can_answer())
        self.questions.run(script, lambda outcome: self._hurt_done(outcome, source))

    # -- how the check-in scripts end -------------------------------------------------------------
    def _begin(self, outcome: Outcome) -> None:
        """The check-ins before the session are done: start it (at today's doses), or not."""
        if outcome.doses is not None and outcome.doses != self.prepared.options.doses:
            self.playback.replan(replace(self.prepared.options, doses=outcome.doses))
        for text in outcome.say:
            self.message(text)
        texts = self.questions.take_pending(*outcome.say)
        if not outcome.go:
            self._ending = False
            self._say_only(texts)
            return
        self.play(self.playback.words(texts) if texts else None, 0.0)

    def _after(self, outcome: Outcome) -> None:
        for text in outcome.say:
            self.message(text)
        texts = self.questions.take_pending(*outcome.say)
        self._ending = True
        if texts:
            self._say_only(texts)

    def _hurt_done(self, outcome: Outcome, source: Source) -> None:
        first = self.questions.take_pending(*outcome.say)
        if outcome.then == "resume":
            self.resume(source, first)
        elif outcome.then == "skip":
            current = exercise_at(self.timeline, self.paused_at)
            t = self.go_on()
            self.jump(current + 1 if current is not None else self.first_after(t), phrases.NEXT, source, t, first)
        else:  # no answer: stay paused, and say how to go on
            for text in outcome.say:
                self.message(text)
            self.message(phrases.paused(source), source=source)
            self.play(self.playback.words([*first, phrases.paused(source)]), 0.0)
