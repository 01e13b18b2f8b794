"""Caption and transcript writers: WebVTT, SRT, LRC and a plain cue sheet.

One caption per spoken cue (a cue with non-empty text), with the cue's own
start and end.  Pure functions from a :class:`Timeline` to ``str``; export
decides where the text goes.

Times are rounded to the format's resolution (milliseconds for VTT/SRT,
hundredths for LRC) from the float seconds once, in one place, so a
caption never drifts from the audio by more than half a unit.

A plan's text never reads as the format's own syntax: a line such as
``00:00:00,000 --> 99:00:00,000`` must not become a timing line, nor ``<b>``
or ``{\an8}`` markup. VTT has entities for that (``&lt;``); SRT and LRC have
none that players agree on, so their few syntax characters are written as
their full-width forms (``＜`` for ``<``), which read the same.
"""

from __future__ import annotations

from collections.abc import Callable

from voicecoach.core.sheet import render_transcript
from voicecoach.core.timeline import Cue, Timeline

#: Caption formats by the file extension of their sidecar.
FORMATS = ("vtt", "srt", "lrc")


def _spoken(timeline: Timeline) -> list[Cue]:
    return [c for c in timeline.cues if c.text.strip()]


def _lines(text: str) -> list[str]:
    # A blank line ends a cue block in VTT and SRT, so captions never carry one.
    return [line.strip() for line in text.splitlines() if line.strip()]


def _hmsms(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def vtt_timestamp(seconds: float) -> str:
    """``HH:MM:SS.mmm`` (hours always present, so long sessions work)."""
    return _hmsms(seconds, ".")


def srt_timestamp(seconds: float) -> str:
    """``HH:MM:SS,mmm`` (SRT uses a comma before the milliseconds)."""
    return _hmsms(seconds, ",")


def lrc_timestamp(seconds: float) -> str:
    """``[MM:SS.xx]``; minutes keep counting past 59 (LRC has no hours field)."""
    cs = max(0, int(round(seconds * 100)))
    m, rest = divmod(cs, 6000)
    s, cs = divmod(rest, 100)
    return f"[{m:02d}:{s:02d}.{cs:02d}]"


def _span(cue: Cue) -> tuple[float, float]:
    # Both formats require end > start; a zero-length cue still gets 1 ms.
    start = max(0.0, cue.start_s)
    end = max(cue.end_s, start + 0.001)
    return start, end


def _vtt_escape(line: str) -> str:
    # '<' and '&' start markup in VTT; escaping '>' also rules out '-->'.
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# SRT: "<" tags (<b>, <font>), "{\...}" overrides and "\N" breaks (ffmpeg, VLC, mpv read them), and "-->"
# (which also needs ">"). LRC: "[mm:ss.xx]" times and tags, and "<mm:ss.xx>" word times (enhanced LRC).
_SRT_SAFE = str.maketrans({"<": "\uff1c", ">": "\uff1e", "{": "\uff5b", "}": "\uff5d", "\\": "\uff3c"})
_LRC_SAFE = str.maketrans({"[": "\uff3b", "]": "\uff3d", "<": "\uff1c", ">": "\uff1e"})


def _srt_escape(line: str) -> str:
    return line.translate(_SRT_SAFE)


def _lrc_escape(line: str) -> str:
    return line.translate(_LRC_SAFE)


def to_vtt(timeline: Timeline) -> str:
    """WebVTT captions: ``WEBVTT`` header, then one cue block per spoken cue."""
    out = ["WEBVTT", ""]
    for cue in _spoken(timeline):
        start, end = _span(cue)
        out.append(f"{vtt_timestamp(start)} --> {vtt_timestamp(end)}")
        out.extend(_vtt_escape(line) for line in _lines(cue.text))
        out.append("")
    return "\n".join(out)


def to_srt(timeline: Timeline) -> str:
    """SubRip captions: numbered blocks from 1, ``HH:MM:SS,mmm`` times."""
    out: list[str] = []
    for n, cue in enumerate(_spoken(timeline), start=1):
        start, end = _span(cue)
        out.append(str(n))
        out.append(f"{srt_timestamp(start)} --> {srt_timestamp(end)}")
        out.extend(_srt_escape(line) for line in _lines(cue.text))
        out.append("")
    return "\n".join(out)


def to_lrc(timeline: Timeline) -> str:
    """LRC "lyrics": ``[MM:SS.xx]text`` per spoken cue, with title/length tags.

    LRC has no end times: a line shows until the next one, which suits a
    coach (the last instruction stays on screen during a hold).
    """
    title = _lrc_escape(" ".join(_lines(timeline.title)))
    total = max(0, int(round(timeline.duration_s)))
    out = [f"[ti:{title}]", f"[length:{total // 60:02d}:{total % 60:02d}]"]
    for cue in _spoken(timeline):
        out.append(lrc_timestamp(_span(cue)[0]) + _lrc_escape(" ".join(_lines(cue.text))))
    return "\n".join(out) + "\n"


def to_transcript(timeline: Timeline) -> str:
    """A plain-text cue sheet (see :func:`voicecoach.core.sheet.render_transcript`)."""
    return render_transcript(timeline)


_WRITERS: dict[str, Callable[[Timeline], str]] = {"vtt": to_vtt, "srt": to_srt, "lrc": to_lrc}


def render(fmt: str, timeline: Timeline) -> str:
    """The captions of ``timeline`` in format ``fmt`` (one of :data:`FORMATS`)."""
    try:
        writer = _WRITERS[fmt.lower().lstrip(".")]
    except KeyError:
        raise ValueError(f"unknown caption format {fmt!r}; supported: {', '.join(FORMATS)}") from None
    return writer(timeline)
