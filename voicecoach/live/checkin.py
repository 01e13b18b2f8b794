"""Spoken check-ins and the journal record of one live session.

The questions are small scripts (generators): each ``yield Ask(...)`` is a question the
controller speaks, prints and waits on, and the answer ("4", "yes", or None when skipped or
unanswered) is sent back in. The controller (:mod:`voicecoach.live.coach`) knows nothing
of journals; it runs the scripts and calls the recording hooks (``track``, ``control``,
``left``, ``finish``). A journal that fails mid-session is dropped and reported once
(:meth:`CheckIn.take_lost`); the session goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from voicecoach.control.commands import Source
from voicecoach.core import phrases
from voicecoach.core.plan import ExerciseDose, Plan
from voicecoach.core.progression import ACCEPTABLE_MAX, Advice
from voicecoach.core.replan import exercise_at, phase_at
from voicecoach.core.schedule import Options
from voicecoach.core.timeline import Phase, Timeline
from voicecoach.store.journal import Journal, JournalUnavailable
from voicecoach.store.training import DosePlan, Today, dose_at_level, dose_dict, plan_hash, record_doses

ANSWER_WAIT_S = 10.0  # no answer within this long after the question: move on, record nothing
ANSWERING_SOURCES = frozenset({Source.KEYS, Source.VOICE, Source.PHONE})  # inputs that can give a number or a yes/no
ACTIVITY = ("hold", "reps", "timed")


@dataclass(frozen=True)
class Question:
    key: str  # what it is about: red_flag, confirm, settled, pain_before, pain_after, hurt
    text: str  # spoken, and printed
    kind: str  # "pain" (0-10) or "yes_no"

    @property
    def answers(self) -> tuple[str, ...]:
        """What answers it: "0"-"10", or "yes" and "no"."""
        return ("yes", "no") if self.kind == "yes_no" else tuple(str(n) for n in range(11))

    def accepts(self, answer: str) -> bool:
        return answer in self.answers


@dataclass(frozen=True)
class Ask:
    question: Question
    say_first: tuple[str, ...] = ()  # said (and printed) just before the question


@dataclass(frozen=True)
class Outcome:
    """How a script ends: what to say, and what happens next."""

    say: tuple[str, ...] = ()
    go: bool = True  # before the session: False means no session today
    doses: tuple[tuple[int, ExerciseDose], ...] | None = None  # before: the session's doses, if they change
    then: str = "resume"  # after "it hurts": "resume", "skip" (this exercise) or "stay" (paused)


Script = Generator[Ask, "str | None", Outcome]

RED_FLAG = Question("red_flag", phrases.RED_FLAG_QUESTION, "yes_no")
CONFIRM = Question("confirm", phrases.RED_FLAG_CONFIRM, "yes_no")
SETTLED = Question("settled", phrases.SETTLED_QUESTION, "yes_no")
PAIN_BEFORE = Question("pain_before", phrases.PAIN_QUESTION, "pain")
PAIN_AFTER = Question("pain_after", phrases.PAIN_QUESTION, "pain")
HURT = Question("hurt", phrases.PAIN_QUESTION, "pain")


@dataclass
class _Exercise:
    started: bool = False
    done: bool = False
    short: bool = False  # "-" took time off one of its holds or timed activities
    repeated: int = 0
    hurt: bool = False
    pain: int | None = None
    written: tuple[Any, ...] | None = None


@dataclass
class CheckIn:
    """The check-ins and the record of one live session of ``plan`` (``journal`` may be None).

    ``dose_plans`` maps the possible answers to the next-morning question (None: not asked or
    not answered) to the doses of today's session; with ``--level low|mid|high`` it is empty
    and ``options.level`` gives every dose. ``settled_session`` is the session that question
    is about (None: nothing to ask). ``advice`` is said after the check-ins.
    """

    journal: Journal | None
    key: str
    plan: Plan
    options: Options
    dose_plans: Mapping[bool | None, DosePlan] = field(default_factory=dict)
    settled_session: int | None = None
    advice: Sequence[Advice] = ()
    today: date = field(default_factory=date.today)
    ask: bool = True  # False (play --no-check-in): no questions but "it hurts"'s own
    lost: JournalUnavailable | None = None
    session_id: int | None = None
    doses: list[ExerciseDose] = field(default_factory=list)
    _ex: dict[int, _Exercise] = field(default_factory=dict)
    _finished: bool = False

    def __post_init__(self) -> None:
        self._set_doses(self.options.doses)

    @classmethod
    def for_today(cls, journal: Journal | None, key: str, plan: Plan, today: Today, *, ask: bool) -> CheckIn:
        """The check-ins of a session that :func:`voicecoach.store.training.today` set up
        (``live=True``); a journal it found unusable is not used, and the coach says so."""
        return cls(
            journal if today.lost is None else None,
            key,
            plan,
            today.options,
            today.dose_plans,
            today.settled_session,
            today.advice,
            today.day,
            ask=ask,
            lost=today.lost,
        )

    # -- the scripts ----------------------------------------------------------------
    def opening(self, can_ask: bool) -> tuple[str, ...]:
        """The words :meth:`before` starts with (its first question and how to answer it): a
        live session has them made beside its first words, so they are ready when those end."""
        if not (can_ask and self.ask):
            return ()
        return RED_FLAG.text, phrases.ANSWER_KEYS[RED_FLAG.kind]

    def before(self, can_ask: bool) -> Script:
        """Before the first exercise: red flag (and a knowing override), last session's next
        morning, pain now; then today's doses, said with what changed and why."""
        self._call(self._open)
        say: list[str] = []
        settled: bool | None = None
        if can_ask and self.ask:
            red = yield Ask(RED_FLAG)
            if red is not None:
                self._answers(red_flag=red == "yes")
            if red == "yes":
                go = yield Ask(CONFIRM, say_first=(phrases.RED_FLAG_ADVICE,))
                if go != "yes":
                    self._finish(ended_early=True)
                    return Outcome(say=(phrases.NO_SESSION_TODAY,), go=False)
                self._event("red-flag-override")
                say.append(phrases.GOING_AHEAD)
            if self.journal is not None and self.settled_session is not None:
                answer = yield Ask(SETTLED)
                if answer is not None:
                    settled = answer == "yes"
                    sid = self.settled_session
                    self._call(lambda j: j.set_settled(bool(settled), session_id=sid, overwrite=True))
            if self.journal is not None:
                pain = yield Ask(PAIN_BEFORE)
                if pain is not None:
                    self._answers(pain_before=int(pain))
        for a in self.advice:
            self._event("advice", a.rule)
        advice = tuple(a.message for a in self.advice)
        doses = self.dose_plans.get(settled) or self.dose_plans.get(None)
        if doses is None:  # --level low|mid|high: the doses are the level's
            return Outcome(say=(*say, *advice))
        self._call(lambda j: record_doses(j, self.key, doses, self.session_id))
        self._set_doses(doses.option_doses())
        return Outcome(say=(*say, *doses.changes(), *advice), doses=doses.option_doses())

    def after(self, can_ask: bool) -> Script:
        """After the last exercise: pain now."""
        if can_ask and self.ask and self.journal is not None:
            pain = yield Ask(PAIN_AFTER)
            if pain is not None:
                self._answers(pain_after=int(pain))
        return Outcome()

    def hurt(self, index: int | None, can_ask: bool) -> Script:
        """ "It hurts": how much? Above 5, stop this exercise for today."""
        self._mark_hurt(index, None)
        if not can_ask:
            return Outcome(then="stay")
        pain = yield Ask(HURT)
        if pain is None:
            return Outcome(then="stay")
        self._mark_hurt(index, int(pain))
        if int(pain) > ACCEPTABLE_MAX:
            return Outcome(say=(phrases.HURT_STOP,), then="skip")
        return Outcome(say=(phrases.HURT_GENTLY,), then="resume")

    # -- recording hooks (called by the controller) ------------------------------------
    def track(self, timeline: Timeline, t: float) -> None:
        """The session is at ``t``: exercises begin and are done."""
        for i, acts in _activities(timeline).items():
            st = self._ex.setdefault(i, _Exercise())
            if not st.started and t >= acts[0].start_s - 1e-9:
                st.started = True
            if not st.done and t >= acts[-1].end_s - 1e-9:
                st.done = True
                self._write(i)

    def control(self, action: str, source: str, timeline: Timeline, t: float) -> None:
        """A control was used (every one is logged)."""
        self._call(lambda j: j.log_control(self._sid(j), round(t, 3), action, source))
        i = exercise_at(timeline, t)
        if i is None:
            return
        st = self._ex.setdefault(i, _Exercise())
        if action == "back":
            st.repeated += 1  # done once is done: a repeat never undoes it
        elif action == "less" and any(p.start_s <= t < p.end_s for p in _activities(timeline).get(i, [])):
            st.short = True

    def paced(self, timeline: Timeline, t: float, seconds: float) -> None:
        """A self-paced set ended at ``t`` after ``seconds``: its time is kept."""
        ph = phase_at(timeline, t)  # the set, now ending a moment after t
        if ph is None or ph.exercise_index is None:
            return
        i, name = ph.exercise_index, self.plan.exercises[ph.exercise_index].name
        self._call(lambda j: j.log_paced_set(self._sid(j), i, name, ph.set, ph.side, round(seconds, 3), round(t, 3)))

    def left(self, timeline: Timeline, t: float) -> None:
        """The session jumps away from the exercise at ``t`` (next exercise, or stopped for pain)."""
        i = exercise_at(timeline, t)
        if i is not None and not self._ex.setdefault(i, _Exercise()).done:
            self._write(i, left=True)

    def finish(self, timeline: Timeline, t: float, *, ended_early: bool) -> None:
        """The session is over (``ended_early``: quit before the end)."""
        if ended_early:
            i = exercise_at(timeline, t)
            st = self._ex.get(i) if i is not None else None
            if i is not None and st is not None and not st.done and (st.started or st.hurt):
                self._write(i, left=True)
        self._finish(ended_early=ended_early)

    def take_lost(self) -> JournalUnavailable | None:
        """The error that switched the journal off mid-session, once."""
        lost, self.lost = self.lost, None
        return lost

    # -- the journal ------------------------------------------------------------------
    def _call(self, write: Callable[[Journal], Any]) -> Any:
        if self.journal is None:
            return None
        try:
            return write(self.journal)
        except JournalUnavailable as exc:
            self.journal, self.lost = None, exc  # never again this session; said once
            return None

    def _open(self, j: Journal) -> int:
        self.session_id = j.start_session(self.key, plan_title=self.plan.title, plan_hash=plan_hash(self.plan))
        return self.session_id

    def _sid(self, j: Journal) -> int:
        return self.session_id if self.session_id is not None else self._open(j)

    def _event(self, kind: str, detail: str = "") -> None:
        self._call(lambda j: j.log_event(self._sid(j), kind, detail))

    def _answers(self, **answers: int | bool) -> None:
        self._call(lambda j: j.update_session(self._sid(j), **answers))

    def _finish(self, *, ended_early: bool) -> None:
        if not self._finished:
            self._finished = True
            self._call(lambda j: j.finish_session(self._sid(j), ended_early=ended_early))

    def _set_doses(self, pinned: Sequence[tuple[int, ExerciseDose]]) -> None:
        by_index = dict(pinned)
        self.doses = [
            by_index.get(i) or dose_at_level(ex, self.options.level) for i, ex in enumerate(self.plan.exercises)
        ]

    def _mark_hurt(self, index: int | None, pain: int | None) -> None:
        if index is None:
            return
        st = self._ex.setdefault(index, _Exercise())
        st.hurt = True
        st.pain = pain if pain is not None else st.pain
        self._write(index)

    def _write(self, i: int, *, left: bool = False) -> None:
        st = self._ex.setdefault(i, _Exercise())
        if st.done and not st.short:
            status = "done"
        elif st.started or st.hurt or st.done:
            status = "partial"
        elif left:
            status = "skipped"
        else:
            return  # not begun and not left: nothing to say yet
        row = (status, st.repeated, st.hurt, st.pain)
        if row == st.written:
            return
        st.written = row
        name, dose = self.plan.exercises[i].name, dose_dict(self.doses[i])
        self._call(
            lambda j: j.log_exercise(
                self._sid(j), i, name, dose, status, repeated=st.repeated, hurt=st.hurt, pain_at_hurt=st.pain
            )
        )


_cache: dict[int, tuple[Timeline, dict[int, list[Phase]]]] = {}


def _activities(timeline: Timeline) -> dict[int, list[Phase]]:
    """Each exercise's holds, sets of repetitions and timed activities in ``timeline``."""
    hit = _cache.get(id(timeline))
    if hit is not None and hit[0] is timeline:
        return hit[1]
    out: dict[int, list[Phase]] = {}
    for p in timeline.phases:
        if p.exercise_index is not None and p.kind in ACTIVITY:
            out.setdefault(p.exercise_index, []).append(p)
    _cache.clear()  # one timeline at a time is in play
    _cache[id(timeline)] = (timeline, out)
    return out
