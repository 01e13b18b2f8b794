"""Every sentence the coach can say, in one place, and the list of those to prepare ahead.

The scheduler builds a session's cues from these functions; the live
controller speaks the fixed control phrases below. :func:`control_phrases`
is the complete list of what a live control can say outside the timeline,
so all of it is synthesized before the first sound and no control ever
waits for a voice (with the neural voice that would be a stall).
Printed forms that differ from the spoken ones live here too.
"""

from __future__ import annotations

from voicecoach.core import pacephrases as _pace
from voicecoach.core.plan import Exercise, ExerciseDose, Plan
from voicecoach.core.rules import AdviceRule, DoseRule

# Self-paced sets and "how long is left" (voicecoach.core.pacephrases), said from here like every phrase.
DONE_PRINTED = _pace.DONE_PRINTED
DONE_WHEN_READY_BY = _pace.DONE_WHEN_READY_BY
OWN_PACE = _pace.OWN_PACE
OWN_PACE_FILE = _pace.OWN_PACE_FILE
OWN_PACE_LIVE = _pace.OWN_PACE_LIVE
done_when_ready = _pace.done_when_ready
how_long_left = _pace.how_long_left
time_left_short = _pace.time_left_short

# -- the session (used by the scheduler) ----------------------------------------
HOLD = "Hold."
AND_BACK = "And back."
STOP_RELAX = "Stop. Relax."
RELEASE = "And release."
BEGIN = "Begin."
TIME_UP = "Time is up. Stop."


HALFWAY = "Halfway."
TEN_MORE = "10 more seconds."
SESSION_END = "That is the end of the session. Well done."
DEFAULT_SAFETY = "Stop if your pain increases, and get advice from a professional."


def plural(n: float, word: str) -> str:
    """``1 set``, ``2 sets``, ``2.5 minutes``."""
    v = int(n) if float(n).is_integer() else n
    return f"{v:g} {word}" if v == 1 else f"{v:g} {word}s"


def dose_text(ex: Exercise, level: str) -> str:
    """How much of an exercise, e.g. ``2 sets of 10, each side, right first.``"""
    sets = ex.sets.count(level)
    if ex.kind == "timed":
        assert ex.minutes is not None
        return f"{plural(ex.minutes.at(level), 'minute')}, at an easy pace."
    each = ""
    if ex.sides == "each":
        each = f", each side, {ex.first_side} first"
    elif ex.sides == "alternating":
        each = f", each side, switching every time, {ex.first_side} first"
    if ex.kind == "hold":
        assert ex.hold_s is not None
        return f"{plural(sets, 'set')}, hold {plural(ex.hold_s.at(level), 'second')}{each}."
    assert ex.reps is not None
    return f"{plural(sets, 'set')} of {ex.reps.count(level)}{each}."


def exercise_intro(index: int, total: int, ex: Exercise, level: str) -> str:
    return f"Exercise {index + 1} of {total}: {ex.name}. {dose_text(ex, level)}"


def rep_count(rep: int, side: str | None, alternating: bool) -> str:
    return f"{(side or '').capitalize()}, {rep}." if alternating else f"{rep}."


def set_rest_preview(next_set: int, sets: int, next_side: str | None) -> str:
    return f"Rest. Next, set {next_set} of {sets}" + (f", {next_side} side." if next_side else ".")


def exercise_rest_preview(next_name: str) -> str:
    return f"Well done. Rest. Next up: {next_name}."


def time_left(seconds_left: float) -> str:
    return "30 seconds left." if seconds_left == 30 else f"{plural(seconds_left / 60, 'minute')} left."


def switch_sides(side: str) -> str:
    return f"Switch sides. Now your {side} side."


def intro_text(plan: Plan, minutes: int, first: int) -> str:
    """The session introduction: what, how long, where it starts, what is needed."""
    n = len(plan.exercises)
    parts = [f"{plan.title}.", f"{plural(n, 'exercise')}, about {plural(max(1, minutes), 'minute')}."]
    if first:
        parts.append(f"Starting at exercise {first + 1}: {plan.exercises[first].name}.")
    eq = plan.all_equipment()
    if eq:
        listed = eq[0] if len(eq) == 1 else f"{', '.join(eq[:-1])} and {eq[-1]}"
        parts.append(f"You will need {listed}.")
    return " ".join(parts)


def safety_text(plan: Plan) -> str:
    return " ".join(plan.safety) if plan.safety else DEFAULT_SAFETY


