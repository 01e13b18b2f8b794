"""The information commands: programs, check, voices, devices."""

from __future__ import annotations

import click

from voicecoach import programs
from voicecoach.cli.app import cli
from voicecoach.core.phrases import plural
from voicecoach.core.schedule import build_timeline
from voicecoach.errors import DeviceError


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
    click.echo(f"{plan}: OK, {p.title}, {plural(len(p.exercises), 'exercise')}")


@cli.command()
def devices() -> None:
    """List sound output devices, then input devices (microphones, for --listen); * marks the defaults."""
    from voicecoach.live.devices import format_devices, list_input_devices, list_output_devices

    found = list_output_devices()
    if not found:
        raise DeviceError(
            "no sound output device found",
            hint="export the session to a file instead: voicecoach export PLAN -o session.mp3",
        )
    click.echo(format_devices(found))
    inputs = list_input_devices()
    if inputs:
        click.echo(format_devices(inputs))


@cli.command()
def voices() -> None:
    """List the installed voices: the system engine's, then piper's (when installed)."""
    from voicecoach.core.vocab import EngineName
    from voicecoach.errors import MissingDependencyError
    from voicecoach.speech.engine import engines

    registry = engines()
    found, problems = [], []
    for name in EngineName:
        engine = registry[name]
        try:
            if not engine.available():
                raise engine.missing_error()
            found += [(name, v) for v in engine.voices()]
        except MissingDependencyError as exc:
            problems.append(exc)
    if not found and problems:
        raise problems[0]
    for problem in problems:  # the other engine's voices still work
        click.echo(f"voicecoach: {problem.render()}", err=True)
    for name, v in found:
        langs = ", ".join(v.languages)
        click.echo(f"[{name}] {v.id}: {v.name}" + (f" ({langs})" if langs else ""))
