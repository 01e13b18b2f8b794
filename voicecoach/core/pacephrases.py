"""What the coach says about time that is the person's: sets at their own pace, and how long is left.

Re-exported by :mod:`voicecoach.core.phrases`, which lists every phrase a control can say.
"""

from __future__ import annotations

from collections.abc import Collection

OWN_PACE = "In your own time. Begin."  # opens a self-paced set
# Said once in the introduction of a session with self-paced sets: live, then in a file.
OWN_PACE_LIVE = "Some sets go at your own pace: I will wait until you are done."
OWN_PACE_FILE = "Some sets go at your own pace: if you need more time, pause the player."
# About once a minute while a self-paced set waits, in the words of the inputs at hand.
DONE_WHEN_READY_BY = {
    "voice": "Take your time. When you are done, say the wake word, then done.",
    "headset": "Take your time. Press play when you are done.",
    "keys": "Take your time. Press d when you are done.",
}
DONE_PRINTED = "Done."


def done_when_ready(inputs: Collection[str]) -> str:
    """The gentle reminder of a self-paced set: said for the voice if it listens, else the headset, else keys."""
    for source in ("voice", "headset"):
        if source in inputs:
            return DONE_WHEN_READY_BY[source]
    return DONE_WHEN_READY_BY["keys"]


def how_long_left(
    left_s: float, exercise: int | None, exercises: int, hold_s: float | None, own_pace: bool = False
) -> str:
    """ "About 12 minutes left. Exercise 5 of 9. This hold: 20 seconds." (what is left of the hold)."""
    minutes = round(left_s / 60)
    if left_s < 45:
        parts = ["Less than a minute left."]
    else:
        parts = [f"About {minutes} minutes left." if minutes > 1 else "About a minute left."]
    if exercise is not None:
        parts.append(f"Exercise {exercise + 1} of {exercises}.")
    if hold_s is not None:
        seconds = max(1, round(hold_s))
        parts.append(f"This hold: {seconds} second{'s' if seconds != 1 else ''}.")
    if own_pace:
        parts.append("This set: at your own pace.")
    return " ".join(parts)


def time_left_short(left_s: float) -> str:
    """The time left as a media player shows it beside the exercise: ``about 12 min left``."""
    minutes = round(left_s / 60)
    return "less than a minute left" if left_s < 45 else f"about {max(1, minutes)} min left"