def resume_intro(plan: Plan, index: int, name: str) -> str:
    return f"Resuming {plan.title} at exercise {index + 1} of {len(plan.exercises)}: {name}."


NO_SAVED_PLACE = "No saved place for this plan: starting from the beginning."
# Said by a live session whose voice has fallen behind (it waits before an exercise, never mid-phrase).
ONE_MOMENT = "One moment."

# -- live controls (used by the live controller) ---------------------------------
STEP_S = 15  # what + and - add or take off
KEYS_HINT = "Press question mark for the keys, or Q to quit."
# How to resume depends on the input that paused: each says what works for it.
PAUSED = "Paused. Press space to resume."
PAUSED_BY = {
    "keys": PAUSED,
    "headset": "Paused. Press play to resume.",
    "voice": "Paused. Say the wake word, then resume.",
}
PAUSED_ANY = "Paused."
RESUMING = "Resuming."
COUNT_IN = ("3", "2", "1")
NEXT = "Next exercise."
BACK = "Back to the start of this exercise."
MORE = f"{STEP_S} seconds more."
LESS = f"{STEP_S} seconds less."
LESS_PARTLY = "Shortened as far as it goes."
NOTHING_TO_CHANGE = "Nothing to change here."
NOTHING_TO_REPEAT = "Nothing to repeat yet."
STOPPING = "Stopping. Your place is saved."
STOPPING_UNSAVED = "Stopping. Your place could not be saved this time."
LAST_EXERCISE = "That was the last exercise."
KEYS_HELP = (
    "Keys: space, pause or resume. N or right arrow, next exercise. "
    "P or left arrow, back to the start of this exercise. R, repeat the instruction. "
    "Plus or minus, 15 seconds more or less. D, done, in a set at your own pace. L, how long is left. "
    "X, it hurts. Q, quit. Question mark, these keys."
)

HEADSET_HELP = (
    "Media buttons: play or pause, to pause and resume. Next, the next exercise. "
    "Previous, back to the start of this exercise. Stop, to stop and keep your place. "
    "In a set at your own pace, play means done."
)
VOICE_HELP = (
    "Say the wake word, then: pause, resume, next, back, repeat, more time, less time, done, how much longer, "
    "it hurts, skip, stop, or help."
)
SORRY = "Sorry?"  # after the wake word, something that was not clearly a command: nothing else happens
VOICE_ON = "Voice control is on. Say the wake word, then a command."
HELP_BY = {"keys": KEYS_HELP, "headset": HEADSET_HELP, "voice": VOICE_HELP}
CANNOT_SAVE_PLACE = "Your place cannot be saved this time; the session goes on."


def paused(source: str) -> str:
    """What pausing says: how to resume with the input that paused."""
    return PAUSED_BY.get(source, PAUSED_ANY)


def voice_on_printed(wake_word: str) -> str:
    """How the voice-control note reads on screen: it names the wake word (never spoken, see README)."""
    return f'Voice control is on: say "{wake_word}", then a command ("{wake_word}, help" lists them).'


def heard(words: str) -> str:
    """The printed line for a voice command: what was recognized, before the usual confirmation."""
    return f"Heard: {words}." if words else "Heard something that is not a command."


def help_for(source: str) -> str:
    """What help says: the controls of the input that asked."""
    return HELP_BY.get(source, KEYS_HELP)


# How a spoken phrase reads on screen, where that differs.
PRINTED = {KEYS_HINT: "Press ? for the keys, q to quit."}
SESSION_COMPLETE_PRINTED = "Session complete."
STOPPED_PRINTED = "Stopped. Your place is saved: continue with --resume."
STOPPED_UNSAVED_PRINTED = "Stopped. Your place could not be saved this time."


