"""Controls a reader sends a run (one line of a run folder's inbox): the same kinds, fields and ranges as
src/protocol/controls.ts and schemas/control.schema.json (python/tests checks all three agree).

`parse_control(value)` returns a checked copy or raises `ControlError` whose message names the field and the
allowed range, as the TypeScript does: `setConfig.changes.lr: must be a finite number > 0 and <= 1, got -1`."""
from __future__ import annotations

import math
import re
from typing import Any

CONTROL_KINDS = ("pause", "resume", "stop", "setConfig", "setGroupWeight", "relabel", "excludePrompt", "undo")
#: Controls that change training and can be undone.
UNDOABLE_KINDS = ("setConfig", "setGroupWeight", "relabel", "excludePrompt")
ESTIMATOR_CHOICES = ("grpo", "dr_grpo", "rloo", "batch_std", "durian")

MAX_CONTROL_CHARS = 64 * 1024
MAX_ID_CHARS = 200
CONTROL_ID_PATTERN = re.compile(r"[A-Za-z0-9._:#-]+")
GROUP_WEIGHT_RANGE = {"min": 0, "max": 100}
RELABEL_REWARD_RANGE = {"min": -1e6, "max": 1e6}
STEP_RANGE = {"min": 0, "max": 1e9, "integer": True}
MAX_GROUP_SIZE = 64
#: Longest `response` text of a relabel (the response the reader saw).
MAX_RESPONSE_CHARS = 16384

#: The live-tunable settings (`control/setConfig` changes) and their ranges (src/protocol/settings.ts LIVE_RANGES).
LIVE_RANGES: dict[str, dict[str, Any]] = {
    "lr": {"min": 0, "exclusiveMin": True, "max": 1},
    "klBeta": {"min": 0, "max": 10},
    "clipLow": {"min": 0, "max": 1},
    "clipHigh": {"min": 0, "max": 1},
    "temperature": {"min": 0, "exclusiveMin": True, "max": 10},
    "groupSize": {"min": 2, "max": 64, "integer": True},
    "batchSize": {"min": 1, "max": 1024, "integer": True},
    "reasoningBins": {"min": 1, "max": 4096, "integer": True},
    "minPromptsPerBin": {"min": 1, "max": 1024, "integer": True},
    "eps": {"min": 0, "max": 1},
    "durianWeight": {"min": 0, "max": 1e6},
}
LIVE_CONFIG_KEYS = ("estimator", "durianWeights", "reasoningBins", "minPromptsPerBin", "eps", "poolZeroVariance",
                    "lr", "klBeta", "clipLow", "clipHigh", "temperature", "groupSize", "batchSize")


