"""The wake word's sensitivity (core/wake.py): levels and cutoffs, per model."""

from __future__ import annotations

import pytest

from voicecoach.core import wake


def test_levels_map_to_cutoffs_per_model():
    assert wake.cutoff("low", 0.97) == 0.97
    assert wake.cutoff("medium", 0.97) == pytest.approx(0.94)
    assert wake.cutoff("high", 0.97) == pytest.approx(0.88)
    assert wake.cutoff("medium", 0.85) == pytest.approx(0.7)
    assert wake.cutoff("high", 0.85) == wake.MIN_CUTOFF
    assert wake.cutoff(None, 0.97) == wake.cutoff(wake.DEFAULT, 0.97)
    assert wake.cutoff("high", 0.6) == wake.MIN_CUTOFF  # never under the floor...
    assert wake.cutoff("high", 0.3) == 0.3  # ...and never stricter than the model's own


def test_a_number_is_the_cutoff_itself():
    assert wake.cutoff(0.91, 0.97) == 0.91
    assert wake.cutoff("0.91", 0.5) == 0.91


@pytest.mark.parametrize("bad", ["loud", "", "0.3", "1", "nan", "inf", True, 0.995, "-0.9"])
def test_bad_sensitivities(bad):
    with pytest.raises(ValueError, match="low, medium, high, or a cutoff from 0.5 to 0.99"):
        wake.parse(bad)


def test_parse_and_describe():
    assert wake.parse(" HIGH ") == "high"
    assert wake.parse("0.9") == 0.9 and wake.parse(0.9) == 0.9
    assert wake.describe(0.9) == "0.9" and wake.describe(None) == wake.DEFAULT
