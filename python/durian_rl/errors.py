"""The one error type of the maths, as in src/core/errors.ts: what was wrong and where (`where` is a path
into the input such as `scores[3]` or `options.weights[1]`)."""
from __future__ import annotations


class DurianInputError(ValueError):
    """Bad input to the maths: `str(error)` is `"<where>: <problem>"`."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where
        self.problem = problem


def describe_value(value: object) -> str:
    """A value for an error message, without dumping megabytes of it (src/core describeValue)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "NaN" if value != value else repr(value)
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} digits)"
    if isinstance(value, str):
        return repr(value[:40] + "..." if len(value) > 40 else value)
    if isinstance(value, (list, tuple)):
        return f"an array of {len(value)}"
    return "an object" if isinstance(value, dict) else type(value).__name__
