#!/usr/bin/env bash
# Create .venv with Python >= 3.11 and install the service and its test tools
# into it, once (again only when the requirement files change).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
stamp="$VENV/.installed"
if [ -f "$stamp" ] && [ "$stamp" -nt requirements.txt ] && [ "$stamp" -nt test-requirements.txt ] \
   && [ "$stamp" -nt setup.cfg ]; then
  exit 0
fi
python=""
for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && \
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python=$candidate; break
  fi
done
if [ -z "$python" ]; then
  echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
echo "Installing Blazar and its test tools into $VENV (with $python)..." >&2
[ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' >&2 || true
"$VENV/bin/python" -m pip install -q -r requirements.txt -r test-requirements.txt -e . 2>&1 \
  | grep -v '^WARNING: Location' >&2 || true
"$VENV/bin/python" -c 'import blazar.api.app, pytest, blazarclient' >/dev/null
touch "$stamp"
