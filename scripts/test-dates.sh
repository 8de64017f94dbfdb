#!/usr/bin/env bash
# Run the tests again under a clock a year ahead (libfaketime), so that a test that reads
# the real clock instead of the pinned "today" (tests/conftest.py) fails here, in CI, and not
# in a user's hands on some later day. Needs Debian's faketime (scripts/test.sh installs it
# as root) and the .venv that scripts/test.sh made. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null; then
  echo "test-dates: faketime is not installed (apt-get install faketime); the faked-clock run is skipped" >&2
  exit 0
fi
# Left out: modules that drive foreign programs which do not take a preloaded clock well
# (Chromium, Virtuoso), the pure engine suites that read no date (W3C SHACL, fuzzing), and the
# server watcher's polling test: under libfaketime a thread's timed wait does not wake (faking only
# the calendar, FAKETIME_DONT_FAKE_MONOTONIC, breaks timed waits with EINVAL instead).
OFFSET="${TRADEKG_FAKE_OFFSET:-+365d}"
echo "test-dates: the suite again with the clock at $(faketime -f "$OFFSET" date -u +%F)"
exec faketime -f "$OFFSET" .venv/bin/python -m pytest -q -p no:cacheprovider \
  --ignore=tests/test_remote_virtuoso.py --ignore=tests/test_serve_browser.py \
  --ignore=tests/test_export_html.py --ignore=tests/test_html_view.py \
  --ignore=tests/test_serve_pages.py --ignore=tests/test_w3c_shacl.py \
  --ignore=tests/test_fuzz_csl.py --ignore=tests/test_fuzz_loaders.py \
  --deselect tests/test_input_limits.py::test_the_watcher_says_once_that_it_cannot_load_a_version \
  "$@"