class ControlError(ValueError):
    """A control that is not well-formed: `where` is the field path, `problem` what is wrong with it."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) and not math.isfinite(value) else f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str):
        shown = value if len(value) <= 80 else value[:80] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _range_text(rng: dict[str, Any]) -> str:
    parts = []
    if "min" in rng:
        parts.append(f"{'>' if rng.get('exclusiveMin') else '>='} {rng['min']:g}")
    if "max" in rng:
        parts.append(f"<= {rng['max']:g}")
    return " and ".join(parts)


def _number(value: Any, where: str, rng: dict[str, Any]) -> float:
    kind = "a whole number" if rng.get("integer") else "a finite number"
    expected = f"{kind} {_range_text(rng)}".strip()
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value) or (rng.get("integer") and float(value) != int(value)):
        raise ControlError(where, f"must be {expected}, got {_describe(value)}")
    low = rng.get("min")
    too_low = low is not None and (value <= low if rng.get("exclusiveMin") else value < low)
    if too_low or ("max" in rng and value > rng["max"]):
        raise ControlError(where, f"must be {expected}, got {_describe(value)}")
    return int(value) if rng.get("integer") else value


def _text(value: Any, where: str, *, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_CHARS:
        raise ControlError(where, f"must be a string of 1 to {MAX_ID_CHARS} characters, got {_describe(value)}")
    if pattern is not None and not pattern.fullmatch(value):
        raise ControlError(where, f"must hold letters, digits and . _ : # - only, got {_describe(value)}")
    return value


def _fields(value: dict[str, Any], where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    for name in required:
        if name not in value:
            raise ControlError(f"{where}.{name}", "is required")
    for name in value:
        if name not in required and name not in optional:
            raise ControlError(f"{where}.{name}", f"is not a field of {where} (known: {', '.join(required + optional)})")


def _changes(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ControlError(where, f"must be an object, got {_describe(value)}")
    _fields(value, where, (), LIVE_CONFIG_KEYS)
    if not value:
        raise ControlError(where, "must change at least one setting")
    out: dict[str, Any] = {}
    for key, item in value.items():
        at = f"{where}.{key}"
        if key == "estimator":
            if item not in ESTIMATOR_CHOICES:
                raise ControlError(at, f"must be one of {', '.join(ESTIMATOR_CHOICES)}, got {_describe(item)}")
            out[key] = item
        elif key == "poolZeroVariance":
            if not isinstance(item, bool):
                raise ControlError(at, f"must be true or false, got {_describe(item)}")
            out[key] = item
        elif key == "durianWeights":
            if not isinstance(item, list) or len(item) != 3:
                raise ControlError(at, f"must be an array of 3 numbers [a_ori, a_perc, a_reas], got {_describe(item)}")
            out[key] = [_number(w, f"{at}[{i}]", LIVE_RANGES["durianWeight"]) for i, w in enumerate(item)]
        else:
            out[key] = _number(item, at, LIVE_RANGES[key])
    return out


def parse_control(value: Any) -> dict[str, Any]:
    """A checked copy of one control, or ControlError naming the field and what is allowed."""
    if not isinstance(value, dict):
        raise ControlError("message", f'must be an object with a "type", got {_describe(value)}')
    kind_type = value.get("type")
    kind = kind_type[len("control/"):] if isinstance(kind_type, str) and kind_type.startswith("control/") else None
    if kind not in CONTROL_KINDS:
        known = ", ".join(f"control/{k}" for k in CONTROL_KINDS)
        raise ControlError("type", f"unknown control type {_describe(kind_type)} (known: {known})")
    fields = {
        "pause": (), "resume": (), "stop": (),
        "setConfig": ("changes",),
        "setGroupWeight": ("promptId", "weight"),
        "relabel": ("step", "promptId", "rollout", "reward"),
        "excludePrompt": ("promptId",),
        "undo": ("targetControlId",),
    }[kind]
    where = f"control/{kind}"
    _fields(value, where, ("type", "controlId") + fields, ("response",) if kind == "relabel" else ())
    out: dict[str, Any] = {"type": kind_type, "controlId": _text(value["controlId"], f"{where}.controlId", pattern=CONTROL_ID_PATTERN)}
    if kind == "setConfig":
        out["changes"] = _changes(value["changes"], f"{where}.changes")
    if "promptId" in fields:
        out["promptId"] = _text(value["promptId"], f"{where}.promptId")
    if kind == "setGroupWeight":
        out["weight"] = _number(value["weight"], f"{where}.weight", GROUP_WEIGHT_RANGE)
    if kind == "relabel":
        out["step"] = _number(value["step"], f"{where}.step", STEP_RANGE)
        out["rollout"] = _number(value["rollout"], f"{where}.rollout", {"min": 0, "max": MAX_GROUP_SIZE - 1, "integer": True})
        out["reward"] = _number(value["reward"], f"{where}.reward", RELABEL_REWARD_RANGE)
        if "response" in value:
            if not isinstance(value["response"], str) or len(value["response"]) > MAX_RESPONSE_CHARS:
                raise ControlError(f"{where}.response", f"must be a string of at most {MAX_RESPONSE_CHARS} characters, got {_describe(value['response'])}")
            out["response"] = value["response"]
    if kind == "undo":
        out["targetControlId"] = _text(value["targetControlId"], f"{where}.targetControlId", pattern=CONTROL_ID_PATTERN)
    return out


def control_kind(control: dict[str, Any]) -> str:
    """`control/setConfig` -> `setConfig`."""
    return str(control["type"])[len("control/"):]
