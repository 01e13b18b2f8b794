"""How easily the wake word wakes the coach: ``--wake-sensitivity`` -> the detector's cutoff (pure).

A microWakeWord model fires when the mean of its last few outputs rises
above its ``probability_cutoff`` (0.97 for "hey jarvis", 0.85 for "okay
nabu"). The cutoff its author chose keeps false wakes very rare, and misses
voices the model scores just under it (docs/benchmarks.md, "Wake word
sensitivity"). A sensitivity is one of:

* a level, ``low``, ``medium`` or ``high``: the model's own cutoff (``low``),
  or its margin to 1 widened by :data:`LEVELS`' factor. For "hey jarvis"
  (0.97): 0.97, 0.94, 0.88. The same words mean the same for every model.
* a number from :data:`MIN_CUTOFF` to :data:`MAX_CUTOFF`: the cutoff itself
  (what ``voicecoach mic-check`` proposes for a voice the model scores low).

The default level was chosen by ``scripts/bench wake`` (the wake rate in
quiet and at 10 dB SNR against false wakes per hour of unrelated speech).
"""

from __future__ import annotations

import math

#: Level -> factor on the model's margin to 1 (1 - cutoff): low is the model's own cutoff.
LEVELS: dict[str, float] = {"low": 1.0, "medium": 2.0, "high": 4.0}
#: The level used when none is set (chosen by measurement: scripts/bench wake).
DEFAULT = "high"
#: A cutoff given as a number must lie here: under 0.5 a model fires on half of what it hears;
#: 0.99 is as strict as a model's quantized output can usefully be.
MIN_CUTOFF = 0.5
MAX_CUTOFF = 0.99
#: The words for a help text and error messages.
VALID = "low, medium, high, or a cutoff from 0.5 to 0.99"

Sensitivity = str | float


def parse(value: object) -> Sensitivity:
    """A sensitivity as a user writes it (``"high"``, ``"0.9"``, ``0.9``), checked; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"the wake sensitivity must be {VALID}, not {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().casefold()
        if text in LEVELS:
            return text
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"the wake sensitivity must be {VALID}, not {str(value)!r}") from None
    if not math.isfinite(number) or not MIN_CUTOFF <= number <= MAX_CUTOFF:
        raise ValueError(f"the wake sensitivity must be {VALID}, not {value!r}")
    return number


def cutoff(sensitivity: Sensitivity | None, model_cutoff: float) -> float:
    """The detector's cutoff for ``sensitivity`` (None: :data:`DEFAULT`) and a model whose own is ``model_cutoff``.

    A level never makes a model stricter than its author's cutoff, and never
    goes under :data:`MIN_CUTOFF`.
    """
    chosen = parse(DEFAULT if sensitivity is None else sensitivity)
    if isinstance(chosen, float):
        return chosen
    widened = 1.0 - (1.0 - model_cutoff) * LEVELS[chosen]
    return round(min(model_cutoff, max(MIN_CUTOFF, widened)), 4)


def describe(sensitivity: Sensitivity | None) -> str:
    """How a sensitivity is written back to a user: ``medium``, ``0.93``."""
    chosen = parse(DEFAULT if sensitivity is None else sensitivity)
    return chosen if isinstance(chosen, str) else f"{chosen:g}"
