#!/bin/bash
# Makes a Python virtual environment with QuickFIX (the C++ engine's Python binding, built from
# source: about four minutes on two cores) for the interop test, tests/quickfix.rs, and prints
# its python. usage: scripts/quickfix-venv.sh <directory>
# Idempotent: an environment that already imports quickfix is reused.
set -euo pipefail
dir=$1
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
version=1.16.0
if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c 'import quickfix' 2>/dev/null; then
    echo "$dir/bin/python"
    exit 0
fi
rm -rf "$dir"
python3 -m venv "$dir"
echo "installing quickfix $version into $dir (a C++ build, a few minutes)" >&2
"$dir/bin/pip" install --quiet "quickfix==$version" >&2
"$dir/bin/python" -c 'import quickfix, quickfix44' >&2
echo "$dir/bin/python"
