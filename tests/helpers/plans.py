"""Small plans the tests share (plan file text): short enough to play in real time."""

from __future__ import annotations

#: One exercise with a short hold: a whole session in about 15 s.
TINY = """\
title: Tiny
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2}
exercises:
  - {name: Stretch, setup: Sit down., hold: 4}
"""

#: A session of about 20 s: music under the coach, played for real and exported, compared sample for sample.
SHORT = """\
title: Short
safety: Stop if it hurts.
defaults: {countdown: 1, get_ready: 2}
exercises:
  - {name: Stretch, setup: Sit., hold: 3}
"""

#: Two exercises, one with two sets: every kind of phase a session has.
TWO = """\
title: Two
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 5}
exercises:
  - {name: Alpha, setup: Sit., hold: 20, sets: 2, rest_between_sets: 5}
  - {name: Beta, setup: Lie down., reps: 3}
"""

#: What an output file held before a failed write: it must still hold it afterwards.
EARLIER = b"an earlier export"
