"""The journal as a picture: pain before and after each session, and sessions per week.

matplotlib is optional (``pip install 'voicecoach[chart]'``) and imported only here, with
the Agg backend (no display needed). The picture is written atomically: a failure leaves
no half-written file and an earlier one untouched.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from voicecoach.atomic import write_atomic
from voicecoach.errors import MissingDependencyError, OutputError
from voicecoach.outputs import cannot_write, check_output

if TYPE_CHECKING:
    from voicecoach.store.rows import SessionRow

FORMATS = {".png": "png", ".svg": "svg"}


def check(target: str) -> str:
    """The chart's format for ``target``, once the path is known to be writable (raises OutputError)."""
    fmt = FORMATS.get(Path(target).suffix.lower())
    if fmt is None:
        raise OutputError(f"{target}: a chart is a .png or .svg file")
    check_output(target)  # a missing folder is refused, as for an export
    return fmt


def draw(sessions: list[SessionRow], target: str) -> None:
    """Draw ``sessions`` (journal rows, any order) to ``target`` (.png or .svg)."""
    path = Path(target)
    fmt = check(target)
    try:
        import matplotlib
    except ImportError:
        raise MissingDependencyError(
            "drawing a chart needs matplotlib",
            hint="pip install 'voicecoach[chart]' (or: pip install matplotlib); the text above has the same facts",
        ) from None
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = sorted(sessions, key=lambda s: (s.started_at, s.id))
    days = [date.fromisoformat(s.started_at[:10]) for s in rows]
    fig = Figure(figsize=(8, 6), layout="constrained")
    pain, weekly = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    for key, label, marker in (("pain_before", "pain before", "o"), ("pain_after", "pain after", "s")):
        points = [(d, getattr(s, key)) for d, s in zip(days, rows) if getattr(s, key) is not None]
        if points:
            pain.plot([d for d, _ in points], [p for _, p in points], marker=marker, label=label)
    pain.axhspan(5, 10, color="0.9", zorder=0, label="above 5: high")
    pain.set(ylim=(-0.5, 10.5), yticks=range(0, 11, 1), ylabel="knee pain (0-10)", title="Training journal")
    pain.legend(loc="upper right")
    weeks = Counter(d - timedelta(days=d.weekday()) for d in days)  # Monday of each week
    weekly.bar(list(weeks), list(weeks.values()), width=5, align="edge", color="0.4")
    weekly.set(ylabel="sessions a week")
    weekly.yaxis.get_major_locator().set_params(integer=True)
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Software": None} if fmt == "png" else {"Date": None})
    try:
        write_atomic(path, buf.getvalue(), durable=True, make_dirs=False)
    except OSError as exc:
        raise cannot_write(target, exc) from exc