# -- the training journal: check-ins, dose changes, advice -------------------------
# The questions use the same words every time (the 0-10 scale's end points never change).
PAIN_QUESTION = "How much does your knee hurt right now, from 0, no pain, to 10, the worst pain imaginable?"
RED_FLAG_QUESTION = (
    "Since last time, has your knee locked, given way, or become hot, red or badly swollen, "
    "or can you not put full weight on it?"
)
SETTLED_QUESTION = "After your last session, was your knee back to its usual by the next morning?"
# The sources: swelling or instability, or symptoms getting worse -> a professional, as soon as possible.
RED_FLAG_ADVICE = (
    "Then please don't exercise today. Those signs need checking: see a doctor or physiotherapist as soon as possible."
)
RED_FLAG_CONFIRM = "Do you still want to exercise today, against this advice?"
NO_SESSION_TODAY = "No session today. Look after your knee."
GOING_AHEAD = "All right. Go gently, and stop at once if it hurts."
HURT_STOP = "Stop this exercise for today. If it keeps hurting, get advice from a physiotherapist or doctor."
HURT_GENTLY = "Go gently, and stop if it gets worse."
# How to answer: said once a session, after the first question of its kind (keys only).
ANSWER_KEYS = {
    "pain": "Press a number key, T for 10, or S to skip.",
    "yes_no": "Press Y for yes, N for no, or S to skip.",
}
ANSWER_KEYS_PRINTED = {"pain": "(0-9, t for 10, s to skip)", "yes_no": "(y or n, s to skip)"}
ANSWERS = (*(str(n) for n in range(11)), "yes", "no")
JOURNAL_OFF = {
    "busy": "Your training journal is in use by another program, so this session won't be recorded.",
    "read-only": "Your training journal cannot be written, so this session won't be recorded.",
    "damaged": "Your training journal is damaged. It is left as it is, and this session won't be recorded.",
    "newer": "Your training journal is from a newer voicecoach, so this session won't be recorded.",
    "other": "Your training journal cannot be used now, so this session won't be recorded.",
}
JOURNAL_LOST = "The training journal stopped working; the session goes on without it."


def noted(answer: str) -> str:
    """The confirmation of an answer: ``Noted: 4.``, ``Noted: yes.``"""
    return f"Noted: {answer}."


def journal_off(kind: str) -> str:
    """The one-line note when the journal cannot be used (the printed line adds its path)."""
    return JOURNAL_OFF.get(kind, JOURNAL_OFF["other"])


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def describe_dose(dose: ExerciseDose) -> str:
    """Words for a dose: "2 sets of 11 repetitions", "2 sets of 35 seconds", "12 minutes"."""
    if dose.reps is not None:
        return f"{plural(dose.sets, 'set')} of {plural(dose.reps, 'repetition')}"
    if dose.hold_s is not None:
        return f"{plural(dose.sets, 'set')} of {plural(dose.hold_s, 'second')}"
    if dose.minutes is not None:
        mins = plural(dose.minutes, "minute")
        return mins if dose.sets == 1 else f"{plural(dose.sets, 'set')} of {mins}"
    return plural(dose.sets, "set")


def _what_changed(old: ExerciseDose, new: ExerciseDose) -> tuple[str, str]:
    """The new and the old dose, said as briefly as the change allows."""
    if old.sets == new.sets:
        if new.reps is not None and old.reps is not None:
            return plural(new.reps, "repetition"), _num(old.reps)
        if new.hold_s is not None and old.hold_s is not None:
            return f"{_num(new.hold_s)} second holds", _num(old.hold_s)
        if new.minutes is not None and old.minutes is not None:
            return plural(new.minutes, "minute"), _num(old.minutes)
    return describe_dose(new), describe_dose(old)


# Why a dose changed or stayed, by rule id (core.progression), as a clause.
DOSE_WHY: dict[str, str] = {
    DoseRule.TWO_GOOD_SESSIONS: "your last two sessions went well",
    DoseRule.PAIN_ABOVE_5: "your pain went above 5 out of 10 last time",
    DoseRule.IT_HURTS: "you told me it hurt last time",
    DoseRule.NOT_SETTLED_TWICE: "your knee wasn't back to usual two mornings in a row",
    DoseRule.FIRST_SESSIONS: "every exercise starts at the easy end of its range",
    DoseRule.NEW_DOSE: "a dose is done twice before it changes",
    DoseRule.NOT_FULL_DOSE: "the full dose wasn't done each time",
    DoseRule.MISSING_ANSWERS: "some pain or next-morning answers are missing",
    DoseRule.IN_BETWEEN: "the last sessions were mixed",
    DoseRule.WEEKLY_PAIN_RISING: "pain before sessions is up on last week",
    DoseRule.TOP_OF_RANGE: "this is the top of its range",
    DoseRule.FORCED_LEVEL: "chosen with --level",
}


def dose_reason(rule: str, *, at_lowest: bool = False) -> str:
    """Why, as a sentence: "Your last two sessions went well."."""
    why = DOSE_WHY.get(rule, rule)
    if at_lowest:
        why += ", and this is already the easiest dose"
    return f"{why[0].upper()}{why[1:]}."


