"""Editing the settings file's text: one key set or removed, everything else kept (pure: no I/O).

The rules of the keys and values are :mod:`voicecoach.core.configrules`; each edit is
checked by parsing the text before and after it (:class:`EditError` when anything else would change).
"""

from __future__ import annotations

import re

from voicecoach.core.configrules import _KEY_LINE, _TABLE_LINE, Value, _toml_loads, toml_literal

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
