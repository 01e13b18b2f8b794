"""The config file on disk: where it is, reading it, and changing one key atomically.

The rules (which keys, what is valid, located errors) are in
:mod:`voicecoach.core.configrules`; this module only does the file work.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicecoach.atomic import write_atomic
from voicecoach.core.configedit import EditError, set_in_text, unset_in_text
from voicecoach.core.configrules import SETTINGS, ConfigError, Value, parse_config, parse_config_bytes
from voicecoach.errors import VoicecoachError

ENV_VAR = "VOICECOACH_CONFIG"
MAX_FILE_BYTES = 100_000


def config_path() -> tuple[Path, bool]:
    """The config file's path, and whether it comes from ``$VOICECOACH_CONFIG``.

    Default: ``<user config dir>/voicecoach/config.toml`` (``~/.config`` on Linux).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser(), True
    import platformdirs  # only needed here

    return Path(platformdirs.user_config_dir("voicecoach")) / "config.toml", False


@dataclass(frozen=True)
class Config:
    """The settings in effect: the file's values over the built-in defaults."""

    path: Path
    from_env: bool  # the path comes from $VOICECOACH_CONFIG
    exists: bool
    values: dict[str, Value] = field(default_factory=dict)  # only the keys the file sets

    def get(self, key: str) -> Any:
        """The value in effect for ``key``: the file's, else the default (None: not set)."""
        return self.values.get(key, SETTINGS[key].default)

    def from_file(self, key: str) -> bool:
        return key in self.values


def _read(path: Path) -> bytes | None:
    """The file's bytes; None when there is no file (then the defaults apply)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not hang us
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise VoicecoachError(
            f"{path} is a directory, not a config file", hint=f"remove it, or set {ENV_VAR} to the path of a file"
        ) from None
    except OSError as exc:
        raise VoicecoachError(f"cannot read the config file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise VoicecoachError(f"{path} is a directory, not a config file")
        if not stat.S_ISREG(st.st_mode):
            raise VoicecoachError(f"{path} is not a regular file; the config file must be a text file")
        if st.st_size > MAX_FILE_BYTES:
            raise VoicecoachError(f"{path}: the file is too large for a config file ({st.st_size} bytes)")
        try:
            return f.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise VoicecoachError(f"cannot read the config file {path}: {exc.strerror}") from None


def load(path: Path | None = None) -> Config:
    """Read and check the config file (``path``, default :func:`config_path`).

    No file: the defaults. A bad file raises :class:`voicecoach.core.configrules.ConfigError`
    (exit code 3) with every problem located.
    """
    from_env = False
    if path is None:
        path, from_env = config_path()
    data = _read(path)
    if data is None:
        return Config(path, from_env, exists=False)
    values = parse_config_bytes(data, str(path))
    if "music" in values:
        values["music"] = _paths_from(path, values["music"])
    return Config(path, from_env, exists=True, values=values)


def _paths_from(config: Path, paths: Value) -> tuple[str, ...]:
    """The file's paths as the commands use them: ``~`` expanded, a relative one from the config file's folder."""
    assert isinstance(paths, tuple)
    folder = config.parent
    return tuple(str(p if p.is_absolute() else folder / p) for p in (Path(raw).expanduser() for raw in paths))


def _text(path: Path) -> str:
    data = _read(path)
    if data is None:
        return ""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        parse_config_bytes(data, str(path))  # raises the located error
        raise


def _problems(text: str, source: str) -> ConfigError | None:
    try:
        parse_config(text, source)
    except ConfigError as exc:
        return exc
    return None


def _write(path: Path, old: str, new: str) -> ConfigError | None:
    """Write ``new`` over the file, unless the edit itself broke something; returns the problems left.

    A file with several problems can be mended one key at a time, so problems
    it had before may remain; a problem the edit would add (it never should)
    means nothing is written.
    """
    after = _problems(new, str(path))
    if after is not None:
        before = _problems(old, str(path))
        known = {p.message for p in before.problems} if before is not None else set()
        if any(p.message not in known for p in after.problems):
            raise after
    # Through a symbolic link (a dotfiles folder) the file it points to is replaced, not the link.
    target = path.resolve() if path.is_symlink() else path
    try:
        write_atomic(target, new, durable=True)
    except OSError as exc:
        from voicecoach.outputs import cannot_write

        raise cannot_write(path, exc, what="the config file ") from None
    return after


def _cannot_edit(path: Path, key: str) -> VoicecoachError:
    return VoicecoachError(
        f"cannot change {key} in {path} safely: the file is laid out in a way a one-line edit does not handle",
        hint="change it in a text editor",
    )


def set_value(key: str, value: Value, path: Path | None = None) -> tuple[Path, ConfigError | None]:
    """Set ``key`` (an already checked value) in the config file, keeping its comments and other keys.

    The file is created if needed. Returns its path and the problems the file
    still has elsewhere (None: it loads cleanly).
    """
    path = path or config_path()[0]
    old = _text(path)
    try:
        new = set_in_text(old, key, value)
    except EditError:
        raise _cannot_edit(path, key) from None
    return path, _write(path, old, new)


def unset_value(key: str, path: Path | None = None) -> tuple[bool, ConfigError | None]:
    """Remove ``key`` from the config file (any key, so an unknown one can be removed).

    Returns whether it was there, and the problems the file still has.
    """
    path = path or config_path()[0]
    old = _text(path)
    try:
        new, found = unset_in_text(old, key)
    except EditError:
        raise _cannot_edit(path, key) from None
    if not found:
        return False, _problems(old, str(path))
    return True, _write(path, old, new)
