"""Caption writers: exact formats, escaping, rounding, long sessions."""

from __future__ import annotations

import re

import pytest

from voicecoach.core.timeline import Chapter, Cue, Timeline
from voicecoach.export import captions

TL = Timeline(
    "Morning mobility",
    4530.0,
    (
        Cue(0.0, 1.5, "intro", "Welcome to morning mobility."),
        Cue(1.5, 1.5, "setup", "Squats: 2 sets of 10."),  # zero length
        Cue(2.0, 2.2, "start", "", earcon="start"),  # earcon only: no caption
        Cue(61.2344, 63.0, "rep", "Knees <over> toes & breathe"),
        Cue(3723.456, 3725.9994, "callout", "Ten seconds left.\n\nKeep going."),
    ),
    chapters=(Chapter(0.0, 60.0, "Intro"), Chapter(60.0, 4530.0, "Squats")),
)


def test_vtt_exact():
    assert captions.to_vtt(TL) == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:01.500\n"
        "Welcome to morning mobility.\n"
        "\n"
        "00:00:01.500 --> 00:00:01.501\n"
        "Squats: 2 sets of 10.\n"
        "\n"
        "00:01:01.234 --> 00:01:03.000\n"
        "Knees &lt;over&gt; toes &amp; breathe\n"
        "\n"
        "01:02:03.456 --> 01:02:05.999\n"
        "Ten seconds left.\n"
        "Keep going.\n"
    )


def test_srt_exact():
    assert captions.to_srt(TL) == (
        "1\n00:00:00,000 --> 00:00:01,500\nWelcome to morning mobility.\n\n"
        "2\n00:00:01,500 --> 00:00:01,501\nSquats: 2 sets of 10.\n\n"
        "3\n00:01:01,234 --> 00:01:03,000\nKnees \uff1cover\uff1e toes & breathe\n\n"  # no markup in SRT
        "4\n01:02:03,456 --> 01:02:05,999\nTen seconds left.\nKeep going.\n"
    )


def test_lrc_exact():
    assert captions.to_lrc(TL) == (
        "[ti:Morning mobility]\n"
        "[length:75:30]\n"
        "[00:00.00]Welcome to morning mobility.\n"
        "[00:01.50]Squats: 2 sets of 10.\n"
        "[01:01.23]Knees \uff1cover\uff1e toes & breathe\n"  # no word-time tags in LRC
        "[62:03.46]Ten seconds left. Keep going.\n"
    )


@pytest.mark.parametrize(
    "fn, sec, want",
    [
        (captions.vtt_timestamp, 1.5, "00:00:01.500"),
        (captions.srt_timestamp, 1.5, "00:00:01,500"),
        (captions.lrc_timestamp, 1.5, "[00:01.50]"),
        (captions.vtt_timestamp, 59.9996, "00:01:00.000"),  # rounding carries into minutes
        (captions.lrc_timestamp, 59.996, "[01:00.00]"),
        (captions.srt_timestamp, 36000.001, "10:00:00,001"),
    ],
    ids=["vtt", "srt", "lrc", "vtt-carry", "lrc-carry", "srt-10h"],
)
def test_timestamps(fn, sec, want):
    assert fn(sec) == want


def test_every_vtt_block_is_well_formed():
    body = captions.to_vtt(TL).split("\n\n")
    assert body[0] == "WEBVTT"
    stamp = r"\d{2}:\d{2}:\d{2}\.\d{3}"
    for block in filter(None, body[1:]):
        timing, *text = block.strip("\n").split("\n")
        start, end = re.fullmatch(f"({stamp}) --> ({stamp})", timing).groups()
        assert end > start and text and "-->" not in "".join(text)


def test_only_spoken_cues():
    spoken = [c for c in TL.cues if c.text]
    assert captions.to_srt(TL).count(" --> ") == len(spoken)
    assert captions.to_vtt(TL).count(" --> ") == len(spoken)
    assert len(re.findall(r"^\[\d+:\d\d\.\d\d\]", captions.to_lrc(TL), re.M)) == len(spoken)


def test_transcript():
    text = captions.to_transcript(TL)
    lines = text.splitlines()
    assert lines[0] == "Morning mobility" and lines[1] == "Duration: 1:15:30"
    assert "0:00:00  Intro" in lines and "0:01:00  Squats" in lines
    # Cues follow their chapter heading, in order.
    assert lines.index("0:01:00  Squats") < next(i for i, l in enumerate(lines) if "Knees" in l)
    assert any(l.strip().startswith("1:02:03.5  [callout]") for l in lines)
    assert text.endswith("\n") and "\n\n\n" not in text


def test_render_dispatch_and_unknown():
    assert captions.render("vtt", TL) == captions.to_vtt(TL)
    assert captions.render(".SRT", TL) == captions.to_srt(TL)
    with pytest.raises(ValueError, match="vtt, srt, lrc"):
        captions.render("ass", TL)


def test_empty_timeline():
    empty = Timeline("Empty", 0.0, ())
    assert captions.to_vtt(empty) == "WEBVTT\n"
    assert captions.to_srt(empty) == ""
    assert captions.to_lrc(empty) == "[ti:Empty]\n[length:00:00]\n"
