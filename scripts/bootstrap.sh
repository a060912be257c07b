#!/usr/bin/env bash
# Sets up .venv/ with Python 3.10 and the pinned stack (constraints.txt), once: a second
# call finds the stamp matching constraints.txt and setup.py and returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.conveyor-installed"
want=$(cat constraints.txt setup.py | sha256sum | cut -d' ' -f1)

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

find_python() {
  for candidate in "${PYTHON310:-}" python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10 \
      "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /root/.pyenv/versions/3.10*/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  python=$(find_python) || {
    echo "error: Python 3.10 not found (TFX 1.16 needs >=3.10,<3.11); set PYTHON310=/path/to/python3.10" >&2
    exit 2
  }
  echo "creating $VENV with $python" >&2
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
fi

echo "installing the pinned stack into $VENV (a few minutes, once)" >&2
"$VENV/bin/python" -m pip install --quiet -c constraints.txt -e '.[test]'
echo "$want" > "$STAMP"
