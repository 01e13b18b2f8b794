"""Plain-text cue sheets (``show`` and the export's ``--transcript``), and the one clock format.

Both sheets walk the timeline the same way (:func:`walk`: chapter headings
before the first cue at or after their start) and differ only in layout.
Plain text, no colour: a screen reader reads every line cleanly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from voicecoach.core.timeline import Chapter, Cue, Timeline


def clock(seconds: float, *, tenths: bool = True, hours: bool = False) -> str:
    """``m:ss.s`` for a time in the session; ``h:mm:ss.s`` past an hour or with ``hours``;
    without ``tenths``, the same time without its tenths digit (``h:mm:ss``)."""
    t = max(0, round(seconds * 10))
    s, tenth = divmod(t, 10)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    text = f"{h}:{m:02d}:{s:02d}" if h or hours else f"{m}:{s:02d}"
    return f"{text}.{tenth}" if tenths else text


def format_clock(seconds: float) -> str:
    """``m:ss.s`` (or ``h:mm:ss.s``) for a time in the session."""
    return clock(seconds)


def format_duration(seconds: float) -> str:
    """E.g. ``27 min 48 s``."""
    total = round(seconds)
    m, s = divmod(total, 60)
    return f"{m} min {s} s" if m else f"{s} s"


def walk(cues: Sequence[Cue], chapters: Sequence[Chapter]) -> Iterator[Cue | Chapter]:
    """Cues in order, each chapter just before the first cue at or after its start;
    chapters with no cue of their own come last."""
    pending = sorted(chapters, key=lambda c: c.start_s)
    i = 0
    for cue in cues:
        while i < len(pending) and pending[i].start_s <= cue.start_s + 1e-9:
            yield pending[i]
            i += 1
        yield cue
    yield from pending[i:]


def render_sheet(timeline: Timeline) -> str:
    """``show``: one line per cue (time, kind, text); a heading line per chapter.

    The cue that opens a self-paced set is marked with the set's estimate.
    """
    paced = {p.start_s: p.duration_s for p in timeline.phases if p.self_paced}
    lines = [f"{timeline.title}"]
    seen = 0
    for item in walk(timeline.cues, list(timeline.chapters)):
        if isinstance(item, Chapter):
            if seen == len(timeline.cues):
                break  # show lists only chapters that have cues
            lines.append("")
            lines.append(f"== {item.title} ({format_clock(item.start_s)}) ==")
        else:
            seen += 1
            line = f"{format_clock(item.start_s):>9}  {item.kind:<9}  {item.text}"
            if item.kind == "start" and item.start_s in paced:
                line += f"  [own pace, about {format_duration(paced[item.start_s])}]"
            lines.append(line)
    lines.append("")
    return "\n".join(lines) + "\n"


def total_line(timeline: Timeline) -> str:
    """``show``'s last line: the session's length, called an estimate when sets go at their own pace."""
    if any(p.self_paced for p in timeline.phases):
        return f"Total: about {format_duration(timeline.duration_s)} (an estimate: some sets go at your own pace)"
    return f"Total: {format_duration(timeline.duration_s)}"


def one_line(text: str) -> str:
    """Text on one line (a blank line would end a caption block)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def render_transcript(timeline: Timeline) -> str:
    """``--transcript``: title, duration, then ``H:MM:SS  chapter`` headings over
    ``H:MM:SS.s  [kind]  text`` lines, for reading or printing."""
    cues = [c for c in timeline.cues if c.text.strip()]
    out = [timeline.title, f"Duration: {clock(timeline.duration_s, tenths=False, hours=True)}", ""]
    width = max((len(c.kind) for c in cues), default=0) + 2
    seen = 0
    for item in walk(cues, list(timeline.chapters)):
        if isinstance(item, Chapter):
            if out[-1] != "" and seen < len(cues):  # a blank line before headings with cues
                out.append("")
            out.append(f"{clock(item.start_s, tenths=False, hours=True)}  {item.title}")
        else:
            seen += 1
            kind = ("[" + item.kind + "]").ljust(width)
            out.append(f"  {clock(item.start_s, hours=True)}  {kind}  {one_line(item.text)}")
    return "\n".join(out).rstrip("\n") + "\n"
