#!/usr/bin/env bash
# Run Tongcheng's whole test suite (installs what is missing first).
#   ./test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --no-run
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"
