"""What a plan file says, checked: every key, value and range of a composed YAML tree.

:class:`PlanChecker` walks the nodes that :mod:`voicecoach.core.planfile` composed
(each with its line and column), collects every problem with its location and a hint,
and builds the :class:`~voicecoach.core.plan.Plan` when there is none.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypedDict

import yaml

from voicecoach.core.plan import FIRST_SIDES, PACES, SIDES, Dose, Exercise, Plan, Tempo, Timing
from voicecoach.core.planshapes import MAX_TEXT_CHARS, ShapeChecker
from voicecoach.errors import Problem

MAX_EXERCISES = 100
__all__ = ["MAX_EXERCISES", "MAX_TEXT_CHARS", "PlanChecker"]


# (key, description) for every key; the description doubles as the "valid" hint.
TOP_KEYS = {
    "title": "text",
    "description": "text",
    "safety": "text or list of texts",
    "equipment": "list of texts",
    "defaults": "mapping of timing defaults",
    "exercises": "list of exercises",
}
TIMING_KEYS = {
    "rest_between_sets": ("rest_between_sets_s", 3, 600),
    "rest_between_exercises": ("rest_after_s", 0, 600),
    "switch_sides": ("switch_sides_s", 3, 120),
    "get_ready": ("get_ready_s", 2, 120),
}
EXERCISE_KEYS = (
    "name",
    "setup",
    "details",
    "hold",
    "reps",
    "minutes",
    "sets",
    "sides",
    "first_side",
    "tempo",
    "equipment",
    "countdown",
    "rest_after",
    "pace",
    "estimate",
    *TIMING_KEYS,
)
DEFAULT_KEYS = (*TIMING_KEYS, "countdown", "tempo", "sides", "first_side", "pace", "estimate")
TEMPO_KEYS = ("lift", "hold", "lower")


class _Defaults(TypedDict):
    """The plan's ``defaults``, as each exercise inherits them."""

    timing: Timing
    tempo: Tempo
    sides: str
    first_side: str
    pace: str  # "self": every reps or minutes exercise waits for "done" (a hold keeps the clock)
    estimate: float | None


def _with_seconds(timing: Timing, attr: str, value: float) -> Timing:
    """``timing`` with the seconds field ``attr`` (a TIMING_KEYS attribute) set to ``value``."""
    if attr == "rest_between_sets_s":
        return replace(timing, rest_between_sets_s=value)
    if attr == "rest_after_s":
        return replace(timing, rest_after_s=value)
    if attr == "switch_sides_s":
        return replace(timing, switch_sides_s=value)
    if attr == "get_ready_s":
        return replace(timing, get_ready_s=value)
    raise ValueError(f"not a seconds field of Timing: {attr!r}")


