"""Shared fixtures: the TypeScript `durian advantages` CLI (run once per batch list, in this test run) and verl's
unmodified copy in ../shared/third_party/verl (imported with its stand-ins for packages this machine lacks)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

sys.dont_write_bytecode = True  # keep __pycache__ out of the tree and of the read-only verl copy

PYTHON_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = PYTHON_ROOT.parent
VERL_ROOT = Path(os.environ.get("DURIAN_VERL_ROOT", REPO_ROOT.parent / "shared" / "third_party" / "verl")).resolve()


def newest_source(*folders: str) -> float:
    return max(p.stat().st_mtime for folder in folders for p in (REPO_ROOT / folder).rglob("*.ts"))


def cli_command() -> tuple[list[str], str]:
    """`node dist/cli.js` when the bundle is at least as new as src/core and src/cli, else the same CLI from
    source through tsx (never a stale bundle)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the Python estimators are checked against `durian advantages` (Node 20+)")
    bundle = REPO_ROOT / "dist" / "cli.js"
    if bundle.exists() and bundle.stat().st_mtime >= newest_source("src/core", "src/cli"):
        return [node, str(bundle), "advantages"], "dist/cli.js"
    return [node, "--import", "tsx", str(REPO_ROOT / "src" / "cli" / "main.ts"), "advantages"], "src/cli/main.ts via tsx (dist/cli.js missing or older than src/)"


def pytest_report_header(config: Any) -> list[str]:
    return [f"durian advantages: {cli_command()[1]}", f"verl copy: {VERL_ROOT}" + ("" if VERL_ROOT.exists() else " (missing)")]


@pytest.fixture(scope="session")
def ts_advantages() -> Callable[[list[dict]], list[dict]]:
    """Runs `durian advantages` on a list of batches (one process for all of them) and returns its output lines."""

    def run(batches: list[dict]) -> list[dict]:
        command, _ = cli_command()
        text = "".join(json.dumps(batch) + "\n" for batch in batches)
        done = subprocess.run(command, input=text, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert len(lines) == len(batches), f"durian advantages wrote {len(lines)} lines for {len(batches)} batches: {done.stderr[-2000:]}"
        return lines

    return run


@pytest.fixture(scope="session")
def verl_core_algos() -> Any:
    """verl.trainer.ppo.core_algos from the unmodified copy, with durian_rl.verl imported (the plug-in)."""
    if not (VERL_ROOT / "stub_imports.py").exists():
        pytest.skip(f"verl copy not found at {VERL_ROOT} (set DURIAN_VERL_ROOT): the verl plug-in tests need it")
    if str(VERL_ROOT) not in sys.path:
        sys.path.insert(0, str(VERL_ROOT))
    import stub_imports  # noqa: F401  (stand-ins for ray, tensordict, transformers, ... : import-only)
    import verl.trainer.ppo.core_algos as core_algos

    import durian_rl.verl  # noqa: F401  (registers durian)

    return core_algos


def export_tasks(out: Path, split: str, n: int, seed: int = 1, suite: str = "v1") -> None:
    """`durian export-tasks` from source (src/cli/main.ts through tsx), into `out`, of the built-in suite `suite`."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the tasks come from `durian export-tasks` (Node 20+)")
    command = [node, "--import", "tsx", str(REPO_ROOT / "src" / "cli" / "main.ts"), "export-tasks", "--split", split, "--n", str(n),
               "--seed", str(seed), "--suite", suite, "--out", str(out), "--cache-dir", str(out / ".cache")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, f"durian export-tasks failed: {done.stderr[-2000:]}"


@pytest.fixture(scope="session")
def exported_tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 train and 8 validation tasks of seed 1, exported by the TypeScript in this test run."""
    out = tmp_path_factory.mktemp("tasks")
    export_tasks(out, "train", 8)
    export_tasks(out, "validation", 8)
    return out
