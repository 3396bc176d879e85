#!/usr/bin/env bash
# Run Tongcheng's whole test suite (installs what is missing first).
#   ./test.sh [pytest arguments]
# Before pytest, the quality gates run; any failure fails this script:
#   ruff check .   lint and import order (settings in pyproject.toml)
#   mypy           types of the core, layers/ (settings in pyproject.toml)
#   lint-imports   the import contracts between layers/ and desktop/ (pyproject.toml)
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --no-run
export QT_QPA_PLATFORM=offscreen
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

gate() {
  local name=$1
  shift
  local output
  if output=$("$@" 2>&1); then
    echo "gate $name: ok"
  else
    echo "$output"
    echo "gate $name: FAILED ($*)" >&2
    exit 1
  fi
}
gate ruff .venv/bin/ruff check --quiet .
gate mypy .venv/bin/mypy
gate import-linter .venv/bin/lint-imports --no-cache

exec .venv/bin/python -m pytest "$@"
