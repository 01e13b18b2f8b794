"""The root command, and the one place where errors become messages and exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import click

from voicecoach import __version__
from voicecoach.errors import ExitStatus, VoicecoachError


class _Group(click.Group):
    """Turns every :class:`VoicecoachError` into a message and its exit code.

    Anything else is a bug: a short message, and a traceback only with --debug.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VoicecoachError as exc:
            click.echo(f"voicecoach: error: {exc.render()}", err=True)
            ctx.exit(int(exc.exit_status))
        except BrokenPipeError:
            # Output piped into e.g. `head`, which closed early: not an error.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(int(ExitStatus.OK))
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicecoach")
@click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")
def cli(debug: bool) -> None:
    """Hands-free voice coaching for home exercise sessions.

    PLAN is a built-in program (see `voicecoach programs`) or a YAML plan file.
    """




def _register() -> None:
    # The commands live in modules by topic; importing them adds them to ``cli``.
    from voicecoach.cli import info, journal, session  # noqa: F401


def _terminate(signum: int, frame: object) -> None:
    # A polite kill (SIGTERM, a closed terminal's SIGHUP) unwinds like Ctrl-C, so an
    # export removes its temporary file and a live session saves its place.
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    import signal

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _terminate)
    _register()
    cli(prog_name="voicecoach")


