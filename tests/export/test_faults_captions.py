"""Fault injection, captions: whatever a plan's text holds, each caption format keeps every cue, at its time.

Text that looks like the format's own syntax (a timing line, ``<b>`` tags,
``{\\an8}`` overrides, LRC time tags) must stay text. Each format is read
back by a strict parser written here, and the SRT case from the field by
ffmpeg too: the same cues at the same times, the text shown as written.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.core.timeline import Cue, Timeline
from voicecoach.export import captions

SAFE = {"\uff1c": "<", "\uff1e": ">", "\uff5b": "{", "\uff5d": "}", "\uff3c": "\\", "\uff3b": "[", "\uff3d": "]"}
HOSTILE = st.one_of(
    st.sampled_from(
        [
            "00:00:00,000 --> 99:00:00,000",
            "00:00:00.000 --> 99:00:00.000",
            "-->",
            "<b>bold</b>",
            "<i>",
            '<font color="red">',
            "{\\an8}",
            "\\N",
            "[00:01.00]",
            "[ti:other]",
            "<00:02.00>",
            "&amp;",
            "&lt;",
            "1",
            "WEBVTT",
            "NOTE",
        ]
    ),
    st.text(alphabet="0123456789:,.-> <[]{}\\&abN/\n", max_size=40),
    st.text(max_size=20),
)
# The full-width stand-ins themselves are left out: a plan that has them shows them, which is all a caption can do.
TEXT = st.lists(HOSTILE, min_size=1, max_size=4).map(" ".join).map(lambda t: "".join(c for c in t if c not in SAFE))

SRT_TIME = re.compile(r"\d+:\d\d:\d\d[,.]\d{3} *--> *\d+:\d\d:\d\d[,.]\d{3}")
LRC_TIME = re.compile(r"[\[<]\d+:\d\d[.:]\d\d[\]>]")


def _shown(text: str) -> str:
    """The text as the captions show it: the full-width stand-ins read as what they stand for."""
    return "".join(SAFE.get(c, c) for c in text)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _timeline(texts: list[str]) -> Timeline:
    cues = tuple(Cue(float(i), i + 0.5, "setup", t) for i, t in enumerate(texts))
    return Timeline("Plan", float(len(texts) + 1), cues)


def parse_srt(text: str) -> list[tuple[str, list[str]]]:
    """Blocks of: a number, one timing line, then text lines that are neither timing lines nor markup."""
    blocks = []
    for block in text.strip("\n").split("\n\n"):
        number, timing, *body = block.split("\n")
        assert number.isdigit(), block
        assert SRT_TIME.fullmatch(timing), block
        for line in body:
            assert "-->" not in line and not re.search(r"<[a-zA-Z/]|\{\\|\\[Nnh]", line), line
        blocks.append((timing, body))
    return blocks


def parse_vtt(text: str) -> list[tuple[str, list[str]]]:
    head, *rest = text.rstrip("\n").split("\n\n")
    assert head == "WEBVTT"
    blocks = []
    for block in [b for b in rest if b.strip()]:
        timing, *body = block.split("\n")
        assert SRT_TIME.fullmatch(timing), block
        for line in body:
            assert "-->" not in line and "<" not in line, line
        body = [re.sub("&(lt|gt|amp);", lambda m: ENTITIES[m.group()], line) for line in body]
        blocks.append((timing, body))
    return blocks


def parse_lrc(text: str) -> list[tuple[str, str]]:
    """``[ti:...]`` and ``[length:...]``, then lines of exactly one leading time and no other time tag."""
    title, length, *lines = text.rstrip("\n").split("\n")
    assert re.fullmatch(r"\[ti:[^\[\]]*\]", title), title
    assert re.fullmatch(r"\[length:\d\d:\d\d\]", length), length
    got = []
    for line in lines:
        m = re.fullmatch(r"(\[\d\d:\d\d\.\d\d\])(.*)", line)
        assert m, line
        assert not LRC_TIME.search(m.group(2)) and "[" not in m.group(2) and "<" not in m.group(2), line
        got.append((m.group(1), m.group(2)))
    return got


ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_srt_keeps_every_cue_and_its_text(texts):
    tl = _timeline(texts)
    spoken = [c for c in tl.cues if c.text.strip()]
    blocks = parse_srt(captions.to_srt(tl)) if spoken else []
    assert len(blocks) == len(spoken)
    for (timing, body), cue in zip(blocks, spoken, strict=True):
        assert timing.startswith(captions.srt_timestamp(cue.start_s))
        assert [_shown(line) for line in body] == _lines(cue.text)


@FAST
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_vtt_keeps_every_cue_and_its_text(texts):
    tl = _timeline(texts)
    spoken = [c for c in tl.cues if c.text.strip()]
    blocks = parse_vtt(captions.to_vtt(tl))
    assert len(blocks) == len(spoken)
    for (timing, body), cue in zip(blocks, spoken, strict=True):
        assert timing.startswith(captions.vtt_timestamp(cue.start_s))
        assert body == _lines(cue.text)


@FAST
@given(st.lists(TEXT, min_size=1, max_size=5), TEXT)
def test_lrc_keeps_every_cue_and_its_text(texts, title):
    tl = _timeline(texts)
    tl = Timeline(title, tl.duration_s, tl.cues)
    spoken = [c for c in tl.cues if c.text.strip()]
    lines = parse_lrc(captions.to_lrc(tl))
    assert len(lines) == len(spoken)
    for (time, text), cue in zip(lines, spoken, strict=True):
        assert time == captions.lrc_timestamp(cue.start_s)
        assert _shown(text) == " ".join(_lines(cue.text))


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg reads the SRT back")
def test_ffmpeg_reads_every_srt_cue(tmp_path):
    """The case from the field: an instruction that is a timing line made ffmpeg lose that cue."""
    texts = ["Stand tall.", "00:00:00,000 --> 99:00:00,000", "Breathe out.", "<b>Push</b> {\\an8}up"]
    path = tmp_path / "c.srt"
    path.write_text(captions.to_srt(_timeline(texts)), encoding="utf-8")
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-f", "srt", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    blocks = parse_srt(out.stdout)
    assert [timing[:12] for timing, _ in blocks] == [captions.srt_timestamp(float(i)) for i in range(len(texts))]
    assert [_shown(" ".join(body)) for _, body in blocks] == texts
