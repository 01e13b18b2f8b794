"""The settings file's rules: TOML text -> checked settings, with located errors (pure: no I/O).

The file holds defaults for the long options (``rate = 160``,
``level = "mid"``...); the command line always wins over it. Every key is
known: an unknown key, a wrong type or a value out of range is an error at
``file:line:column``, like a plan file's. :mod:`tomllib` reports a location
only inside its message, and only for syntax errors, so the line of a key
with a bad value is found by a small scan of the text (:func:`locate`).
Reading and writing the file is :mod:`voicecoach.store.configfile`'s job.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from dataclasses import dataclass
from typing import Any, Literal

from voicecoach.core import wake
from voicecoach.core.plan import LEVELS
from voicecoach.core.vocab import EngineName
from voicecoach.errors import ExitStatus, FileProblems, Problem, utf8_text

Value = str | int | float | bool | tuple[str, ...]
Kind = Literal["choice", "text", "int", "number", "bool", "device", "sensitivity", "paths"]

# The loudness a session is made to (integrated, EBU R128): the `loudness` setting's default, and the
# target of every level measured and gain computed below the command line.
DEFAULT_LOUDNESS_LUFS = -16.0


@dataclass(frozen=True)
class Setting:
    """One key of the settings file: its type, what is valid, and its default."""

    key: str
    kind: Kind
    valid: str  # what is valid, in words ("a whole number ... from 80 to 400")
    default: Value | None  # None: not set, the program decides (``unset`` says how)
    unset: str = ""  # how "not set" reads, e.g. "the voice's own pace"
    choices: tuple[str, ...] = ()
    lo: float = 0.0
    hi: float = 0.0


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "engine",
            "choice",
            "system or piper",
            None,
            "automatic, piper when installed, else system",
            choices=tuple(e.value for e in EngineName),
        ),
        Setting(
            "voice",
            "text",
            "a voice id or name (see voicecoach voices), or the path of a piper .onnx voice",
            None,
            "the engine's default voice",
        ),
        Setting(
            "rate",
            "int",
            "a whole number of words per minute from 80 to 400",
            None,
            "the voice's own pace",
            lo=80,
            hi=400,
        ),
        Setting("volume", "number", "a number from 0 to 1", 1.0, lo=0, hi=1),
        Setting("language", "text", "a language code such as en-us", None, "any"),
        Setting("level", "choice", "auto, low, mid or high", "auto", choices=("auto", *LEVELS)),
        Setting(
            "loudness", "number", "a loudness in LUFS from -40 to -5 (export)", DEFAULT_LOUDNESS_LUFS, lo=-40, hi=-5
        ),
        Setting("earcons", "bool", "true or false", True),
        Setting(
            "device",
            "device",
            "a sound output device number or name (see voicecoach devices)",
            None,
            "the system's default output",
        ),
        Setting("listen", "bool", "true or false (voice control: play --listen)", False),
        Setting("mic", "device", "a microphone number or name (play --mic)", None, "the system's default microphone"),
        Setting("wake_word", "text", "a wake word name or model file (play --wake-word)", None, "none"),
        Setting(
            "wake_sensitivity",
            "sensitivity",
            f"{wake.VALID} (play --wake-sensitivity; voicecoach mic-check proposes one)",
            wake.DEFAULT,
        ),
        Setting("mpris", "bool", "true or false (appear as a media player on Linux)", True),
        Setting("remote", "bool", "true or false (the phone as a remote: play --remote)", False),
        Setting(
            "music",
            "paths",
            'a list of music files and folders, e.g. ["~/Music/walk.mp3"] (play and export --music)',
            None,
            "no music",
        ),
        Setting("cache_limit_mb", "int", "a whole number of megabytes from 0 to 1000000", 500, lo=0, hi=1_000_000),
    )
}
KEYS = tuple(SETTINGS)
MAX_TEXT_CHARS = 1000
MAX_PATHS = 1000
TRUE_WORDS, FALSE_WORDS = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


class ConfigError(FileProblems):
    """One or more problems in the settings file, each with its location."""

    exit_status = ExitStatus.INVALID_CONFIG


def default(key: str) -> Any:
    """The built-in default of ``key`` (None when the program decides)."""
    return SETTINGS[key].default


def format_value(value: Value) -> str:
    """A value as plain text: ``true``, ``160``, ``0.8``, ``en-us``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


