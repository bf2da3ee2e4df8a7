#!/usr/bin/env bash
# Runs the Python package's tests (python/tests: durian_rl's estimators against `durian advantages`, the verl
# plug-in against verl's unmodified copy in ../shared/third_party/verl, tasks from `durian export-tasks` and the
# ported reward, the general policy's PyTorch twin, the data-parallel trainer under torchrun with 1 and 2 ranks). Needs Debian's python3-numpy,
# python3-torch, python3-pytest, python3-omegaconf and python3-jsonschema (`apt-get install -y ...`); without them it prints why and
# exits 0, unless DURIAN_PYTHON=1 (CI), which makes missing packages a failure. The last line is pytest's summary.
# Usage: bash scripts/test-python.sh [pytest args...]   (DURIAN_PYTHON_BIN overrides /usr/bin/python3)
set -uo pipefail
cd "$(dirname "$0")/.."

python="${DURIAN_PYTHON_BIN:-/usr/bin/python3}"
missing=""
if [ ! -x "$python" ] && ! command -v "$python" >/dev/null 2>&1; then
  missing="$python itself"
else
  missing="$("$python" - <<'PY'
import importlib.util
print(" ".join(m for m in ("numpy", "torch", "pytest", "omegaconf", "jsonschema") if importlib.util.find_spec(m) is None))
PY
)" || missing="(could not run $python)"
fi
if [ -n "$missing" ]; then
  message="python tests: missing $missing for $python (apt-get install -y python3-numpy python3-torch python3-pytest python3-omegaconf python3-jsonschema)"
  if [ "${DURIAN_PYTHON:-}" = "1" ]; then
    echo "FAILED $message; DURIAN_PYTHON=1 requires them" >&2
    exit 1
  fi
  echo "SKIPPED $message; set DURIAN_PYTHON=1 to make this a failure"
  exit 0
fi

export PYTHONDONTWRITEBYTECODE=1
exec "$python" -m pytest python/tests -q "$@"
