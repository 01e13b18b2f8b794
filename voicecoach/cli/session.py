"""The session commands: show the cue sheet, export a file, play live."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import click

from voicecoach import programs
from voicecoach.cli.app import cli
from voicecoach.cli.common import (
    FiniteFloatRange,
    _prepare,
    _progress_bar,
    _settings,
    detailed_option,
    level_option,
    plan_argument,
    voice_options,
)
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.core.sheet import format_duration, render_sheet
from voicecoach.errors import DeviceError, Interrupted


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
@click.option("--loudness", type=FiniteFloatRange(-40, -5), default=-16.0, show_default=True, metavar="LUFS",
              help="Integrated loudness target.")
@click.option("--no-earcons", is_flag=True, help="Speech only, without the start/stop/tick sounds.")
def export_cmd(plan: str, output: str, level: str, detailed: bool, engine, voice, rate, volume, language,
               captions: tuple[str, ...], transcript: bool, loudness: float, no_earcons: bool) -> None:
    """Export a whole session as an audio file, with chapters and captions."""
    from voicecoach.export.encode import export, format_for
    from voicecoach.render.session import session_level

    format_for(output)  # an unknown extension fails before any synthesis
    existed = os.path.lexists(output)
    try:
        prepared = _prepare(programs.load(plan), Options(level=level, detailed=detailed),
                            _settings(engine, voice, rate, volume, language))
        tags = {"title": prepared.plan.title, "album": prepared.plan.title, "artist": "voicecoach",
                "comment": f"level {level}; voice {prepared.speaker.describe()}"}
        reached = session_level(prepared, earcons=not no_earcons, target_lufs=loudness)  # what play uses too
        gain = reached.gain
        with _progress_bar("Exporting") as progress:
            result = export(prepared.timeline, prepared.clips, output, earcons=not no_earcons, gain=gain,
                            tags=tags, progress=progress, captions=captions, transcript=transcript,
                            inputs=[plan] if os.path.isfile(plan) else [])
    except KeyboardInterrupt:
        kept = f"; the earlier {output} is unchanged" if existed else ""
        raise Interrupted(f"Stopped before the export was finished: nothing was written{kept}.") from None
    chapters = len(prepared.timeline.chapters)
    click.echo(f"Wrote {result.path} ({format_duration(result.duration_s)}, {chapters} chapters)")
    if abs(reached.lufs - loudness) > 0.5:  # said, never silently off target (a nearly silent session)
        what = "silence" if reached.lufs == float("-inf") else f"{reached.lufs:.1f} LUFS"
        click.echo(f"Loudness: {what}, not the {loudness:g} LUFS asked for: the session is too quiet or too "
                   "short to raise that far.")
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
    from voicecoach.render.session import session_gain
    from voicecoach.store.progress import ProgressStore, plan_key

    store, key = ProgressStore(), plan_key(plan)
    started = False
    try:
        device_index = resolve_device(device)  # no device: a clear error before any work
        plan_obj = programs.load(plan)
        out = Output.auto(plain, quiet)
        options, notes = Options(level=level, detailed=detailed), []
        found = store.resume(key, plan_obj) if resume else None
        if found:
            options = replace(options, first_exercise=found[0], intro=found[1])  # the intro says where
        elif resume:
            notes.append("No saved place for this plan: starting from the beginning.")
        prepared = _prepare(plan_obj, options, _settings(engine, voice, rate, volume, language), quiet=quiet,
                            extra_texts=(*CONTROL_PHRASES, *notes))
        debug = bool(ctx.find_root().params.get("debug"))
        gain = session_gain(prepared, earcons=not no_earcons)
        with keyboard() as keys:
            inputs = Inputs([keys] if keys is not None else [], note=out.message)
            try:
                if not no_mpris:
                    _add_media_player(inputs, debug)
                coach = Coach(prepared, Player(device_index), out, inputs=inputs, store=store, plan_key=key,
                              notes=notes, earcons=not no_earcons, gain=gain)
                started = True  # from here every way out is the coach's: it saves the place and says so once
                coach.run()
            except DeviceError as exc:
                if not started:
                    raise
                raise DeviceError(f"{exc.message} The session stopped.",
                                  hint=f"Your place is saved: continue with voicecoach play {plan} --resume") from exc
            finally:
                inputs.close()  # gives up the media player name: media keys go back to other players
    except KeyboardInterrupt:
        if started:
            raise
        kept = " Your saved place is kept: continue with --resume." if store.load(key) is not None else ""
        raise Interrupted(f"Stopped before the session started.{kept}") from None
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
