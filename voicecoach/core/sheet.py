"""Plain-text cue sheets: readable on a terminal and by a screen reader."""

from __future__ import annotations

from voicecoach.core.timeline import Timeline


def format_clock(seconds: float) -> str:
    """``m:ss.s`` (or ``h:mm:ss.s``) for a time in the session."""
    tenths = round(seconds * 10)
    s, t = divmod(tenths, 10)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}.{t}" if h else f"{m}:{s:02d}.{t}"


def format_duration(seconds: float) -> str:
    """E.g. ``27 min 48 s``."""
    total = round(seconds)
    m, s = divmod(total, 60)
    return f"{m} min {s} s" if m else f"{s} s"


def render_sheet(timeline: Timeline) -> str:
    """One line per cue: time, kind, text; a heading line per chapter."""
    chapters = list(timeline.chapters)
    lines = [f"{timeline.title}"]
    for cue in timeline.cues:
        while chapters and chapters[0].start_s <= cue.start_s + 1e-9:
            ch = chapters.pop(0)
            lines.append("")
            lines.append(f"== {ch.title} ({format_clock(ch.start_s)}) ==")
        lines.append(f"{format_clock(cue.start_s):>9}  {cue.kind:<9}  {cue.text}")
    lines.append("")
    return "\n".join(lines) + "\n"
