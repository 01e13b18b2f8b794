"""The session commands: show the cue sheet, export a file, play live."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from voicecoach import programs
from voicecoach.cli.app import ascii_json, cli
from voicecoach.cli.common import (
    FiniteFloatRange,
    _prepare,
    _progress_bar,
    _trim_cache,
    detailed_option,
    earcons_option,
    level_option,
    music_options,
    plan_argument,
    todays_options,
    voice_options,
    wake_sensitivity_option,
)
from voicecoach.core import configrules
from voicecoach.core.schedule import build_timeline
from voicecoach.core.sheet import format_duration, render_sheet, total_line
from voicecoach.errors import Interrupted

if TYPE_CHECKING:
    from voicecoach.render.music import MusicRequest
    from voicecoach.speech.speaker import SpeechSettings


@cli.command()
@plan_argument
@level_option
@detailed_option
@voice_options
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON.")
@click.option("--estimate", is_flag=True, help="Estimate speech lengths instead of using the voice.")
def show(plan: str, level: str, detailed: bool, voice: SpeechSettings, as_json: bool, estimate: bool) -> None:
    """Print the cue sheet: when each cue is spoken, and the total length.

    Times use the real lengths of the voice's clips (synthesized once, then
    cached), so they match `play` and `export` exactly. With --level auto the
    doses are the training journal's for the next session (shown, not stored).
    """
    plan_obj = programs.load(plan)
    today = todays_options(plan, plan_obj, level, detailed, commit=False)
    options = today.options
    for line in today.changes:
        click.echo(line, err=True)
    if estimate:
        timeline = build_timeline(plan_obj, options)
    else:
        timeline = _prepare(plan_obj, options, voice).timeline
    if as_json:
        click.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=ascii_json()))
    else:
        click.echo(render_sheet(timeline), nl=False)
        click.echo(total_line(timeline))


@cli.command("export")
@plan_argument
@click.option(
    "-o",
    "--output",
    required=True,  # no click.Path(dir_okay=False): a folder is "cannot write" (exit 6), as for every output
    help="Output file: .mp3, .ogg, .opus, .m4a, .m4b, .wav or .flac.",
)
@level_option
@detailed_option
@voice_options
@click.option(
    "--captions",
    type=click.Choice(["vtt", "srt", "lrc"]),
    multiple=True,
    help="Also write captions next to the audio (repeatable).",
)
@click.option("--transcript", is_flag=True, help="Also write a plain-text cue sheet (.txt).")
@click.option(
    "--loudness",
    type=FiniteFloatRange(-40, -5),
    default=configrules.default("loudness"),
    show_default=True,
    metavar="LUFS",
    help="Integrated loudness target.",
)
@earcons_option
@music_options
@click.option(
    "--split",
    is_flag=True,
    help="A file per exercise in a folder named after -o (walk/ for walk.mp3), gapless, with an .m3u8 playlist.",
)
def export_cmd(
    plan: str,
    output: str,
    level: str,
    detailed: bool,
    voice: SpeechSettings,
    captions: tuple[str, ...],
    transcript: bool,
    loudness: float,
    earcons: bool,
    music: MusicRequest | None,
    split: bool,
) -> None:
    """Export a whole session as an audio file, with chapters and captions (and music under it with --music)."""
    from voicecoach.export.encode import export, format_for, sidecar_path
    from voicecoach.outputs import check_output
    from voicecoach.render.prepare import prepare_measured, session_level

    format_for(output)  # an unknown extension fails before any synthesis
    inputs = [plan] if os.path.isfile(plan) else []
    written = output
    if split:  # a folder: ours to replace, or refused
        from voicecoach.export.split import check_folder, export_split, folder_for

        written = f"{folder_for(output)}{os.sep}"
        check_folder(folder_for(output), inputs)
    else:
        check_output(output)  # and every sidecar: whatever a path can rule out, before any work
        for ext in (*captions, *(["txt"] if transcript else [])):
            check_output(sidecar_path(output, ext))
    existed = os.path.lexists(written)
    try:
        plan_obj = programs.load(plan)
        today = todays_options(plan, plan_obj, level, detailed, commit=True)
        options = replace(today.options, for_file=True)  # a file cannot wait for "done"
        for line in today.changes:
            click.echo(line)
        with _progress_bar("Preparing voice") as update:
            # Every phrase (in the order heard, on both cores where the voice can), then the level.
            prepared, _ = prepare_measured(
                plan_obj,
                options,
                voice,
                earcons=earcons,
                target_lufs=loudness,
                progress=lambda done, total: update(done / total if total else 1.0),
            )
        _trim_cache(prepared)
        what = "doses from the training journal" if options.doses else f"level {options.level}"
        tags = {
            "title": prepared.plan.title,
            "album": prepared.plan.title,
            "artist": "voicecoach",
            "comment": f"{what}; voice {prepared.speaker.describe()}",
        }
        reached = session_level(prepared, earcons=earcons, target_lufs=loudness)  # what play uses too (cached)
        gain = reached.gain
        bed = None
        if music is not None:
            from voicecoach.render.bed import for_session

            bed = for_session(
                prepared.timeline,
                music.tracks,
                target_lufs=loudness,
                volume_db=music.volume_db,
                duck_db=music.duck_in_effect,
                earcons=earcons,
            )
        with _progress_bar("Exporting") as progress:
            result = (export_split if split else export)(
                prepared.timeline,
                prepared.clips,
                output,
                earcons=earcons,
                gain=gain,
                tags=tags,
                progress=progress,
                captions=captions,
                transcript=transcript,
                inputs=inputs,
                bed=bed,
            )
    except KeyboardInterrupt:
        kept = f"; the earlier {written} is unchanged" if existed else ""
        raise Interrupted(f"Stopped before the export was finished: nothing was written{kept}.") from None
    chapters = len(prepared.timeline.chapters)
    if split:  # one line: a file per exercise, its playlist (and each file's captions)
        extra = "".join(f", {ext} captions" for ext in dict.fromkeys(captions)) + (
            ", transcripts" if transcript else ""
        )
        click.echo(
            f"Wrote {written} ({format_duration(result.duration_s)}, {len(result.files)} files, "
            f"{result.sidecars[0].name}{extra})"
        )
    else:
        click.echo(f"Wrote {result.path} ({format_duration(result.duration_s)}, {chapters} chapters)")
    if abs(reached.lufs - loudness) > 0.5:  # said, never silently off target (a nearly silent session)
        what = "silence" if reached.lufs == float("-inf") else f"{reached.lufs:.1f} LUFS"
        click.echo(
            f"Loudness: {what}, not the {loudness:g} LUFS asked for: the session is too quiet or too "
            "short to raise that far."
        )
    for side in () if split else result.sidecars:
        click.echo(f"Wrote {side}")


@cli.command()
@plan_argument
@level_option
@detailed_option
@voice_options
@click.option("--device", metavar="DEVICE", help="Output device number or name (see `voicecoach devices`).")
@click.option("--resume", is_flag=True, help="Continue at the exercise where the last session of this plan stopped.")
@click.option(
    "--plain",
    is_flag=True,
    help="One plain line per spoken cue (also when output is not a terminal, or with ACCESSIBLE or TERM=dumb set).",
)
@click.option("--quiet", is_flag=True, help="Print nothing; only speak.")
@earcons_option
@click.option(
    "--mpris/--no-mpris",
    default=configrules.default("mpris"),
    show_default=True,
    help="Appear as a media player (headset buttons, media keys, playerctl) on Linux.",
)
@click.option(
    "--no-check-in",
    is_flag=True,
    help="Ask no questions before and after the session (pain, next morning, warning signs).",
)
@click.option(
    "--listen/--no-listen",
    default=configrules.default("listen"),
    show_default=True,
    help='Voice control: say the wake word, then a command ("hey jarvis, pause"). Offline.',
)
@click.option(
    "--mic",
    metavar="DEVICE",
    default=configrules.default("mic"),
    help="Microphone for --listen: number or name (see `voicecoach devices`).",
)
@click.option(
    "--wake-word",
    metavar="NAME|PATH",
    default=configrules.default("wake_word"),
    help='Wake word for --listen: "hey jarvis" (default), "okay nabu", "hey mycroft", "alexa", '
    "or a microWakeWord model file (.json).",
)
@wake_sensitivity_option
@click.option(
    "--remote/--no-remote",
    default=configrules.default("remote"),
    show_default=True,
    help="The phone as a remote: print the address (and a QR code) of a private page on the local network.",
)
@click.option(
    "--remote-host",
    metavar="ADDRESS",
    help="The address (or network interface) the phone page is served on (default: a guess of the local network's).",
)
@click.option(
    "--remote-port",
    type=click.IntRange(0, 65535),
    default=0,
    metavar="PORT",
    help="The phone page's port (default 0: any free port).",
)
@music_options
@click.pass_context
def play(
    ctx: click.Context,
    plan: str,
    level: str,
    detailed: bool,
    voice: SpeechSettings,
    device,
    resume: bool,
    plain: bool,
    quiet: bool,
    earcons: bool,
    mpris: bool,
    no_check_in: bool,
    listen: bool,
    mic: str | None,
    wake_word: str | None,
    wake_sensitivity: str | float,
    remote: bool,
    remote_host: str | None,
    remote_port: int,
    music: MusicRequest | None,
) -> None:
    """Coach a session live on the speakers, controlled with single keys,
    headset buttons, media keys and (with --listen) your voice.

    Keys: space pause/resume, n or right arrow next exercise, p or left arrow
    back to the start of this exercise, r repeat the instruction, + and - add
    or take 15 s off the current hold or rest, x it hurts, q quit, ? the keys.
    Check-in questions are answered with 0-9 (t for 10), y or n; s skips.
    On Linux the session is also a media player: play/pause, next, previous
    and stop from a headset, the media keys or playerctl. With --remote a
    phone on the same network is a remote too (docs/remote.md). With --music
    your own music plays under the coach, lowered ahead of every cue (docs/live.md).
    """
    from voicecoach.live.launch import LiveRequest, run_live

    # --mic, --wake-word or --wake-sensitivity on the command line mean "listen" (from the config file they
    # only choose).
    given = {
        n
        for n in ("mic", "wake_word", "wake_sensitivity")
        if ctx.get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE
    }
    debug = bool(ctx.find_root().params.get("debug"))
    # --remote-host or --remote-port on the command line mean "remote" (as --mic means "listen").
    asked = {
        n
        for n in ("remote_host", "remote_port")
        if ctx.get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE
    }
    served = _remote_address(remote_host) if remote or asked else None
    request = LiveRequest(
        plan=plan,
        voice=voice,
        level=level,
        detailed=detailed,
        device=device,
        resume=resume,
        plain=plain,
        quiet=quiet,
        earcons=earcons,
        mpris=mpris,
        check_in=not no_check_in,
        listen=listen or bool(given),
        mic=mic,
        wake_word=wake_word,
        wake_sensitivity=wake_sensitivity,
        remote=(served[0], remote_port) if served else None,
        remote_note=served[1] if served else "",
        debug=(lambda line: click.echo(line, err=True)) if debug else None,
        music=music,
    )
    result = run_live(request)
    if result.underruns:
        click.echo(
            f"voicecoach: {result.underruns} audio underruns: the computer was too busy and sound had gaps.", err=True
        )


def _remote_address(wanted: str | None) -> tuple[str, str]:
    """The address the phone page is served on, and (when it was guessed among several) one line of the others."""
    from voicecoach.control.remote import hosts

    found = hosts.candidates()
    try:
        chosen = hosts.choose(found, wanted, hosts.route_address())
    except hosts.HostError as exc:
        raise click.BadParameter(str(exc), param_hint="'--remote-host'") from None
    others = [c for c in found if c.address != chosen.address and not c.address.startswith("127.")]
    return chosen.address, ("" if wanted or not others else f"Not the right network? {hosts.listing(found)}")
