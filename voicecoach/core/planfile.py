"""Load and validate plan files (YAML) into :class:`voicecoach.core.plan.Plan`.

This module reads the text (its size, nesting and YAML syntax);
:mod:`voicecoach.core.plancheck` checks what it says.

The YAML is *composed* into nodes with PyYAML's safe loader, never
constructed into Python objects, so a plan file can never run code, and
every node keeps its line and column. Validation collects every problem in
the file before failing, each located at ``file:line:column``.
"""

from __future__ import annotations

import yaml

from voicecoach.core.plan import Plan
from voicecoach.core.plancheck import MAX_EXERCISES, MAX_TEXT_CHARS, PlanChecker
from voicecoach.errors import ExitStatus, FileProblems, Problem, utf8_text

__all__ = ["MAX_DEPTH", "MAX_EXERCISES", "MAX_FILE_BYTES", "MAX_NODES", "MAX_TEXT_CHARS", "PlanError", "parse_plan"]

MAX_FILE_BYTES = 1_000_000
# A plan is about five levels deep and a few thousand values at most. Beyond these
# PyYAML's composer recurses past Python's limit (500 levels) or takes minutes
# (nesting is quadratic in its scanner), so they are refused before composing.
MAX_DEPTH = 32
MAX_NODES = 20_000


class PlanError(FileProblems):
    """One or more problems in a plan file, each with its location."""

    exit_status = ExitStatus.INVALID_PLAN


def _check_shape(text: str, source: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH or more than MAX_NODES values, before composing.

    A pass over the parser's events (libyaml's when installed: fast, and
    never recursive) stops at the first excess. Syntax errors are left to the
    composer, which words them better.
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = nodes = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    m = event.start_mark
                    raise PlanError(
                        source,
                        text,
                        [
                            Problem(
                                m.line + 1,
                                m.column + 1,
                                f"the plan is nested too deeply (more than {MAX_DEPTH} levels)",
                                "a plan is a mapping, with a list of exercises, each a mapping",
                            )
                        ],
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    m = event.start_mark
                    raise PlanError(
                        source,
                        text,
                        [Problem(m.line + 1, m.column + 1, f"the plan has too many values (more than {MAX_NODES})")],
                    )
    except yaml.YAMLError:
        return


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Parse plan YAML text; raise :class:`PlanError` listing every problem."""
    _check_shape(text, source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # the pre-check stopped at a syntax error that hid deeper nesting
        raise PlanError(source, text, [Problem(1, 1, "the plan is nested too deeply")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = f"not valid YAML: {exc.problem or exc.context}"
        if exc.context and exc.problem and exc.context_mark:
            cm = exc.context_mark
            msg += f" ({exc.context}, which began at line {cm.line + 1}, column {cm.column + 1})"
        raise PlanError(source, text, [Problem(line, col, msg, "check indentation, colons and quotes")]) from None
    except yaml.YAMLError as exc:  # e.g. a reader error for control characters
        raise PlanError(source, text, [Problem(1, 1, f"not valid YAML: {exc}")]) from None
    checker = PlanChecker()
    plan = checker.plan(root, source)
    if checker.problems or plan is None:
        raise PlanError(source, text, checker.problems or [Problem(1, 1, "the plan is incomplete")])
    return plan


def parse_plan_bytes(data: bytes, source: str) -> Plan:
    """Parse a plan file's bytes: UTF-8 (a BOM is allowed), with a located error otherwise."""
    text = utf8_text(data, source, PlanError, "save the plan as UTF-8")
    return parse_plan(text, source)
