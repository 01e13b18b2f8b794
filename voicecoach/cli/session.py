"""The session commands: show the cue sheet, export a file, play live."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from voicecoach import programs
from voicecoach.cli.app import cli
from voicecoach.cli.common import (
    FiniteFloatRange,
    _prepare,
    _progress_bar,
    _trim_cache,
    detailed_option,
    earcons_option,
    level_option,
    plan_argument,
    todays_options,
    voice_options,
)
from voicecoach.core import configrules, phrases
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.core.sheet import format_duration, render_sheet
from voicecoach.errors import DeviceError, Interrupted

if TYPE_CHECKING:
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
        click.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_sheet(timeline), nl=False)
        click.echo(f"Total: {format_duration(timeline.duration_s)}")


@cli.command("export")
@plan_argument
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
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
) -> None:
    """Export a whole session as an audio file, with chapters and captions."""
    from voicecoach.export.encode import export, format_for
    from voicecoach.render.prepare import prepare_measured, session_level

    format_for(output)  # an unknown extension fails before any synthesis
    existed = os.path.lexists(output)
    try:
        plan_obj = programs.load(plan)
        today = todays_options(plan, plan_obj, level, detailed, commit=True)
        options = today.options
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
        with _progress_bar("Exporting") as progress:
            result = export(
                prepared.timeline,
                prepared.clips,
                output,
                earcons=earcons,
                gain=gain,
                tags=tags,
                progress=progress,
                captions=captions,
                transcript=transcript,
                inputs=[plan] if os.path.isfile(plan) else [],
            )
    except KeyboardInterrupt:
        kept = f"; the earlier {output} is unchanged" if existed else ""
        raise Interrupted(f"Stopped before the export was finished: nothing was written{kept}.") from None
    chapters = len(prepared.timeline.chapters)
    click.echo(f"Wrote {result.path} ({format_duration(result.duration_s)}, {chapters} chapters)")
    if abs(reached.lufs - loudness) > 0.5:  # said, never silently off target (a nearly silent session)
        what = "silence" if reached.lufs == float("-inf") else f"{reached.lufs:.1f} LUFS"
        click.echo(
            f"Loudness: {what}, not the {loudness:g} LUFS asked for: the session is too quiet or too "
            "short to raise that far."
        )
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
) -> None:
    """Coach a session live on the speakers, controlled with single keys,
    headset buttons, media keys and (with --listen) your voice.

    Keys: space pause/resume, n or right arrow next exercise, p or left arrow
    back to the start of this exercise, r repeat the instruction, + and - add
    or take 15 s off the current hold or rest, x it hurts, q quit, ? the keys.
    Check-in questions are answered with 0-9 (t for 10), y or n; s skips.
    On Linux the session is also a media player: play/pause, next, previous
    and stop from a headset, the media keys or playerctl.
    """
    from voicecoach.control.inputs import Inputs
    from voicecoach.control.keys import keyboard
    from voicecoach.live.checkin import CheckIn
    from voicecoach.live.coach import CONTROL_PHRASES, Coach
    from voicecoach.live.devices import resolve_device, resolve_input_device
    from voicecoach.live.player import Player
    from voicecoach.live.status import Output
    from voicecoach.programs import plan_key
    from voicecoach.render.prepare import LiveStart, live_gain
    from voicecoach.store import training
    from voicecoach.store.places import PlaceStore

    key = plan_key(plan)
    journal, store = None, None
    started = False
    try:
        # --mic or --wake-word on the command line mean "listen" (from the config file they only choose).
        given = {
            n for n in ("mic", "wake_word") if ctx.get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE
        }
        listen = listen or bool(given)
        # The models load before any synthesis: a missing extra or a wrong name fails at once.
        voice_logic = _voice_logic(wake_word) if listen else None
        mic_index = resolve_input_device(mic) if listen else None
        plan_obj = programs.load(plan)
        out = Output.auto(plain, quiet)
        journal, notes = _open_journal_for_play()
        store = PlaceStore(journal)
        options = Options(level="low" if level == "auto" else level, detailed=detailed)
        found = store.resume(key, plan_obj) if resume else None
        if found:
            options = replace(options, first_exercise=found[0], intro=found[1])  # the intro says where
        elif resume:
            notes.append(phrases.NO_SAVED_PLACE)
        if voice_logic is not None:
            notes.append((phrases.VOICE_ON, phrases.voice_on_printed(voice_logic.detector.phrase)))
        today = training.today(journal, key, plan_obj, options, auto=level == "auto", ask=not no_check_in, live=True)
        options, texts = today.options, today.texts
        checkin = CheckIn.for_today(journal, key, plan_obj, today, ask=not no_check_in)
        debug = bool(ctx.find_root().params.get("debug"))
        with keyboard() as keys:
            # What the coach says before the session: its notes, then how to hear the keys.
            said = [*(n if isinstance(n, str) else n[0] for n in notes), *([phrases.KEYS_HINT] if keys else [])]
            # The voice starts at once (loading a neural model takes a moment) and makes the first words while
            # the sound device is found; the rest is synthesized in the background, ahead of the session.
            soon = checkin.opening(keys is not None) if checkin is not None else ()
            live = LiveStart(
                plan_obj,
                options,
                voice,
                first=said,
                soon=soon,
                later=(*CONTROL_PHRASES, *texts),
                earcons=earcons,
            )
            try:
                device_index = resolve_device(device)  # no device: a clear error before any sound
                prepared = live.prepared()
                gain = live_gain(prepared, said, earcons=earcons)  # kept for the whole session
                inputs = Inputs([keys] if keys is not None else [], note=out.message)
                try:
                    if mpris:
                        _add_media_player(inputs, debug)
                    on_sound = None
                    if voice_logic is not None:
                        from voicecoach.control.voice.listener import VoiceSource

                        inputs.add(VoiceSource(voice_logic, mic_index).start())
                        on_sound = voice_logic.activity.mark  # the player says when the coach is heard
                    coach = Coach(
                        prepared,
                        Player(device_index, on_sound=on_sound),
                        out,
                        inputs=inputs,
                        store=store,
                        plan_key=key,
                        notes=notes,
                        earcons=earcons,
                        gain=gain,
                        checkin=checkin,
                    )
                    started = True  # from here every way out is the coach's: it saves the place, says so once
                    coach.run()
                except DeviceError as exc:
                    if not started:
                        raise
                    raise DeviceError(
                        f"{exc.message} The session stopped.",
                        hint=f"Your place is saved: continue with voicecoach play {plan} --resume",
                    ) from exc
                finally:
                    inputs.close()  # gives up the media player name: media keys go back to other players
            finally:
                live.close()  # stops the background synthesis (and a level still being measured)
    except KeyboardInterrupt:
        if started:
            raise
        kept = (
            " Your saved place is kept: continue with --resume."
            if store is not None and store.load(key) is not None
            else ""
        )
        raise Interrupted(f"Stopped before the session started.{kept}") from None
    finally:
        if journal is not None:
            journal.close()
    if coach.underruns:
        click.echo(
            f"voicecoach: {coach.underruns} audio underruns: the computer was too busy and sound had gaps.", err=True
        )


def _open_journal_for_play():
    """The journal, or None and a note (spoken, printed with the path): a session never needs it."""
    from voicecoach.store.journal import JournalUnavailable
    from voicecoach.store.training import open_journal

    try:
        return open_journal(), []
    except JournalUnavailable as exc:
        return None, [(exc.spoken, str(exc))]


def _voice_logic(wake_word: str | None):
    """The wake word detector and the command recognizer, loaded (the listen extra)."""
    from voicecoach.control.voice import micro
    from voicecoach.control.voice.listener import VoiceLogic
    from voicecoach.control.voice.sphinx import SphinxCommands

    detector = micro.MicroWakeWordDetector(wake_word or micro.DEFAULT)
    return VoiceLogic(detector, SphinxCommands(detector.phrase))


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
