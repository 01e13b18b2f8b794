"""The journal command: recent sessions, the advice in force, logging a session done elsewhere."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from voicecoach import programs
from voicecoach.cli.app import ascii_json, cli
from voicecoach.core import phrases
from voicecoach.errors import VoicecoachError

if TYPE_CHECKING:
    from voicecoach.store.rows import ExerciseRow, SessionRow

NOT_ADVICE = (
    "voicecoach is not medical advice: the rules follow published guidance, but only a "
    "physiotherapist or doctor who knows your knee can tell what is right for you."
)
SUMMARY_DAYS = 14


def _open():
    """The journal, or a clear error (nothing is changed)."""
    from voicecoach.store.journal import JournalUnavailable
    from voicecoach.store.training import open_journal

    try:
        return open_journal()
    except JournalUnavailable as exc:
        raise VoicecoachError(str(exc), hint="the journal file is left as it is") from exc


def _status(session: SessionRow, exercises: list[ExerciseRow]) -> str:
    """done, partial, not done (red flag), not started."""
    if session.source == "logged":
        return "partial" if session.ended_early else "done"
    if not exercises:
        return "not done (warning signs)" if session.red_flag else "not started"
    done = all(e.status == "done" for e in exercises) and not session.ended_early
    return "done" if done else "partial"


def _pain(v: int | None) -> str:
    return "?" if v is None else str(v)


def _collect(journal, count: int) -> dict[str, Any]:
    """Everything the listing shows, as plain data (the --json document)."""
    from voicecoach.core.plan import ExerciseDose
    from voicecoach.core.progression import weekly_averages
    from voicecoach.store.training import advice_for

    today = date.today()
    sessions = []
    for s in journal.recent(count):
        exercises = journal.exercises_of(s.id)
        sessions.append(
            {
                "id": s.id,
                "started_at": s.started_at,
                "plan": s.plan_key,
                "plan_title": s.plan_title,
                "plan_hash": s.plan_hash,
                "source": s.source,
                "status": _status(s, exercises),
                "pain_before": s.pain_before,
                "pain_after": s.pain_after,
                "back_to_usual_next_morning": None if s.settled is None else bool(s.settled),
                "warning_signs": None if s.red_flag is None else bool(s.red_flag),
                "ended_early": bool(s.ended_early),
                "exercises": [asdict(e) for e in exercises],
                "controls": [c.action for c in journal.controls_of(s.id)],
                "dose_changes": [],
            }
        )
    by_id = {s["id"]: s for s in sessions}
    previous: dict[tuple[str, str], dict[str, Any]] = {}
    for d in journal.doses.dose_log():
        k = (d.plan_key, d.exercise)
        old = previous.get(k)
        previous[k] = d.dose
        target = by_id.get(d.session_id)
        if target is None or d.change not in ("progress", "back off") or old is None:
            continue
        text = phrases.dose_change(
            d.exercise, ExerciseDose(**old), ExerciseDose(**d.dose), d.change, d.rule, today=False
        )
        target["dose_changes"].append(
            {"exercise": d.exercise, "change": d.change, "rule": d.rule, "dose": d.dose, "text": text}
        )
    plans = list(dict.fromkeys(s["plan"] for s in sessions))
    advice = {
        p: [{"rule": a.rule, "message": a.message} for a in advice_for(journal, p, today, before_today=False)]
        for p in plans
    }
    current = {p: {k[1]: v for k, v in previous.items() if k[0] == p} for p in plans}
    window = [s for s in journal.recent(10_000, since=today - timedelta(days=SUMMARY_DAYS - 1))]
    done = [s for s in window if s.source == "logged" or journal.exercises_of(s.id)]
    full = [s for s in done if _status(s, journal.exercises_of(s.id)) == "done"]
    weeks = weekly_averages([(date.fromisoformat(s.started_at[:10]), s.pain_before) for s in window], today)
    return {
        "sessions": sessions,
        "current_doses": current,
        "advice": advice,
        "summary": _summary(len(done), len(full), weeks[:2]),
        "not_medical_advice": NOT_ADVICE,
    }


def _summary(done: int, full: int, weeks: list[float | None]) -> str:
    """ "9 sessions in the last two weeks, 8 of them in full; pain before sessions from 5 to 3."""
    if not done:
        return "No sessions in the last two weeks."
    text = f"{done} session{'s' if done != 1 else ''} in the last two weeks, {full} of them in full"
    fmt = [None if w is None else f"{w:.1f}".rstrip("0").rstrip(".") for w in weeks]
    if len(fmt) == 2 and fmt[0] is not None and fmt[1] is not None:
        text += f"; pain before sessions from {fmt[1]} (the week before) to {fmt[0]} (this week)"
    elif fmt and fmt[0] is not None:
        text += f"; pain before sessions {fmt[0]} on average this week"
    return text + "."


