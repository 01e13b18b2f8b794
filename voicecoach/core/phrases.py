"""Every sentence the coach can say, in one place, and the list of those to prepare ahead.

The scheduler builds a session's cues from these functions; the live
controller speaks the fixed control phrases below. :func:`control_phrases`
is the complete list of what a live control can say outside the timeline,
so all of it is synthesized before the first sound and no control ever
waits for a voice (with the neural voice that would be a stall).
Printed forms that differ from the spoken ones live here too.
"""

from __future__ import annotations

from voicecoach.core.plan import Exercise, Plan

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
LAST_EXERCISE = "That was the last exercise."
KEYS_HELP = ("Keys: space, pause or resume. N or right arrow, next exercise. "
             "P or left arrow, back to the start of this exercise. R, repeat the instruction. "
             "Plus or minus, 15 seconds more or less. Q, quit. Question mark, these keys.")

HEADSET_HELP = ("Media buttons: play or pause, to pause and resume. Next, the next exercise. "
                "Previous, back to the start of this exercise. Stop, to stop and keep your place.")
VOICE_HELP = ("Say the wake word, then: pause, resume, next, back, repeat, more time, less time, "
              "stop, or help.")
HELP_BY = {"keys": KEYS_HELP, "headset": HEADSET_HELP, "voice": VOICE_HELP}
CANNOT_SAVE_PLACE = "Your place cannot be saved this time; the session goes on."


def paused(source: str) -> str:
    """What pausing says: how to resume with the input that paused."""
    return PAUSED_BY.get(source, PAUSED_ANY)


def help_for(source: str) -> str:
    """What help says: the controls of the input that asked."""
    return HELP_BY.get(source, KEYS_HELP)


# How a spoken phrase reads on screen, where that differs.
PRINTED = {KEYS_HINT: "Press ? for the keys, q to quit."}
SESSION_COMPLETE_PRINTED = "Session complete."
STOPPED_PRINTED = "Stopped. Your place is saved: continue with --resume."


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
    return (KEYS_HINT, *PAUSED_BY.values(), PAUSED_ANY, RESUMING, *COUNT_IN, NEXT, BACK, MORE, LESS, LESS_PARTLY,
            NOTHING_TO_CHANGE, NOTHING_TO_REPEAT, STOPPING, LAST_EXERCISE, *HELP_BY.values(), CANNOT_SAVE_PLACE)
