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
from typing import Any

from voicecoach.core.configkeys import DEFAULT_LOUDNESS_LUFS as DEFAULT_LOUDNESS_LUFS  # re-exported
from voicecoach.core.configkeys import SETTINGS as SETTINGS
from voicecoach.core.configkeys import Kind as Kind
from voicecoach.core.configkeys import Setting as Setting
from voicecoach.core.configkeys import Value as Value
from voicecoach.errors import ExitStatus, FileProblems, Problem, utf8_text

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


# -- editing the text, keeping everything else ------------------------------------------

_VALUE_AND_COMMENT = re.compile(r"(\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[^\s#]+)([ \t]*#.*)?$")


class EditError(ValueError):
    """The line-based edit would not have the intended effect (an unusual layout, e.g. a multi-line string)."""


def _verify(old: str, new: str, key: str, value: Value | None) -> str:
    """``new``, once sure that it differs from ``old`` exactly by ``key`` (set to ``value``, or removed)."""
    try:
        before = _toml_loads(old)
    except ValueError:
        return new  # a file TOML cannot read: nothing to compare with (it is checked again when written)
    wanted = {k: v for k, v in before.items() if k != key}
    if value is not None:
        wanted[key] = list(value) if isinstance(value, tuple) else value  # TOML gives a list
    try:
        ok = _toml_loads(new) == wanted
    except ValueError:
        ok = False
    if not ok:
        raise EditError(f"cannot change {key} with a simple edit of this file's layout")
    return new


def set_in_text(text: str, key: str, value: Value) -> str:
    """``text`` with ``key = value``: the key's line rewritten (keeping a comment after the value),
    or a new line added before any table, else at the end. Comments and other keys stay as they are.

    Raises :class:`EditError` when the result would change anything else (checked by parsing both).
    """
    return _verify(text, _set(text, key, value), key, value)


def _set(text: str, key: str, value: Value) -> str:
    lines = _split(text)
    assignment = f"{key} = {toml_literal(value)}"
    found = _find_line(lines, key)
    if found is not None:
        line = lines[found]
        m = _KEY_LINE.match(line)
        assert m is not None  # _find_line matched it
        rest = _VALUE_AND_COMMENT.match(line.rstrip("\r\n"), m.end())
        comment = rest.group(2) if rest and rest.group(2) else ""
        ending = line[len(line.rstrip("\r\n")) :] or "\n"
        lines[found] = f"{m.group(1)}{assignment}{comment}{ending}"
        return "".join(lines)
    first_table = next((i for i, line in enumerate(lines) if _TABLE_LINE.match(line)), len(lines))
    if first_table > 0 and not lines[first_table - 1].endswith("\n"):
        lines[first_table - 1] += "\n"
    lines.insert(first_table, assignment + "\n")
    return "".join(lines)


def unset_in_text(text: str, key: str) -> tuple[str, bool]:
    """``text`` without the top-level line that sets ``key``, and whether there was one.

    Raises :class:`EditError` when that would change anything else.
    """
    lines = _split(text)
    found = _find_line(lines, key)
    if found is None:
        return text, False
    del lines[found]
    return _verify(text, "".join(lines), key, None), True


def _split(text: str) -> list[str]:
    """TOML's lines, each with its line ending (str.splitlines() would also split at U+2028)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _find_line(lines: list[str], key: str) -> int | None:
    for i, line in enumerate(lines):
        if _TABLE_LINE.match(line):
            return None  # keys after a table header belong to the table
        m = _KEY_LINE.match(line)
        if m and m.group(5) == "=" and key in m.groups()[1:4]:
            return i
    return None
