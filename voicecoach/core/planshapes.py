"""The shapes of values in a composed YAML tree: mappings, texts, numbers, ranges, choices, each checked.

:class:`ShapeChecker` records every problem with its location (line and column of the node)
and a hint; :class:`voicecoach.core.plancheck.PlanChecker` builds on it for the sections of a plan.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping

import yaml

from voicecoach.core.plan import Dose
from voicecoach.errors import Problem, unshowable

MAX_TEXT_CHARS = 1000
_unshowable = unshowable  # see voicecoach.errors: never accepted in plan text

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_SCALARS = (_STR, _INT, _FLOAT, "tag:yaml.org,2002:bool")
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*$")


class ShapeChecker:
    """Converts nodes to values, recording a located problem for each that has the wrong shape."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def err(self, node: yaml.Node, message: str, hint: str | None = None) -> None:
        m = node.start_mark
        self.problems.append(Problem(m.line + 1, m.column + 1, message, hint))

    def mapping(
        self, node: yaml.Node, what: str, allowed: tuple[str, ...] | Mapping[str, object]
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Keys to (key node, value node); reports unknown and duplicate keys."""
        if not isinstance(node, yaml.MappingNode):
            self.err(node, f"{what} must be a mapping of keys to values", f"valid keys: {', '.join(allowed)}")
            return {}
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.err(knode, f"{what} has a key that is not text")
                continue
            if key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1)
                guess = f"; did you mean '{close[0]}'?" if close else ""
                self.err(knode, f"unknown key '{key}' in {what}{guess}", f"valid keys: {', '.join(allowed)}")
                continue
            if key in out:
                self.err(knode, f"duplicate key '{key}' in {what}", "each key may appear once")
                continue
            out[key] = (knode, vnode)
        return out

    def text(self, node: yaml.Node, what: str) -> str | None:
        # Any plain scalar reads as text: a title of "2024" or "Yes" is still a title.
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _SCALARS or not node.value.strip():
            self.err(node, f"{what} must be non-empty text")
            return None
        value = " ".join(node.value.split())
        bad = next((c for c in value if _unshowable(c)), None)
        if bad is not None:
            # Spoken text is also printed, tagged and captioned: a control character would act on
            # the terminal or corrupt the files, and no voice can say it.
            kind = "an invisible formatting character" if unicodedata.category(bad) == "Cf" else "a control character"
            self.err(
                node,
                f"{what} contains {kind} (U+{ord(bad):04X}), which cannot be shown or spoken",
                "remove it (in double quotes, an escape such as \\x1b or \\u0007 makes one)",
            )
            return None
        if len(value) > MAX_TEXT_CHARS:
            self.err(node, f"{what} is too long ({len(value)} characters)", f"at most {MAX_TEXT_CHARS}")
            return None
        return value

    def texts(self, node: yaml.Node, what: str) -> tuple[str, ...]:
        if isinstance(node, yaml.SequenceNode):
            return tuple(t for item in node.value if (t := self.text(item, f"each item of {what}")) is not None)
        t = self.text(node, what)
        return (t,) if t is not None else ()

    def number(self, node: yaml.Node, what: str, lo: float, hi: float, unit: str = "") -> float | None:
        d = self.dose(node, what, lo, hi, unit, allow_range=False)
        return d.low if d else None

    def dose(
        self,
        node: yaml.Node,
        what: str,
        lo: float,
        hi: float,
        unit: str = "",
        allow_range: bool = True,
        whole: bool = False,
        example: str = "2-3",
    ) -> Dose | None:
        """A number, or a range "A-B" (A <= B), within [lo, hi]."""
        shape = "a whole number" if whole else "a number"
        if allow_range:
            shape += f" or a range like {example}"
        bounds = f"{what} must be {shape} from {lo:g} to {hi:g}{unit}"
        if not isinstance(node, yaml.ScalarNode) or node.tag not in (_STR, _INT, _FLOAT):
            self.err(node, f"{what} must be {shape}", bounds)
            return None
        m = _RANGE.match(node.value)
        if not m or (m.group(2) is not None and not allow_range):
            self.err(node, f"{what} must be {shape}, not '{node.value}'", bounds)
            return None
        low = float(m.group(1))
        high = float(m.group(2)) if m.group(2) is not None else low
        if whole and not (low.is_integer() and high.is_integer()):
            self.err(node, f"{what} must be whole numbers, not '{node.value}'", bounds)
            return None
        if high < low:
            self.err(
                node,
                f"{what} range '{node.value}' goes backwards",
                f"write the smaller number first: {m.group(2)}-{m.group(1)}",
            )
            return None
        if low < lo or high > hi:
            self.err(node, f"{what} {node.value} is out of range", bounds)
            return None
        return Dose(low, high)

    def choice(self, node: yaml.Node, what: str, choices: tuple[str, ...]) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value in choices:
            value: str = node.value
            return value
        shown = node.value if isinstance(node, yaml.ScalarNode) else "a non-text value"
        self.err(node, f"{what} must be one of {', '.join(choices)}, not '{shown}'")
        return None
