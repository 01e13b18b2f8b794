"""The session commands: show the cue sheet, export a file, play live."""

from __future__ import annotations

import json
from dataclasses import replace

import click

from voicecoach import programs
from voicecoach.cli.app import cli
from voicecoach.cli.common import (
    _prepare,
    _progress_bar,
    _settings,
    detailed_option,
    level_option,
    plan_argument,
    voice_options,
)
from voicecoach.core.phrases import KEYS_HINT, NO_SAVED_PLACE
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.core.sheet import format_duration, render_sheet
from voicecoach.errors import DeviceError


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
    from voicecoach.export.encode import export, format_for
    from voicecoach.render.session import prepare_measured

    format_for(output)  # an unknown extension fails before any synthesis
    plan_obj = programs.load(plan)
    with _progress_bar("Preparing voice") as update:
        # Every phrase, and the level (the one play uses too), measured while the voice speaks.
        prepared, gain = prepare_measured(plan_obj, Options(level=level, detailed=detailed),
                                          _settings(engine, voice, rate, volume, language),
                                          earcons=not no_earcons, target_lufs=loudness,
                                          progress=lambda done, total: update(done / total if total else 1.0))
    tags = {"title": prepared.plan.title, "album": prepared.plan.title, "artist": "voicecoach",
            "comment": f"level {level}; voice {prepared.speaker.describe()}"}
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
@click.option("--no-mpris", is_flag=True,
              help="Do not appear as a media player (headset buttons, media keys, playerctl) on Linux.")
@click.pass_context
def play(ctx: click.Context, plan: str, level: str, detailed: bool, engine, voice, rate, volume, language, device,
         resume: bool, plain: bool, quiet: bool, no_earcons: bool, no_mpris: bool) -> None:
    """Coach a session live on the speakers, controlled with single keys,
    headset buttons and media keys.

    Keys: space pause/resume, n or right arrow next exercise, p or left arrow
    back to the start of this exercise, r repeat the instruction, + and - add
    or take 15 s off the current hold or rest, q quit, ? the keys. On Linux
    the session is also a media player: play/pause, next, previous and stop
    from a headset, the media keys or playerctl.
    """
    from voicecoach.control.inputs import Inputs
    from voicecoach.control.keys import keyboard
    from voicecoach.live.coach import CONTROL_PHRASES, Coach
    from voicecoach.live.devices import resolve_device
    from voicecoach.live.player import Player
    from voicecoach.live.status import Output
    from voicecoach.render.session import LiveStart, live_gain
    from voicecoach.store.progress import ProgressStore, plan_key

    plan_obj = programs.load(plan)
    out = Output.auto(plain, quiet)
    store, key = ProgressStore(), plan_key(plan)
    options, notes = Options(level=level, detailed=detailed), []
    found = store.resume(key, plan_obj) if resume else None
    if found:
        options = replace(options, first_exercise=found[0], intro=found[1])  # the intro says where
    elif resume:
        notes.append(NO_SAVED_PLACE)
    debug = bool(ctx.find_root().params.get("debug"))
    with keyboard() as keys:
        said = [*notes, *([KEYS_HINT] if keys is not None else [])]  # what the coach says before the session
        # The voice starts at once (loading a neural model takes a moment) and makes the first words while
        # the sound device is found; the rest is synthesized in the background, ahead of the session.
        live = LiveStart(plan_obj, options, _settings(engine, voice, rate, volume, language), first=said,
                         later=CONTROL_PHRASES, earcons=not no_earcons)
        try:
            device_index = resolve_device(device)  # no device: a clear error before any sound
            prepared = live.prepared()
            gain = live_gain(prepared, said, earcons=not no_earcons)  # kept for the whole session
            inputs = Inputs([keys] if keys is not None else [], note=out.message)
            if not no_mpris:
                _add_media_player(inputs, debug)
            coach = Coach(prepared, Player(device_index), out, inputs=inputs, store=store, plan_key=key,
                          notes=notes, earcons=not no_earcons, gain=gain)
            try:
                coach.run()
            except DeviceError as exc:
                raise DeviceError(f"{exc.message} The session stopped.",
                                  hint=f"Your place is saved: continue with voicecoach play {plan} --resume") from exc
            finally:
                inputs.close()  # gives up the media player name: media keys go back to other players
        finally:
            live.close()  # stops the background synthesis (and a level still being measured)
    if coach.underruns:
        click.echo(f"voicecoach: {coach.underruns} audio underruns: the computer was too busy and sound had gaps.",
                   err=True)


def _add_media_player(inputs, debug: bool) -> None:
    """Appear as an MPRIS2 media player while the session runs (Linux, with a session bus).

    Without a bus (SSH, a server, CI) it is silently off; --debug says why.
    """
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        from voicecoach.control import mpris
    except ImportError as exc:  # jeepney missing: a broken install, not the user's session
        if debug:
            click.echo(f"voicecoach: media buttons are off: {exc}", err=True)
        return
    source = mpris.MprisSource.connect(identity="voicecoach")
    if source is None:
        if debug:
            click.echo(f"voicecoach: media buttons are off: {mpris.last_error}", err=True)
        return
    inputs.add(source)
