"""Estimator options with the names, defaults and ranges of src/core's option schemas (one vocabulary with
`durian advantages`, the trainer config and the extension settings). Unknown names are errors."""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from .errors import DurianInputError, describe_value


@dataclass(frozen=True)
class Option:
    description: str
    default: Any
    parse: Callable[[Any, str], Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _bounds_text(low: Optional[float], high: Optional[float]) -> str:
    parts = ([f">= {low:g}"] if low is not None else []) + ([f"<= {high:g}"] if high is not None else [])
    return " and ".join(parts)


def bounded_number(value: Any, where: str, low: Optional[float] = None, high: Optional[float] = None,
                   integer: bool = False, label: str = "") -> float:
    kind = "a whole number" if integer else "a finite number"
    if not _is_number(value) or value != value or abs(value) == float("inf") or (integer and not float(value).is_integer()):
        raise DurianInputError(where, f"{label}must be {kind}, got {describe_value(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise DurianInputError(where, f"{label}must be {_bounds_text(low, high)}, got {value:g}")
    return int(value) if integer else float(value)


def number_option(description: str, default: float, low: Optional[float] = None, high: Optional[float] = None,
                  integer: bool = False) -> Option:
    return Option(description, default, lambda value, where: bounded_number(value, where, low, high, integer))


def boolean_option(description: str, default: bool) -> Option:
    def parse(value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise DurianInputError(where, f"must be true or false, got {describe_value(value)}")
        return value

    return Option(description, default, parse)


def choice_option(description: str, default: str, choices: tuple[str, ...]) -> Option:
    def parse(value: Any, where: str) -> str:
        if value not in choices or not isinstance(value, str):
            raise DurianInputError(where, f"must be one of {', '.join(repr(c) for c in choices)}, got {describe_value(value)}")
        return value

    return Option(description, default, parse)


def tuple_option(description: str, default: list[float], names: tuple[str, ...], low: float, high: float) -> Option:
    def parse(value: Any, where: str) -> list[float]:
        if not isinstance(value, (list, tuple)) or len(value) != len(names):
            raise DurianInputError(where, f"must be an array of {len(names)} numbers [{', '.join(names)}], got {describe_value(value)}")
        return [bounded_number(v, f"{where}[{i}]", low, high, label=f"({names[i]}) ") for i, v in enumerate(value)]

    return Option(description, list(default), parse)


def _parse_band(value: Any, where: str) -> Optional[tuple[float, float]]:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise DurianInputError(where, f"must be [low, high] or null, got {describe_value(value)}")
    low = bounded_number(value[0], f"{where}[0]", 0, 1, label="(low) ")
    high = bounded_number(value[1], f"{where}[1]", 0, 1, label="(high) ")
    if low > high:
        raise DurianInputError(where, f"low ({low:g}) must not exceed high ({high:g})")
    return (low, high)


#: Options every estimator accepts beside its own.
BAND = Option(
    "Keep only groups whose mean accuracy lies in [low, high] (DAPO dynamic sampling / EasyR1 online filtering); "
    "null = keep all.",
    None,
    _parse_band,
)


def parse_options(schema: Mapping[str, Option], raw: Any, where: str, context: str) -> dict[str, Any]:
    """Validated options with defaults filled in; raises DurianInputError at `where.<name>`."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise DurianInputError(where, f"must be an object of options, got {describe_value(raw)}")
    known = list(schema)
    for key in raw:
        if key not in schema:
            raise DurianInputError(f"{where}.{key}", f"is not an option of {context} (known: {', '.join(known) or 'none'})")
    return {key: spec.parse(raw[key], f"{where}.{key}") if key in raw else spec.default for key, spec in schema.items()}
