#!/usr/bin/env bash
# Run the tests whose answers depend on the date again under a clock a year ahead (libfaketime),
# so that a test that reads the real clock instead of the pinned "today" (tests/conftest.py) fails
# here, in CI, and not in a user's hands on some later day. Needs Debian's faketime (scripts/test.sh
# installs it as root) and the .venv that scripts/test.sh made. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null; then
  echo "test-dates: faketime is not installed (apt-get install faketime); the faked-clock run is skipped" >&2
  exit 0
fi
# The modules whose answers carry a date: saved queries with a status column, screen, show, the
# served pages, the ledger and history, the timeline, the docs' examples. Not the whole suite: under
# libfaketime a thread's timed wait never wakes (query deadlines, the server's watcher), and faking
# only the calendar (FAKETIME_DONT_FAKE_MONOTONIC) breaks those waits with EINVAL instead; foreign
# programs (Chromium, Virtuoso) do not take a preloaded clock well either. A new module whose answers
# depend on the date belongs in this list.
DATED=(
  tests/test_agencies.py tests/test_api.py tests/test_batch.py tests/test_cli.py tests/test_csl.py
  tests/test_curated.py tests/test_desk_edges.py tests/test_docs.py tests/test_export_timeline.py
  tests/test_ledger.py tests/test_ledger_sources.py tests/test_queries.py tests/test_reach.py
  tests/test_screen.py tests/test_show_reach.py tests/test_sources_ofac.py tests/test_world.py
  tests/test_terminal_words.py
  "tests/test_serve.py::test_every_saved_query_page_downloads_the_cli_answer"
)
OFFSET="${TRADEKG_FAKE_OFFSET:-+365d}"
echo "test-dates: the date-dependent tests again with the clock at $(faketime -f "$OFFSET" date -u +%F)"
# Bounded: a wait that never wakes under the faked clock fails the run instead of hanging CI.
exec timeout 1800 faketime -f "$OFFSET" .venv/bin/python -m pytest -q -p no:cacheprovider "${DATED[@]}" "$@"
