"""The root command, and the one place where errors become messages and exit codes."""

from __future__ import annotations

import errno
import os
import sys
import traceback
from typing import Any

import click

from voicecoach import __version__
from voicecoach.errors import ExitStatus, Interrupted, VoicecoachError


class _Group(click.Group):
    """Turns every :class:`VoicecoachError` into a message and its exit code.

    Anything else is a bug: a short message, and a traceback only with --debug.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Interrupted as exc:  # a command that says what stopping meant for it
            click.echo(f"voicecoach: {exc.render()}", err=True)
            ctx.exit(int(exc.exit_status))
        except VoicecoachError as exc:
            click.echo(f"voicecoach: error: {exc.render()}", err=True)
            ctx.exit(int(exc.exit_status))
        except BrokenPipeError:
            # Output piped into e.g. `head`, which closed early: not an error.
            _stdout_to_null()
            ctx.exit(int(ExitStatus.OK))
        except KeyboardInterrupt:
            click.echo(f"voicecoach: {STOPPED}", err=True)
            ctx.exit(int(ExitStatus.INTERRUPTED))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as exc:
            if not _output_stream_failed(exc):
                self._internal(ctx, exc)
            # stdout is a full disk, over `ulimit -f` or a dead device (`> /dev/full`): the user's problem,
            # said plainly, with the exit status of any other output that cannot be written.
            from voicecoach.outputs import reason

            _stdout_to_null()
            click.echo(f"voicecoach: error: cannot write the output: {reason(exc)}.", err=True)
            ctx.exit(int(ExitStatus.OUTPUT))
        except Exception as exc:  # a bug: say so plainly
            self._internal(ctx, exc)

    @staticmethod
    def _internal(ctx: click.Context, exc: BaseException) -> None:
        if ctx.find_root().params.get("debug"):
            traceback.print_exception(exc)
        else:
            click.echo(
                f"voicecoach: internal error: {type(exc).__name__}: {exc}\n"
                "Run again with --debug for details, and please report it.",
                err=True,
            )
        ctx.exit(int(ExitStatus.ERROR))


STOPPED = "Stopped."


def _output_stream_failed(exc: OSError) -> bool:
    """Whether ``exc`` is a write to stdout failing (a full disk, a dead device), not a bug.

    Every file voicecoach opens itself reports its errors with a file name
    (and exports map them to OutputError); a write to an already open stream
    fails without one.
    """
    return exc.filename is None and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG)


def _stdout_to_null() -> None:
    """Point stdout at /dev/null, dropping what could not be written, so exit does not complain again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
        if sys.stdout is not None:
            sys.stdout = open(1, "w", closefd=False)  # the old object still holds the unwritable bytes
    except OSError:
        pass


def _showable_output() -> None:
    """Print what the output's encoding can show (``PYTHONIOENCODING=latin-1``, a Latin-1 terminal).

    A plan's names may hold emoji or any script: a character the encoding
    lacks is written as an escape (``\\U0001f3cb``) instead of ending the
    command with UnicodeEncodeError. stderr already does this by default.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            try:
                reconfigure(errors="backslashreplace")
            except (OSError, ValueError):
                pass


def ascii_json() -> bool:
    """Whether JSON must escape every non-ASCII character: stdout's encoding is not a Unicode one.

    JSON's own ``\\uXXXX`` escapes keep it valid where the text escapes would not.
    """
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("-", "").replace("_", "")
    return not encoding.startswith(("utf", "ucs"))


def _standard_fds() -> None:
    """Give a closed stdin, stdout or stderr (``voicecoach show >&-``) /dev/null.

    Python then sets ``sys.stdout`` to None (click and our progress bar would
    fail), and the next file opened would take fd 1 and receive our output.
    """
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
            except OSError:
                continue
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, closefd=False))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicecoach")
@click.option(
    "--debug",
    is_flag=True,
    help="Show a traceback for internal errors, and the sound and voice libraries' own messages.",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Hands-free voice coaching for home exercise sessions.

    PLAN is a built-in program (see `voicecoach programs`) or a YAML plan file.
    Defaults for the long options come from the config file (`voicecoach config`).

    Screen readers: with ACCESSIBLE set (any value), TERM=dumb, or output that is
    not a terminal, `play` prints whole plain lines (as --plain), nothing redrawn
    and no escape sequences, and no progress bar is drawn. The only colour is the
    phone remote's QR code, never with NO_COLOR set: NO_COLOR is always honoured.

    Docs: README.md and the docs/ pages in the source (docs/index.md lists them).
    """
    from voicecoach import quiet
    from voicecoach.cli.common import apply_config

    quiet.set_verbose(debug)  # --debug also lets ALSA and onnxruntime print their own messages
    if ctx.invoked_subcommand in ("play", "devices", "mic-check"):  # the commands that load PortAudio
        quiet.c_stderr_to_null()
    apply_config(ctx)  # before the command's options are parsed: they take their defaults from it


def main() -> None:
    """Console-script entry point."""
    from voicecoach import interrupts

    _standard_fds()
    _showable_output()
    # SIGTERM and SIGHUP unwind like Ctrl-C; an inherited "ignore" (nohup) stays.
    interrupts.install()
    cli(prog_name="voicecoach")
