"""Structural comparison of a Python result with the TypeScript CLI's JSON: same keys, same strings and booleans,
numbers equal to 1e-9 (relative above 1)."""
from __future__ import annotations

from typing import Any

TOLERANCE = 1e-9


def differences(py: Any, ts: Any, path: str = "$") -> list[str]:
    if isinstance(ts, bool) or isinstance(py, bool):
        return [] if py is ts else [f"{path}: python {py!r} vs ts {ts!r}"]
    if isinstance(ts, (int, float)):
        if not isinstance(py, (int, float)):
            return [f"{path}: python {py!r} vs ts {ts!r}"]
        return [] if abs(py - ts) <= TOLERANCE * max(1.0, abs(ts)) else [f"{path}: python {py!r} vs ts {ts!r} (diff {py - ts:.3g})"]
    if isinstance(ts, list):
        if not isinstance(py, list) or len(py) != len(ts):
            return [f"{path}: python {py!r} vs ts {ts!r} (length)"]
        return [d for k, (a, b) in enumerate(zip(py, ts)) for d in differences(a, b, f"{path}[{k}]")]
    if isinstance(ts, dict):
        if not isinstance(py, dict) or set(py) != set(ts):
            return [f"{path}: keys python {sorted(py) if isinstance(py, dict) else py!r} vs ts {sorted(ts)}"]
        return [d for key in ts for d in differences(py[key], ts[key], f"{path}.{key}")]
    return [] if py == ts else [f"{path}: python {py!r} vs ts {ts!r}"]


def error_where(line: dict) -> str:
    """`where` of an error line `{"error": "line N: <where>: <problem>"}`."""
    return line["error"].split(": ", 2)[1]
