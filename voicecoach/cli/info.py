"""The information commands: programs, check, voices, devices."""

from __future__ import annotations

import click

from voicecoach import programs
from voicecoach.cli.app import cli
from voicecoach.cli.common import FiniteFloatRange, voice_options, wake_sensitivity_option
from voicecoach.core import configrules
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


@cli.command("mic-check")
@voice_options
@click.option("--mic", metavar="DEVICE", default=configrules.default("mic"), help="Microphone: number or name.")
@click.option(
    "--wake-word",
    metavar="NAME|PATH",
    default=configrules.default("wake_word"),
    help='The wake word to check: "hey jarvis" (default), "okay nabu", "hey mycroft", "alexa", or a model file.',
)
@wake_sensitivity_option
@click.option("--device", metavar="DEVICE", help="Output device for the spoken prompts (number or name).")
@click.option("--takes", type=click.IntRange(1, 10), default=3, show_default=True, help="Times to say the wake word.")
@click.option(
    "--timeout",
    type=FiniteFloatRange(2, 60),
    default=8.0,
    show_default=True,
    metavar="SECONDS",
    help="How long each step listens for you before it goes on.",
)
def mic_check(
    voice, mic: str | None, wake_word: str | None, wake_sensitivity, device, takes: int, timeout: float
) -> None:
    """Check the microphone, the room and your voice for voice control (play --listen).

    Measures the room's noise floor, asks you to say the wake word a few times
    and reports how clearly each take was heard, then asks for a command and
    says what it understood. Warns when the room is too noisy or the microphone
    too quiet, proposes a --wake-sensitivity for your voice, and another wake
    word when one suits it better. Every prompt is spoken and printed as a
    whole line. Exit status 0: voice control should work; 8: it may not (see
    the warnings); 4: the listen extra or PortAudio is missing; 5: no microphone.
    """
    from voicecoach.errors import ExitStatus, visible
    from voicecoach.live.miccheck import CheckRequest, run_check

    request = CheckRequest(
        voice=voice,
        mic=mic,
        wake_word=wake_word,
        sensitivity=wake_sensitivity,
        device=device,
        takes=takes,
        timeout_s=timeout,
    )
    # A custom model's wake word is text from a file: never printed raw (control characters escaped).
    result = run_check(request, lambda line: click.echo(visible(line)))
    if not result.ok:  # its lines said why
        raise click.exceptions.Exit(int(ExitStatus.CHECK_FAILED))
