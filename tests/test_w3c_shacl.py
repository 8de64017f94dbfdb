"""The W3C SHACL test suite through `tradekg validate --shapes S --data D --format turtle`.

Each test runs the command a user would run, parses the sh:ValidationReport
it prints, and compares it with the suite's expected report: sh:conforms and
the multiset of (focus node, result path, constraint component). The suite
sits beside the checkout (shared/conformance/w3c-shacl); without it these
tests skip. A test the suite expects to fail (sht:Failure) must be refused
with exit code 2; a SHACL-SPARQL test may be refused loudly (exit code 2 and
a message saying why) but never answered wrongly.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from rdflib import Graph

from kg.cli import cli
from tests import w3c_suite

# SHACL-SPARQL tests pySHACL (the complete engine) cannot run: refused, with its reason.
REFUSED = {
    "sparql/pre-binding/shapesGraph-001": "pySHACL does not bind $shapesGraph",
}


def _tests(folder: str) -> list[w3c_suite.SuiteTest]:
    if not (w3c_suite.SUITE / folder).is_dir():
        return []
    return w3c_suite.tests(folder)


def _params(folder: str) -> list[object]:
    found = _tests(folder)
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"W3C SHACL suite absent: {w3c_suite.SUITE / folder} (it sits beside the checkout in shared/)"))]
    return [pytest.param(t, id=t.name) for t in found]


def _run(test: w3c_suite.SuiteTest) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", "--shapes", str(test.shapes), "--data", str(test.data),
                                      "--format", "turtle"])
    return result.exit_code, result.stdout, result.stderr


def _check(test: w3c_suite.SuiteTest) -> None:
    code, out, err = _run(test)
    if test.failure or test.name in REFUSED:
        assert code == 2, f"expected a refusal, got exit {code}: {out[-2000:]}"
        assert "refused" in err
        return
    assert code in (0, 1), err[-2000:]
    report = Graph().parse(data=out, format="turtle")
    assert w3c_suite.outcome(test, report) == "agree"
    assert code == (0 if test.conforms else 1)


@pytest.mark.parametrize("test", _params("core"))
def test_core(test: w3c_suite.SuiteTest) -> None:
    _check(test)


@pytest.mark.parametrize("test", _params("sparql"))
def test_sparql(test: w3c_suite.SuiteTest) -> None:
    _check(test)


def test_the_suite_is_all_there() -> None:
    """The manifests list 98 core tests and 22 SHACL-SPARQL tests: none silently lost by the reader."""
    if not w3c_suite.SUITE.is_dir():
        pytest.skip(f"W3C SHACL suite absent: {w3c_suite.SUITE}")
    assert len(_tests("core")) == 98
    assert len(_tests("sparql")) == 22
