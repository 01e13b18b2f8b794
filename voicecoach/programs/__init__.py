"""Built-in programs, and resolving a PLAN argument (built-in name or file)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from voicecoach.plan import Plan
from voicecoach.planfile import load_plan_file, parse_plan

DEFAULT_PROGRAM = "inner-knee"


def builtin_names() -> list[str]:
    """Names of the built-in programs, sorted."""
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".yaml"))


def load_builtin(name: str) -> Plan:
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return parse_plan(text, source=name)


def load(spec: str) -> Plan:
    """A built-in program by name, or a plan file by path (an existing file wins)."""
    path = Path(spec)
    if spec in builtin_names() and not path.is_file():
        return load_builtin(spec)
    return load_plan_file(path)
