#!/usr/bin/env bash
# Set up tradekg in a virtual environment, build the graph from data/ (load,
# validate, derive, store) and answer the headline question: which rules
# affect Huawei?
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# The extras the README's examples use: pictures (timeline) and pandas (the Python API's to_pandas).
.venv/bin/python -m pip install --quiet -e '.[pictures,pandas]'
.venv/bin/tradekg build
.venv/bin/tradekg query rules-affecting-firm -p firm=Huawei "$@"
