"""The housekeeping commands: config (the settings file) and cache (the clip cache)."""

from __future__ import annotations

import click

from voicecoach.cli.app import cli
from voicecoach.cli.common import current_config
from voicecoach.core import configrules
from voicecoach.errors import ExitStatus, VoicecoachError


class SettingError(VoicecoachError):
    """An unknown key or a bad value given to `config set` or `config unset`."""

    exit_status = ExitStatus.USAGE


def format_size(size: int) -> str:
    """Bytes in words a screen reader reads well: "0 bytes", "950 bytes", "12.3 MB" (decimal units)."""
    if size < 1000:
        return f"{size} byte{'s' if size != 1 else ''}"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if size < scale * 1000 or unit == "GB":
            return f"{size / scale:.1f} {unit}"
    raise AssertionError("unreachable")


@cli.group("config", invoke_without_command=True)
@click.pass_context
def config_cmd(ctx: click.Context) -> None:
    """Show the settings in effect and where each comes from.

    The config file (TOML, one `key = value` per line) holds defaults for the
    long options of show, export and play; the command line always wins.
    Change it with `voicecoach config set KEY VALUE`.
    """
    if ctx.invoked_subcommand is not None:
        return
    found = current_config()
    notes = []
    if found.from_env:
        notes.append("from VOICECOACH_CONFIG")
    if not found.exists:
        notes.append("not created yet")
    click.echo(f"config file: {found.path}" + (f" ({'; '.join(notes)})" if notes else ""))
    for key, setting in configrules.SETTINGS.items():
        value = found.get(key)
        shown = setting.unset if value is None else configrules.format_value(value)
        click.echo(f"{key}: {shown} ({'config file' if found.from_file(key) else 'default'})")


@config_cmd.command("path")
def config_path_cmd() -> None:
    """Print the config file's path (it may not exist yet)."""
    from voicecoach.store.configfile import config_path

    click.echo(str(config_path()[0]))


@config_cmd.command("set")
@click.argument("key", metavar="KEY")
@click.argument("value", metavar="VALUE")
def config_set(key: str, value: str) -> None:
    """Set KEY to VALUE in the config file (created if needed; comments and other keys are kept).

    Keys: engine, voice, rate, volume, language, level, loudness, earcons,
    device, listen, mic, wake_word, wake_sensitivity, mpris, remote,
    cache_limit_mb (see docs/settings.md).
    """
    from voicecoach.store.configfile import set_value

    try:
        checked = configrules.from_command_line(key, value)
    except ValueError as exc:
        raise SettingError(str(exc)) from None
    path, left = set_value(key, checked)
    click.echo(f"{key}: {configrules.format_value(checked)} (written to {path})")
    if left is not None:
        raise left  # the file's other problems, which still stop show, export and play


@config_cmd.command("unset")
@click.argument("key", metavar="KEY")
def config_unset(key: str) -> None:
    """Remove KEY from the config file: its default applies again."""
    from voicecoach.store.configfile import config_path, unset_value

    path = config_path()[0]
    found, left = unset_value(key, path)
    setting = configrules.SETTINGS.get(key)
    if not found:
        click.echo(f"{key} is not set in {path}")
    elif setting is None:  # an unknown key, removed to mend the file
        click.echo(f"{key}: removed from {path}")
    else:
        shown = setting.unset if setting.default is None else configrules.format_value(setting.default)
        click.echo(f"{key}: {shown} (default; removed from {path})")
    if left is not None:
        raise left  # the file's other problems, which still stop show, export and play


@cli.group("cache", invoke_without_command=True)
@click.pass_context
def cache_cmd(ctx: click.Context) -> None:
    """Show where the clip cache is, its size and how many clips it holds.

    Every phrase is synthesized once and kept here. After each session the
    least recently used clips are removed while the cache is over its limit
    (`cache_limit_mb` in the config file); `voicecoach cache clear` empties it.
    """
    if ctx.invoked_subcommand is not None:
        return
    import os

    from voicecoach.speech.cache import ENV_VAR, ClipCache, default_clip_dir

    cache = ClipCache(default_clip_dir())
    used = cache.usage()
    found = current_config()
    limit = found.get("cache_limit_mb")
    click.echo(f"location: {cache.directory}" + (f" (from {ENV_VAR})" if os.environ.get(ENV_VAR) else ""))
    click.echo(f"size: {format_size(used.size)}")
    click.echo(f"clips: {used.clips}")
    click.echo(f"limit: {limit} MB ({'config file' if found.from_file('cache_limit_mb') else 'default'})")


@cache_cmd.command("clear")
def cache_clear() -> None:
    """Remove every clip (and the sessions' measured levels); nothing else in the folder is touched."""
    from voicecoach.speech.cache import ClipCache, default_clip_dir

    cache = ClipCache(default_clip_dir())
    gone = cache.clear()
    click.echo(
        f"Removed {gone.clips} clip{'s' if gone.clips != 1 else ''} ({format_size(gone.size)}) from {cache.directory}"
    )
