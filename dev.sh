#!/usr/bin/env bash
# Muskel's two commands (see README):
#   ./dev.sh start   set up, initialise SQLite with demo accounts, and run the app at http://localhost:8501
#   ./dev.sh test    set up and run the whole test suite (SQLite, PostgreSQL when available, browser)
# Each sets up its own virtual environment with the pinned dependencies, idempotently.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
    touch "$stamp"
  fi
}

case "${1:-}" in
  start)
    setup
    "$VENV/bin/muskel" init
    "$VENV/bin/muskel" seed-demo
    exec "$VENV/bin/streamlit" run Home.py --server.port "${MUSKEL_PORT:-8501}" --server.headless true \
      --browser.gatherUsageStats false
    ;;
  test)
    setup
    shift
    exec scripts/run-tests "$@"
    ;;
  *)
    echo "usage: ./dev.sh start | ./dev.sh test [pytest arguments]" >&2
    exit 2
    ;;
esac
