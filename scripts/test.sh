#!/usr/bin/env bash
# Set up a virtual environment with tradekg and its test dependencies, then run
# every test. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# Graphviz draws the SVG/PNG exports; chromium and its driver open the HTML export in the
# export tests; Virtuoso is the second SPARQL server the remote suite runs against
# (tests/test_remote_virtuoso.py); faketime runs scripts/test-dates.sh; pkg-config and libicu-dev
# let pip build PyICU, which followthemoney (the FtM export tests) needs. Installed where we may (root with apt, as on CI);
# elsewhere those tests skip.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz chromium chromium-driver virtuoso-opensource faketime pkg-config libicu-dev >/dev/null
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
