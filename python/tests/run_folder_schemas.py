"""Validators for the run-folder format in ../../schemas (python3-jsonschema, draft 2020-12), resolving the
schemas' references to each other from the folder itself (no network)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def jsonschema_module() -> Any:
    """python3-jsonschema; missing it fails under DURIAN_PYTHON=1 (CI), else skips with the install command."""
    try:
        import jsonschema
    except ImportError:
        message = "python3-jsonschema is needed to check files against schemas/ (apt-get install -y python3-jsonschema)"
        if os.environ.get("DURIAN_PYTHON") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return jsonschema


def load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text())


def validator(name: str) -> Any:
    jsonschema = jsonschema_module()
    store = {}
    for path in SCHEMAS.glob("*.schema.json"):
        document = json.loads(path.read_text())
        store[document["$id"]] = document
    schema = load(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, resolver=jsonschema.RefResolver.from_schema(schema, store=store))


def problems(value: Any, name: str) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator(name).iter_errors(value)]


def assert_valid(value: Any, name: str, what: str) -> None:
    found = problems(value, name)
    assert found == [], f"{what} does not match schemas/{name}: {found[:5]}"


def json_lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]
