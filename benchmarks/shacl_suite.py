"""The W3C SHACL suite's counts (agree / refused / differ) for the build's validator and for pySHACL.

Usage::

    python benchmarks/shacl_suite.py            # core and sparql, side by side

The build's validator runs as ``tradekg validate --shapes S --data D --format
turtle`` does (``kg.checks.files.validate_files``); pySHACL runs on the same
files parsed by rdflib, with inference off and every severity counted, as
SHACL defines ``sh:conforms``. A refusal is the engine declining the shapes
(an error, or pySHACL's ValidationFailure); for the tests the suite expects
to fail (sht:Failure), a refusal is the right answer and counts as agreement.
The suite is the W3C SHACL test suite (the data-shapes repository's core and sparql
manifests), read where the test suite reads it (``tests/w3c_suite.SUITE``); the
script says so and stops when it is absent.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rdflib import Graph  # noqa: E402

from tests import w3c_suite  # noqa: E402


def ours(data: Path, shapes: Path) -> Graph:
    from kg.checks.files import validate_files
    from kg.checks.results import report_graph

    return report_graph(validate_files([data], [shapes]))


def pyshacl(data: Path, shapes: Path) -> Graph:
    from pyshacl import validate

    _, report, _ = validate(w3c_suite.load(data), shacl_graph=w3c_suite.load(shapes), inference="none",
                            advanced=True)
    if not isinstance(report, Graph):
        raise RuntimeError(getattr(report, "message", str(report)))
    return report


def count(engine: Callable[[Path, Path], Graph], folder: str) -> tuple[dict[str, int], list[str], float]:
    counts = {"agree": 0, "refused": 0, "differ": 0}
    notes = []
    start = time.perf_counter()
    for test in w3c_suite.tests(folder):
        try:
            verdict = w3c_suite.outcome(test, engine(test.data, test.shapes))
        except Exception as error:  # any refusal counts, whatever its kind
            verdict = "agree" if test.failure else f"refused: {str(error).splitlines()[0][:120]}"
        kind = verdict.split(":", 1)[0]
        counts[kind] += 1
        if kind != "agree":
            notes.append(f"  {test.name}: {verdict}")
    return counts, notes, time.perf_counter() - start


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore")
    if not w3c_suite.SUITE.is_dir():
        sys.exit(f"the W3C SHACL suite is not at {w3c_suite.SUITE}")
    out("| suite | engine | tests | agree | refused | differ | seconds |")
    out("|---|---|---|---|---|---|---|")
    details = []
    for folder in ("core", "sparql"):
        for name, engine in (("tradekg (build's validator)", ours), ("pySHACL", pyshacl)):
            counts, notes, seconds = count(engine, folder)
            total = sum(counts.values())
            out(f"| {folder} | {name} | {total} | {counts['agree']} | {counts['refused']} | {counts['differ']} "
                  f"| {seconds:.1f} |")
            details += [f"{folder}, {name}:", *notes] if notes else []
    out("\n".join(["", *details]))


if __name__ == "__main__":
    main()
