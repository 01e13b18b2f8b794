"""The scheduler: plan + options + speech lengths -> an exact cue timeline.

Pure: no I/O, no audio imports. The speech-length function (text ->
seconds) is injected, so tests use a fake one and the real program uses the
true clip lengths.

How timing works:

* Exact phases (holds, rests, sets of repetitions, timed activities) last
  exactly their configured time, from the cue that opens them to the cue
  that closes them, whatever the voice says.
* Flexible windows (session intro, each exercise's setup, switching sides,
  the end) grow to fit their speech.
* *Fixed* cues (start, stop, countdown numbers, setup and intro lines) never
  move or drop; if two of them collide (a voice so slow that "three" takes
  more than a second) scheduling fails with a :class:`ScheduleError`.
* *Droppable* cues (callouts, repetitions, tempo words, rest previews) are
  placed after the fixed ones, highest priority first, each at its anchor or
  in the earliest free gap of its window, and dropped if there is none.
* A countdown is as long as the phase allows: numbers that would talk over
  the phase's opening cue are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from voicecoach.core import phrases
from voicecoach.core.cues import GAP_S, CueBuilder, SpeechLength
from voicecoach.core.plan import Exercise, ExerciseDose, Plan
from voicecoach.core.timeline import Chapter, PhaseKind, Timeline
from voicecoach.errors import ScheduleError

__all__ = ["GAP_S", "Options", "SpeechLength", "build_timeline", "estimate_speech_s"]

TAIL_S = 1.5  # silence after the last word
MIN_REST_S = 3.0  # between sets: time to say "release" before the next start
MIN_HOLD_S = 3.0
MIN_PACED_S = 10.0  # a self-paced set's estimate: at least its opening words

# Droppable priorities: higher survives. Callouts drop first.
P_REST = 40
P_REP = 30
P_TEMPO = 20
P_CALLOUT = 10


@dataclass(frozen=True)
class Options:
    """How to turn a plan into a session."""

    level: str = "low"  # "low", "mid" or "high": where in each range to sit
    detailed: bool = False  # also speak each exercise's longer first-time instructions
    first_exercise: int = 0  # 0-based: start the session at this exercise
    adjust_s: tuple[tuple[int, float], ...] = ()  # (exercise index, seconds added to its holds/rests)
    intro: str | None = None  # replaces the session introduction; "" for none (skipping in a live session)
    # (exercise index, dose): these exercises sit at their own dose (the training journal's), not at ``level``
    doses: tuple[tuple[int, ExerciseDose], ...] = ()
    # For a file (export): self-paced sets cannot wait, so the introduction says the pause button gives more time.
    for_file: bool = False


def estimate_speech_s(text: str) -> float:
    """A rough speech length (about 165 words a minute) for when no voice is at hand."""
    return 0.2 + 0.066 * len(text)


class _Session:
    """Walks the plan in order, laying out phases and cues on a builder."""

    def __init__(self, plan: Plan, options: Options, builder: CueBuilder) -> None:
        self.plan, self.options, self.builder = plan, options, builder
        self.exercise_count = len(plan.exercises)

    def adjust(self, index: int) -> float:
        return sum(s for i, s in self.options.adjust_s if i == index)

    def blocks(self, ex: Exercise) -> list[tuple[int, str | None]]:
        """(set number, side) in the order they are done; alternating sides live inside a set."""
        sets = range(1, ex.sets.count(self.options.level) + 1)
        if ex.sides == "each":
            return [(s, side) for side in ex.side_order() for s in sets]
        return [(s, None) for s in sets]

    def exercise(self, index: int) -> None:
        b, ex, lvl = self.builder, self.plan.exercises[index], self.options.level
        name = ex.name
        setup_start = max(b.t, b.busy_until)
        b.chapters.append((setup_start, name))
        b.t = setup_start
        ctx = (name, None, None)
        b.say_next("setup", phrases.exercise_intro(index, self.exercise_count, ex, lvl), ctx)
        b.say_next("setup", ex.setup, ctx)
        if self.options.detailed and ex.details:
            b.say_next("setup", ex.details, ctx)
        timing = ex.timing
        end = b.t + GAP_S + timing.get_ready_s
        b.countdown(end, timing.countdown, ctx)
        b.phase("setup", setup_start, end, index, name, None, None, None)
        b.t = end
        blocks = self.blocks(ex)
        extra = self.adjust(index)
        for i, (set_, side) in enumerate(blocks):
            self.activity(index, ex, set_, side, extra)
            if i + 1 == len(blocks):
                break
            nset, nside = blocks[i + 1]
            if nside != side:
                # Sides differ only between blocks of a "sides: each" exercise, where every block has one.
                assert nside is not None
                self.switch(index, ex, nset, nside)
            else:
                self.rest(
                    index,
                    max(MIN_REST_S, timing.rest_between_sets_s + extra),
                    ex,
                    nset,
                    nside,
                    phrases.set_rest_preview(nset, ex.sets.count(lvl), nside),
                    countdown=timing.countdown,
                )

    def activity(self, index: int, ex: Exercise, set_: int, side: str | None, extra: float) -> None:
        b, lvl = self.builder, self.options.level
        t0 = b.t
        ctx = (ex.name, set_, side)
        sets = ex.sets.count(lvl)
        if ex.self_paced:
            # No counting and no clock: the opening words, then the person's own time (its estimate here).
            kind: PhaseKind = "reps" if ex.kind == "reps" else "timed"
            b.fixed_at(t0, "start", phrases.OWN_PACE, ctx, "start")
            end = t0 + max(ex.paced_estimate_s(lvl), MIN_PACED_S)
            b.phase(kind, t0, end, index, ex.name, set_, sets, side, self_paced=True)
            b.t = end
            b.fixed_at(end, "stop", phrases.STOP_RELAX, ctx, "stop")
            return
        if ex.kind == "reps":
            assert ex.reps is not None  # the plan file gives every "reps" exercise its reps
            rep_s = ex.tempo.rep_s(lvl)
            hold = ex.tempo.hold.at(lvl)
            reps = ex.reps.count(lvl)
            order = (
                [(r, s) for r in range(1, reps + 1) for s in ex.side_order()]
                if ex.sides == "alternating"
                else [(r, side) for r in range(1, reps + 1)]
            )
            for k, (r, s) in enumerate(order):
                rt = t0 + k * rep_s
                rctx = (ex.name, set_, s)
                text = phrases.rep_count(r, s, ex.sides == "alternating")
                if k == 0:  # the first repetition starts the set: it never drops
                    b.fixed_at(rt, "rep", text, rctx, "start")
                else:
                    b.maybe_at(rt, "rep", text, rctx, P_REP)
                if hold >= 1:
                    b.maybe_at(rt + ex.tempo.lift_s, "tempo", phrases.HOLD, rctx, P_TEMPO)
                b.maybe_at(rt + ex.tempo.lift_s + hold, "tempo", phrases.AND_BACK, rctx, P_TEMPO)
            end = t0 + len(order) * rep_s
            b.phase("reps", t0, end, index, ex.name, set_, sets, side)
            b.t = end
            b.fixed_at(end, "stop", phrases.STOP_RELAX, ctx, "stop")
            return
        if ex.kind == "hold":
            assert ex.hold_s is not None  # the plan file gives every "hold" exercise its hold
            dur = max(MIN_HOLD_S, ex.hold_s.at(lvl) + extra)
            b.fixed_at(t0, "start", phrases.HOLD, ctx, "start")
            if dur >= 40:
                b.maybe_at(t0 + math.floor(dur / 2), "callout", phrases.HALFWAY, ctx, P_CALLOUT)
            if dur >= 20:
                b.maybe_at(t0 + dur - 10, "callout", phrases.TEN_MORE, ctx, P_CALLOUT)
            kind, stop_text = "hold", phrases.RELEASE
        else:
            assert ex.minutes is not None  # the plan file gives every "timed" exercise its minutes
            dur = max(30.0, ex.minutes.at(lvl) * 60 + extra)
            b.fixed_at(t0, "start", phrases.BEGIN, ctx, "start")
            for left in _timed_callouts(dur):
                text = phrases.time_left(left)
                b.maybe_at(t0 + dur - left, "callout", text, ctx, P_CALLOUT)
            kind, stop_text = "timed", phrases.TIME_UP
        end = t0 + dur
        b.countdown(end, ex.timing.countdown, ctx)
        b.phase(kind, t0, end, index, ex.name, set_, sets, side)
        b.t = end
        b.fixed_at(end, "stop", stop_text, ctx, "stop")

    def rest(
        self,
        index: int | None,
        dur: float,
        ex: Exercise | None,
        nset: int | None,
        nside: str | None,
        preview: str,
        countdown: int,
    ) -> None:
        b = self.builder
        t0 = b.t
        end = t0 + dur
        name = ex.name if ex else None
        ctx = (name, nset, nside)
        if dur > 0:
            b.float_in(t0, end - countdown, "rest", preview, ctx, P_REST)
            b.countdown(end, countdown, ctx)
            b.phase("rest", t0, end, index, name, nset, None, nside)
        b.t = end

    def switch(self, index: int, ex: Exercise, nset: int, nside: str) -> None:
        b = self.builder
        t0 = b.t
        ctx = (ex.name, nset, nside)
        b.say_next("switch", phrases.switch_sides(nside), ctx, "switch")
        end = max(t0 + ex.timing.switch_sides_s, b.t + GAP_S + ex.timing.countdown)
        b.countdown(end, ex.timing.countdown, ctx)
        b.phase("switch", t0, end, index, ex.name, nset, None, nside)
        b.t = end


def _timed_callouts(dur: float) -> list[float]:
    """Seconds-remaining marks for a timed activity: every 5 minutes, then 2, 1 and 0.5."""
    marks = {m * 60.0 for m in range(5, int(dur // 60) + 1, 5)} | {120.0, 60.0, 30.0}
    return sorted((m for m in marks if m <= dur - 20), reverse=True)


def build_timeline(plan: Plan, options: Options = Options(), speech_len: SpeechLength = estimate_speech_s) -> Timeline:
    """Schedule ``plan`` into a :class:`Timeline` using ``speech_len`` for every phrase."""
    return _layout(plan, options, speech_len, intro=intro_for(plan, options))


def intro_for(plan: Plan, options: Options) -> str:
    """The session introduction: ``options.intro``, else what, how long (about N minutes) and what is needed.

    The length it says comes from the estimated speech lengths, never the
    voice's, so the introduction can be spoken before the rest of the session
    is synthesized (a live session starts at once) and is the same for
    ``show``, ``play`` and ``export``.
    """
    if not 0 <= options.first_exercise < len(plan.exercises):
        raise ScheduleError(f"there is no exercise {options.first_exercise + 1} in {plan.title!r}")
    if options.intro is not None:
        return options.intro
    body = _layout(plan, options, estimate_speech_s, intro="")
    text = phrases.intro_text(plan, round(body.duration_s / 60), options.first_exercise)
    if any(ex.self_paced for ex in plan.exercises[options.first_exercise :]):
        text += " " + (phrases.OWN_PACE_FILE if options.for_file else phrases.OWN_PACE_LIVE)
    return text


Mark = Callable[[str, int], None]


def phrases_by_part(plan: Plan, options: Options) -> list[tuple[str, int, list[str]]]:
    """Every phrase the scheduler may ask the length of, by part of the session, in the order heard.

    Parts: ``("intro", line)`` for each line of the introduction, ``("exercise",
    index)`` for each exercise with the rest after it, ``("end", 0)``. Laid
    out with silent speech, so every countdown number that can fit is asked
    for: whatever the voice, the schedule needs no phrase beyond these.
    """
    found: list[tuple[str, int, list[str]]] = []

    def heard(text: str) -> float:
        found[-1][2].append(text)
        return 0.0

    _layout(plan, options, heard, intro_for(plan, options), mark=lambda kind, i: found.append((kind, i, [])))
    return [(kind, i, list(dict.fromkeys(texts))) for kind, i, texts in found]


def _dosed(plan: Plan, options: Options) -> Plan:
    """The plan at the doses of ``options.doses`` (the journal's, one per exercise), if any."""
    if not options.doses:
        return plan
    if any(not 0 <= i < len(plan.exercises) or d.sets < 1 for i, d in options.doses):
        raise ScheduleError(f"a dose is given for an exercise {plan.title!r} does not have")
    return plan.with_doses(dict(options.doses))


def _layout(plan: Plan, options: Options, speech_len: SpeechLength, intro: str, mark: Mark | None = None) -> Timeline:
    plan = _dosed(plan, options)
    mark = mark or (lambda kind, i: None)
    b = CueBuilder(speech_len)
    s = _Session(plan, options, b)
    ctx = (None, None, None)
    if intro:
        mark("intro", 0)
        b.say_next("intro", intro, ctx, "start")
        if options.intro is None:
            mark("intro", 1)
            b.say_next("intro", phrases.safety_text(plan), ctx)
        b.phase("intro", 0.0, b.t, None, None, None, None, None)
    indices = range(options.first_exercise, len(plan.exercises))
    for i in indices:
        mark("exercise", i)
        s.exercise(i)
        if i + 1 < len(plan.exercises):
            nxt = plan.exercises[i + 1]
            ex = plan.exercises[i]
            s.rest(
                i,
                max(0.0, ex.timing.rest_after_s + s.adjust(i)),
                ex,
                None,
                None,
                phrases.exercise_rest_preview(nxt.name),
                countdown=0,
            )
    mark("end", 0)
    end_start = max(b.t, b.busy_until + GAP_S)
    b.t = end_start
    b.say_next("end", phrases.SESSION_END, ctx, "end")
    b.say_next("end", phrases.safety_text(plan), ctx)
    duration = b.t + TAIL_S
    b.phase("end", end_start, duration, None, None, None, None, None)
    cues = b.resolve()
    # An introduction too short to skip to (a silent voice) gets no chapter of its own.
    has_intro = bool(intro) and b.chapters[0][0] > 0
    marks = ([(0.0, "Introduction")] if has_intro else []) + b.chapters + [(end_start, "Finish")]
    chapters = tuple(Chapter(a, z, title) for (a, title), (z, _) in zip(marks, marks[1:] + [(duration, "")]))
    return Timeline(plan.title, duration, tuple(cues), tuple(b.phases), chapters)
