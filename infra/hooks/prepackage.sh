#!/bin/sh
# azd prepackage hook: ship the app's bytecode. A Flex Consumption app runs from its package,
# mounted read-only, so Python cannot write __pycache__ there and compiles every module of the
# app from source on each cold start (about a tenth of `import function_app` here; see
# bench/cold_start.py). checked-hash pycs stay valid whatever the zip does to file times, and
# a source that changed is compiled again as usual. Only a Python of the app's version
# (3.11, infra/main.bicep) writes files the host will read: another one's are ignored there.
set -eu

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -m compileall -q --invalidation-mode checked-hash function_app.py shared channels
echo "prepackage: compiled the app's modules with $("$PYTHON" -c 'import sys; print(sys.implementation.cache_tag)')"