def toml_literal(value: Value) -> str:
    """A value as TOML source: strings quoted and escaped, booleans lower-case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_literal(item) for item in value) + "]"
    # JSON's escapes are all valid in a TOML basic string; DEL is the one control character JSON leaves as is.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, (int, float)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return "a date or time"


def check(key: str, value: object) -> tuple[Value | None, str | None, str | None]:
    """``value`` (as TOML gives it) for ``key``: (the setting's value, None, None), or (None, message, hint)."""
    s = SETTINGS[key]
    if s.kind == "paths":
        return _check_paths(key, value, s)
    if s.kind == "bool":
        if isinstance(value, bool):
            return value, None, None
        return None, f"{key} must be true or false, not {_shown(value)}", f"{key}: {s.valid}"
    if s.kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"{key} must be a number, not {_shown(value)}", f"{key} must be {s.valid}"
        if s.kind == "int" and not float(value).is_integer():
            return None, f"{key} must be a whole number, not {_shown(value)}", f"{key} must be {s.valid}"
        if not s.lo <= value <= s.hi:
            return None, f"{key} {_shown(value)} is out of range", f"{key} must be {s.valid}"
        return (int(value) if s.kind == "int" else float(value)), None, None
    if s.kind == "sensitivity":
        try:
            return wake.parse(value), None, None
        except ValueError:
            return None, f"{key} must be {wake.VALID}, not {_shown(value)}", f"{key}: {s.valid}"
    if s.kind == "device" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value), None, None
    if not isinstance(value, str):
        shape = "a number or a name" if s.kind == "device" else "text"
        return None, f"{key} must be {shape}, not {_shown(value)}", f"{key}: {s.valid}"
    if s.kind == "choice":
        if value in s.choices:
            return value, None, None
        close = difflib.get_close_matches(value, list(s.choices), n=1)
        guess = f"; did you mean '{close[0]}'?" if close else ""
        return None, f"{key} must be one of {', '.join(s.choices)}, not {_shown(value)}{guess}", None
    text = " ".join(value.split())
    if not text:
        return None, f"{key} must be non-empty text", f"{key}: {s.valid}"
    if len(text) > MAX_TEXT_CHARS:
        return None, f"{key} is too long ({len(text)} characters)", f"at most {MAX_TEXT_CHARS}"
    return value.strip(), None, None


def _check_paths(key: str, value: object, s: Setting) -> tuple[Value | None, str | None, str | None]:
    """A list of paths (text): each item non-empty; the message names a bad item by its place in the list."""
    if not isinstance(value, list):
        return None, f"{key} must be a list of paths, not {_shown(value)}", f"{key}: {s.valid}"
    if len(value) > MAX_PATHS:
        return None, f"{key} has too many items ({len(value)})", f"at most {MAX_PATHS}"
    paths = []
    for number, item in enumerate(value, 1):
        if not isinstance(item, str):
            return None, f"{key}'s item {number} must be text (a path), not {_shown(item)}", f"{key}: {s.valid}"
        if not item.strip():
            return None, f"{key}'s item {number} is empty", f"{key}: {s.valid}"
        if len(item) > MAX_TEXT_CHARS:
            return None, f"{key}'s item {number} is too long ({len(item)} characters)", f"at most {MAX_TEXT_CHARS}"
        paths.append(item.strip())
    return tuple(paths), None, None


def from_command_line(key: str, raw: str) -> Value:
    """The value of ``voicecoach config set KEY RAW``, checked; ValueError with the reason otherwise."""
    if key not in SETTINGS:
        close = difflib.get_close_matches(key, list(KEYS), n=1)
        guess = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"unknown key '{key}'{guess}\nvalid keys: {', '.join(KEYS)}")
    s = SETTINGS[key]
    value: object = raw
    if s.kind == "paths":
        value = [raw]  # one path; a list is written in the file
    elif s.kind == "bool" and raw.strip().lower() in (*TRUE_WORDS, *FALSE_WORDS):
        value = raw.strip().lower() in TRUE_WORDS
    elif s.kind in ("int", "number"):
        try:
            value = float(raw) if s.kind == "number" or not re.fullmatch(r"\s*[-+]?\d+\s*", raw) else int(raw)
        except ValueError:
            pass
    checked, message, hint = check(key, value)
    if checked is None:
        raise ValueError(message if hint is None else f"{message}\n{hint}")
    return checked