def dose_change(name: str, old: ExerciseDose, new: ExerciseDose, change: str, rule: str, *, today: bool = True) -> str:
    """What the session says at its start about a changed dose (``today=False``: the journal's
    record of it, without the "today").

    ``Bridge: 11 repetitions today, up from 10: your last two sessions went well.``
    """
    why = DOSE_WHY.get(rule, rule)
    if change in ("progress", "back off") and old != new:
        now, before = _what_changed(old, new)
        way = "up" if change == "progress" else "down"
        return f"{name}: {now}{' today' if today else ''}, {way} from {before}: {why}."
    return f"{name}: staying at {describe_dose(new)}, the easiest: {why}."


def advice_text(rule: str, *numbers: float) -> str:
    """The words of a piece of weekly advice (core.progression.advice), with its numbers."""
    n = [_num(round(x, 1)) for x in numbers]
    if rule == AdviceRule.WEEKLY_PAIN_UP_2:
        return (
            f"Your pain before sessions is up by {n[0]} points on last week. We won't step up, "
            "and it would be wise to have your knee checked by a physiotherapist or doctor."
        )
    if rule == AdviceRule.WEEKLY_PAIN_RISING:
        return (
            f"Your pain before sessions is up by {n[0]} on last week, so we'll keep your doses as they are this week."
        )
    if rule == AdviceRule.BACK_OFFS_TWICE:
        return (
            "We've had to ease off twice this week. It would be a good idea to have your knee "
            "checked by a physiotherapist or doctor."
        )
    if rule == AdviceRule.WEEKLY_PAIN_HIGH:
        return (
            f"Your pain before sessions has averaged {n[0]} out of 10 this week, which is high. "
            "Take it easy, and if it stays like this, ask a physiotherapist or doctor."
        )
    if rule == AdviceRule.PAIN_ACCEPTABLE:
        return (
            f"Your pain before sessions has averaged {n[0]} out of 10 this week. Some pain, up to "
            "about 5, is common when you start exercising a sore knee and doesn't mean harm, "
            "as long as it settles by the next morning."
        )
    if rule == AdviceRule.NO_IMPROVEMENT:
        return (
            f"Since you started, your pain before sessions hasn't come down by a point "
            f"(first week {n[0]}, latest {n[1]}). That's no cause for alarm, but "
            "a physiotherapist or doctor could check the plan suits your knee."
        )
    raise ValueError(f"no words for advice {rule!r}")


def checkin_phrases() -> tuple[str, ...]:
    """Every fixed phrase a check-in can say (the changing ones are prepared with each session)."""
    return (
        PAIN_QUESTION,
        RED_FLAG_QUESTION,
        SETTLED_QUESTION,
        RED_FLAG_ADVICE,
        RED_FLAG_CONFIRM,
        NO_SESSION_TODAY,
        GOING_AHEAD,
        HURT_STOP,
        HURT_GENTLY,
        *ANSWER_KEYS.values(),
        *(noted(a) for a in ANSWERS),
        JOURNAL_LOST,
    )


def adjusted(applied_s: float) -> str:
    """What + or - says for the seconds it really added (positive) or took off.

    Only fixed phrases: near the end of a phase "-" takes off less than the
    step, and an exact amount ("9 seconds less") would be a phrase nobody
    prepared.
    """
    if applied_s >= STEP_S - 1e-6:
        return MORE
    if applied_s <= -STEP_S + 1e-6:
        return LESS
    if applied_s < 0:
        return LESS_PARTLY
    return NOTHING_TO_CHANGE  # "+" always adds the full step; nothing else is said


def control_phrases() -> tuple[str, ...]:
    """Every phrase a live control can say outside the session's own cues."""
    return (
        KEYS_HINT,
        *DONE_WHEN_READY_BY.values(),
        *PAUSED_BY.values(),
        PAUSED_ANY,
        RESUMING,
        *COUNT_IN,
        NEXT,
        BACK,
        MORE,
        LESS,
        LESS_PARTLY,
        NOTHING_TO_CHANGE,
        NOTHING_TO_REPEAT,
        STOPPING,
        STOPPING_UNSAVED,
        LAST_EXERCISE,
        *HELP_BY.values(),
        CANNOT_SAVE_PLACE,
        *checkin_phrases(),
        SORRY,
        VOICE_ON,
    )