def _text(doc: dict[str, Any]) -> str:
    lines = []
    if not doc["sessions"]:
        lines.append(
            "The journal is empty: a session played with `voicecoach play`, or logged with "
            "`voicecoach journal add PLAN`, appears here."
        )
    else:
        lines.append("Recent sessions, newest first:")
    for s in doc["sessions"]:
        when = s["started_at"][:16].replace("T", " ")
        settled = {True: "; next morning: as usual", False: "; next morning: not as usual", None: ""}[
            s["back_to_usual_next_morning"]
        ]
        how = " (logged)" if s["source"] == "logged" else ""
        lines.append(
            f"{when}  {s['plan']}  {s['status']}{how}; pain {_pain(s['pain_before'])} -> "
            f"{_pain(s['pain_after'])}{settled}"
        )
        hurt = [e["name"] for e in s["exercises"] if e["hurt"]]
        if hurt:
            lines.append(f"    it hurt: {', '.join(hurt)}")
        lines += [f"    {c['text']}" for c in s["dose_changes"]]
    for plan, advice in doc["advice"].items():
        if advice:
            lines.append(f"Advice in force ({plan}):")
            lines += [f"  - {a['message']}" for a in advice]
    lines += [f"Summary: {doc['summary']}", doc["not_medical_advice"]]
    return "\n".join(lines)


CSV_FIELDS = (
    "date",
    "time",
    "plan",
    "source",
    "status",
    "pain_before",
    "pain_after",
    "back_to_usual_next_morning",
    "warning_signs",
    "ended_early",
    "exercises_done",
    "exercises_logged",
    "dose_changes",
)


def _csv(doc: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for s in doc["sessions"]:
        yes_no = {True: "yes", False: "no", None: ""}
        w.writerow(
            [
                s["started_at"][:10],
                s["started_at"][11:16],
                s["plan"],
                s["source"],
                s["status"],
                _blank(s["pain_before"]),
                _blank(s["pain_after"]),
                yes_no[s["back_to_usual_next_morning"]],
                yes_no[s["warning_signs"]],
                yes_no[s["ended_early"]],
                sum(1 for e in s["exercises"] if e["status"] == "done"),
                len(s["exercises"]),
                "; ".join(c["text"] for c in s["dose_changes"]),
            ]
        )
    return buf.getvalue()


def _blank(v: int | None) -> str:
    return "" if v is None else str(v)


@cli.group("journal", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="The sessions, doses and advice as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="One line per session as CSV (for a physiotherapist).")
@click.option(
    "--chart",  # no click.Path(dir_okay=False): a folder is voicecoach's "cannot write" (exit 6), not a usage error
    metavar="FILE",
    help="Also draw pain before and after, and sessions per week, to FILE.png or FILE.svg "
    "(needs matplotlib: pip install 'voicecoach[chart]').",
)
@click.option(
    "-n",
    "--sessions",
    "count",
    type=click.IntRange(1, 10_000),
    default=10,
    show_default=True,
    help="How many recent sessions to list.",
)
@click.pass_context
def journal_cmd(ctx: click.Context, as_json: bool, as_csv: bool, chart: str | None, count: int) -> None:
    """The training journal: recent sessions (date, plan, done or partial, pain
    before -> after, dose changes), the advice in force, and a summary.

    Subcommands log what happened outside a live session: `journal add PLAN`
    (a session done with an exported file), `journal settled yes|no` (was the
    knee back to its usual by the next morning?).
    """
    if ctx.invoked_subcommand is not None:
        return
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    if chart:
        from voicecoach.cli.chart import check

        check(chart)  # before anything is printed
    with _open() as journal:
        doc = _collect(journal, count)
        series = journal.recent(10_000) if chart else []
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=ascii_json()))
    elif as_csv:
        click.echo(_csv(doc), nl=False)
    else:
        click.echo(_text(doc))
    if chart:
        from voicecoach.cli.chart import draw

        draw(series, chart)
        click.echo(f"Wrote {chart}", err=as_json or as_csv)


