"""The command line: parse, call, report. Errors become messages in one place."""

from __future__ import annotations

import json
import sys
import traceback

import click

from voicecoach import __version__, programs
from voicecoach.errors import ExitStatus, VoicecoachError
from voicecoach.plan import LEVELS
from voicecoach.schedule import Options, build_timeline
from voicecoach.sheet import format_duration, render_sheet


class _Group(click.Group):
    """Turns every :class:`VoicecoachError` into a message and its exit code.

    Anything else is a bug: a short message, and a traceback only with --debug.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VoicecoachError as exc:
            click.echo(f"voicecoach: error: {exc.render()}", err=True)
            ctx.exit(int(exc.exit_status))
        except KeyboardInterrupt:
            click.echo("voicecoach: interrupted", err=True)
            ctx.exit(int(ExitStatus.INTERRUPTED))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly
            if ctx.find_root().params.get("debug"):
                traceback.print_exc()
            else:
                click.echo(f"voicecoach: internal error: {type(exc).__name__}: {exc}\n"
                           "Run again with --debug for details, and please report it.", err=True)
            ctx.exit(int(ExitStatus.ERROR))


plan_argument = click.argument("plan", metavar="PLAN", default=programs.DEFAULT_PROGRAM)
level_option = click.option(
    "--level", type=click.Choice(LEVELS), default="low", show_default=True,
    help="Where to sit in each range (2-3 sets, 10-15 reps): start low and build up.")
detailed_option = click.option("--detailed", is_flag=True, help="Also speak the longer first-time instructions.")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicecoach")
@click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")
def cli(debug: bool) -> None:
    """Hands-free voice coaching for home exercise sessions.

    PLAN is a built-in program (see `voicecoach programs`) or a YAML plan file.
    """


@cli.command("programs")
def programs_cmd() -> None:
    """List the built-in programs with their length."""
    for name in programs.builtin_names():
        plan = programs.load_builtin(name)
        minutes = build_timeline(plan).duration_s / 60
        click.echo(f"{name}: {plan.title}, {len(plan.exercises)} exercises, about {round(minutes)} minutes")
        if plan.description:
            click.echo(f"    {plan.description}")


@cli.command()
@click.argument("plan", metavar="PLAN")
def check(plan: str) -> None:
    """Check a plan file and report every problem in it."""
    p = programs.load(plan)
    click.echo(f"{plan}: OK, {p.title}, {len(p.exercises)} exercises")


@cli.command()
@plan_argument
@level_option
@detailed_option
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
def show(plan: str, level: str, detailed: bool, as_json: bool) -> None:
    """Print the cue sheet: when each cue is spoken, and the total length."""
    p = programs.load(plan)
    timeline = build_timeline(p, Options(level=level, detailed=detailed))
    if as_json:
        click.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_sheet(timeline), nl=False)
        click.echo(f"Total: {format_duration(timeline.duration_s)}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="voicecoach")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