# -- where a key is in the text ---------------------------------------------------------

_BARE = r"[A-Za-z0-9_-]+"
_NAME = rf"(?:\"([^\"\n]*)\"|'([^'\n]*)'|({_BARE}))"
_KEY_LINE = re.compile(rf"^([ \t]*){_NAME}[ \t]*([=.])[ \t]*")
_TABLE_LINE = re.compile(rf"^([ \t]*)\[\[?[ \t]*{_NAME}")


def locate(text: str, key: str) -> tuple[int, int, int]:
    """(line, column of the key, column of its value) of top-level ``key`` in ``text``, all 1-based.

    A small line scan, enough for a file that TOML has already accepted:
    keys before the first ``[table]`` header, and table headers themselves.
    Not found: (1, 1, 1).
    """
    in_table = False
    for number, line in enumerate(text.split("\n"), 1):  # TOML's lines: str.splitlines() also splits at U+2028
        m = _TABLE_LINE.match(line)
        if m:
            in_table = True
            if key in m.groups()[1:]:
                return number, len(m.group(1)) + 1, len(m.group(1)) + 1
            continue
        m = _KEY_LINE.match(line)
        if m and not in_table and key in m.groups()[1:4]:
            return number, len(m.group(1)) + 1, m.end() + 1 if m.group(5) == "=" else len(m.group(1)) + 1
    return 1, 1, 1


_AT = re.compile(r"^(.*?)\s*\(at line (\d+), column (\d+)\)\s*$", re.S)
_AT_END = re.compile(r"^(.*?)\s*\(at end of document\)\s*$", re.S)
SYNTAX_HINT = 'write one setting per line, key = value, with text in double quotes: level = "mid"'


def _syntax_problem(text: str, message: str) -> Problem:
    m = _AT.match(message)
    if m:
        line, column, what = int(m.group(2)), int(m.group(3)), m.group(1)
    elif (m := _AT_END.match(message)) is not None:
        lines = text.rstrip("\n").split("\n")
        line, column, what = len(lines), len(lines[-1]) + 1, m.group(1)
    else:
        line, column, what = 1, 1, message
    lines = text.split("\n")
    if what.startswith("Cannot overwrite a value") and 0 < line <= len(lines):
        m = _KEY_LINE.match(lines[line - 1])  # tomllib points past the value; the key is what matters
        if m:
            key = next(g for g in m.groups()[1:4] if g is not None)
            return Problem(line, len(m.group(1)) + 1, f"duplicate key '{key}'", "each key may appear once")
    what = what[:1].lower() + what[1:]
    return Problem(line, column, f"not valid TOML: {what}", SYNTAX_HINT)


def _toml_loads(text: str) -> dict[str, Any]:
    # tomllib is in the standard library from Python 3.11; tomli is the same parser before that.
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        doc: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(str(exc)) from None
    return doc


def parse_config(text: str, source: str = "<config>") -> dict[str, Value]:
    """The settings in TOML ``text`` (only the keys present); :class:`ConfigError` lists every problem."""
    try:
        doc = _toml_loads(text)
    except ValueError as exc:
        raise ConfigError(source, text, [_syntax_problem(text, str(exc))]) from None
    problems: list[Problem] = []
    values: dict[str, Value] = {}
    for key, raw in doc.items():
        line, key_col, value_col = locate(text, key)
        if key not in SETTINGS:
            close = difflib.get_close_matches(key, list(KEYS), n=1)
            guess = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(Problem(line, key_col, f"unknown key '{key}'{guess}", f"valid keys: {', '.join(KEYS)}"))
            continue
        value, message, hint = check(key, raw)
        if value is None:
            problems.append(Problem(line, value_col, message or f"{key} is not valid", hint))
        else:
            values[key] = value
    if problems:
        raise ConfigError(source, text, problems)
    return values


def parse_config_bytes(data: bytes, source: str) -> dict[str, Value]:
    """Like :func:`parse_config`, from the file's bytes: UTF-8 (a BOM is allowed), else a located error."""
    text = utf8_text(data, source, ConfigError, "save the config file as UTF-8")
    return parse_config(text, source)