@journal_cmd.command("add")
@click.argument("plan", metavar="PLAN")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="When the session was done (default: today).",
)
@click.option("--pain-before", type=click.IntRange(0, 10), metavar="0-10", help="Knee pain before the session.")
@click.option("--pain-after", type=click.IntRange(0, 10), metavar="0-10", help="Knee pain right after it.")
@click.option("--partial", is_flag=True, help="Not all of it was done.")
@click.option("--settled", type=click.Choice(["yes", "no"]), help="Was the knee back to its usual by the next morning?")
def journal_add(
    plan: str, day: datetime | None, pain_before: int | None, pain_after: int | None, partial: bool, settled: str | None
) -> None:
    """Log a session done elsewhere (with an exported file), at the journal's
    doses, so progression works without a live session."""
    from voicecoach.programs import plan_key
    from voicecoach.store.training import decide_doses, dose_dict, plan_hash, record_doses

    when = day.date() if day else date.today()
    if when > date.today():
        raise click.BadParameter(f"{when.isoformat()} is in the future", param_hint="'--date'")
    plan_obj = programs.load(plan)  # an unknown plan fails before the journal is touched
    key = plan_key(plan)
    with _open() as journal:
        doses = decide_doses(journal, key, plan_obj, when)
        status = "partial" if partial else "done"
        sid = journal.add_logged_session(
            key,
            plan_obj.title,
            plan_hash(plan_obj),
            when,
            pain_before,
            pain_after,
            partial,
            None if settled is None else settled == "yes",
            [
                {"name": ex.name, "dose": dose_dict(d.dose), "status": status}
                for ex, d in zip(plan_obj.exercises, doses.decisions)
            ],
        )
        record_doses(journal, key, doses, sid)
        after = decide_doses(journal, key, plan_obj, date.today() + timedelta(days=1))
    words = {"yes": "; next morning: as usual", "no": "; next morning: not as usual", None: ""}[settled]
    click.echo(
        f"Logged {plan_obj.title} ({key}) on {when.isoformat()}: {status}; "
        f"pain {_pain(pain_before)} -> {_pain(pain_after)}{words}."
    )
    for line in doses.changes(today=False):
        click.echo(f"This session: {line}")
    for line in after.changes(today=False):
        click.echo(f"Next session: {line}")
    if settled is None:
        click.echo("Tomorrow morning, tell the journal how your knee is: voicecoach journal settled yes|no")


@journal_cmd.command("settled")
@click.argument("answer", type=click.Choice(["yes", "no"]))
def journal_settled(answer: str) -> None:
    """Answer for the last session: was the knee back to its usual by the next morning?"""
    with _open() as journal:
        sid = journal.set_settled(answer == "yes", overwrite=True)
        session = next((s for s in journal.recent(10_000) if s.id == sid), None) if sid else None
    if session is None:
        raise VoicecoachError(
            "there is no session in the journal to answer for yet",
            hint="play one with `voicecoach play`, or log one with `voicecoach journal add PLAN`",
        )
    how = "was back to its usual" if answer == "yes" else "was not back to its usual"
    click.echo(
        f"Noted: after the session of {session.started_at[:10]} ({session.plan_key}), "
        f"your knee {how} by the next morning."
    )