class PlanChecker(ShapeChecker):
    """Walks the node tree, converting values and recording problems."""

    # -- sections -----------------------------------------------------------
    def tempo(self, node: yaml.Node, base: Tempo) -> Tempo:
        keys = self.mapping(node, "tempo", TEMPO_KEYS)
        out = base
        if "lift" in keys and (v := self.number(keys["lift"][1], "tempo lift", 0.5, 10, " seconds")) is not None:
            out = replace(out, lift_s=v)
        if (
            "hold" in keys
            and (d := self.dose(keys["hold"][1], "tempo hold", 0, 30, " seconds", example="2-5")) is not None
        ):
            out = replace(out, hold=d)
        if "lower" in keys and (v := self.number(keys["lower"][1], "tempo lower", 0.5, 10, " seconds")) is not None:
            out = replace(out, lower_s=v)
        return out

    def timing(self, keys: dict[str, tuple[yaml.Node, yaml.Node]], base: Timing) -> Timing:
        out = base
        for key, (attr, lo, hi) in TIMING_KEYS.items():
            if key in keys and (v := self.number(keys[key][1], key, lo, hi, " seconds")) is not None:
                out = _with_seconds(out, attr, v)
        if (
            "rest_after" in keys
            and (v := self.number(keys["rest_after"][1], "rest_after", 0, 600, " seconds")) is not None
        ):
            out = replace(out, rest_after_s=v)
        if "countdown" in keys and (v := self.number(keys["countdown"][1], "countdown", 0, 10)) is not None:
            if v.is_integer():
                out = replace(out, countdown=int(v))
            else:
                self.err(keys["countdown"][1], "countdown must be a whole number of seconds from 0 to 10")
        return out

    def exercise(self, node: yaml.Node, index: int, dflt: _Defaults) -> Exercise | None:
        label = f"exercise {index}"
        if isinstance(node, yaml.MappingNode):
            named = [
                v.value for k, v in node.value if getattr(k, "value", None) == "name" and isinstance(v, yaml.ScalarNode)
            ]
            label = f"exercise {index} ({named[0]})" if named and named[0] else label
        keys = self.mapping(node, label, EXERCISE_KEYS)
        if not keys and not isinstance(node, yaml.MappingNode):
            return None
        name = self.text(keys["name"][1], "name") if "name" in keys else None
        if "name" not in keys:
            self.err(node, f"exercise {index} has no 'name'", "add e.g. name: Bridge")
        setup = self.text(keys["setup"][1], "setup") if "setup" in keys else None
        if "setup" not in keys:
            self.err(
                node,
                f"{label} has no 'setup' instruction",
                "add setup: one or two short sentences saying how to get into position",
            )
        kinds = [k for k in ("hold", "reps", "minutes") if k in keys]
        if len(kinds) != 1:
            where = keys[kinds[1]][0] if len(kinds) > 1 else node
            self.err(
                where,
                f"{label} needs exactly one of hold, reps or minutes (found {', '.join(kinds) or 'none'})",
                "hold: seconds to hold a stretch; reps: repetitions per set; minutes: continuous activity",
            )
        hold = self.dose(keys["hold"][1], "hold", 3, 600, " seconds", example="20-30") if "hold" in keys else None
        reps = self.dose(keys["reps"][1], "reps", 1, 100, whole=True, example="10-15") if "reps" in keys else None
        minutes = self.dose(keys["minutes"][1], "minutes", 0.5, 120, example="10-15") if "minutes" in keys else None
        sets = self.dose(keys["sets"][1], "sets", 1, 10, whole=True) if "sets" in keys else Dose.fixed(1)
        sides = self.choice(keys["sides"][1], "sides", SIDES) if "sides" in keys else dflt["sides"]
        first = (
            self.choice(keys["first_side"][1], "first_side", FIRST_SIDES)
            if "first_side" in keys
            else dflt["first_side"]
        )
        tempo = self.tempo(keys["tempo"][1], dflt["tempo"]) if "tempo" in keys else dflt["tempo"]
        details = self.text(keys["details"][1], "details") if "details" in keys else None
        equipment = self.texts(keys["equipment"][1], "equipment") if "equipment" in keys else ()
        timing = self.timing(keys, dflt["timing"])
        if "pace" in keys:
            pace = self.choice(keys["pace"][1], "pace", PACES)
        else:  # the defaults' pace is for reps and minutes: a hold keeps its time on the clock
            pace = "clock" if "hold" in keys else dflt["pace"]
        if "estimate" in keys:
            estimate = self.number(keys["estimate"][1], "estimate", 10, 3600, " seconds")
        else:
            estimate = dflt["estimate"] if pace == "self" else None
        if "pace" in keys and pace == "self" and "hold" in keys:
            self.err(
                keys["pace"][1],
                f"{label} holds a position; 'pace: self' is for reps and minutes",
                "a hold keeps its time on the clock (say 'more time' live to hold longer)",
            )
        if "estimate" in keys and pace == "clock":
            hint = "a hold keeps its time on the clock" if "hold" in keys else "add pace: self"
            self.err(keys["estimate"][0], f"{label}: 'estimate' is for self-paced sets", hint)
        if "minutes" in keys and "sides" in keys and sides != "none":
            self.err(keys["sides"][1], f"{label} is timed (minutes), so it cannot have sides")
        if "hold" in keys and sides == "alternating":
            self.err(keys["sides"][1], f"{label} holds a position; 'alternating' is for repetitions", "use sides: each")
        if timing.countdown > timing.get_ready_s:
            self.err(
                node, f"{label}: countdown ({timing.countdown}) is longer than get_ready ({timing.get_ready_s:g} s)"
            )
        if (
            name is None
            or setup is None
            or len(kinds) != 1
            or sets is None
            or sides is None
            or first is None
            or pace is None
        ):
            return None
        kind = {"hold": "hold", "reps": "reps", "minutes": "timed"}[kinds[0]]
        if (kind, hold, reps, minutes) in (
            ("hold", None, None, None),
            ("reps", None, None, None),
            ("timed", None, None, None),
        ):
            return None
        return Exercise(
            name=name,
            kind=kind,
            setup=setup,
            sets=sets,
            sides=sides,
            first_side=first,
            hold_s=hold,
            reps=reps,
            tempo=tempo,
            minutes=minutes,
            details=details,
            equipment=equipment,
            timing=timing,
            pace=pace,
            estimate_s=estimate,
        )

    def plan(self, root: yaml.Node | None, source: str) -> Plan | None:
        if root is None:
            self.problems.append(Problem(1, 1, "the plan is empty", "a plan needs at least 'title' and 'exercises'"))
            return None
        keys = self.mapping(root, "the plan", tuple(TOP_KEYS))
        if not keys:
            return None
        title = self.text(keys["title"][1], "title") if "title" in keys else None
        if "title" not in keys:
            self.err(root, "the plan has no 'title'", "add e.g. title: Morning knee routine")
        description = (self.text(keys["description"][1], "description") or "") if "description" in keys else ""
        safety = self.texts(keys["safety"][1], "safety") if "safety" in keys else ()
        equipment = self.texts(keys["equipment"][1], "equipment") if "equipment" in keys else ()
        dflt: _Defaults = {
            "timing": Timing(),
            "tempo": Tempo(),
            "sides": "none",
            "first_side": "right",
            "pace": "clock",
            "estimate": None,
        }
        dkeys: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        if "defaults" in keys:
            dkeys = self.mapping(keys["defaults"][1], "defaults", DEFAULT_KEYS)
            dflt["timing"] = self.timing(dkeys, Timing())
            if "tempo" in dkeys:
                dflt["tempo"] = self.tempo(dkeys["tempo"][1], Tempo())
            if "sides" in dkeys:
                dflt["sides"] = self.choice(dkeys["sides"][1], "sides", SIDES) or "none"
            if "first_side" in dkeys:
                dflt["first_side"] = self.choice(dkeys["first_side"][1], "first_side", FIRST_SIDES) or "right"
            if "pace" in dkeys:
                dflt["pace"] = self.choice(dkeys["pace"][1], "pace", PACES) or "clock"
            if "estimate" in dkeys:
                dflt["estimate"] = self.number(dkeys["estimate"][1], "estimate", 10, 3600, " seconds")
        exercises: list[Exercise] = []
        if "exercises" not in keys:
            self.err(
                root,
                "the plan has no 'exercises'",
                "add a list of exercises, each with name, setup and hold, reps or minutes",
            )
        else:
            enode = keys["exercises"][1]
            if not isinstance(enode, yaml.SequenceNode) or not enode.value:
                self.err(enode, "exercises must be a non-empty list", "start each exercise with '- name: ...'")
            elif len(enode.value) > MAX_EXERCISES:
                self.err(enode, f"too many exercises ({len(enode.value)})", f"at most {MAX_EXERCISES}")
            else:
                for i, item in enumerate(enode.value, 1):
                    ex = self.exercise(item, i, dflt)
                    if ex is not None:
                        exercises.append(ex)
        if "estimate" in dkeys and exercises and not any(ex.self_paced for ex in exercises):
            self.err(
                dkeys["estimate"][0],
                "defaults: 'estimate' is for self-paced sets, and no exercise is self-paced",
                "add pace: self (in defaults, or on a reps or minutes exercise)",
            )
        if self.problems or title is None:
            return None
        return Plan(
            title=title,
            exercises=tuple(exercises),
            description=description,
            safety=safety,
            equipment=equipment,
            source=source,
        )
