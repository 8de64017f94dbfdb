"""``tradekg export``: every format, where it writes, what it says, how it fails; and a 100k-triple store."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.graph.ontology import ontology_graph
from kg.graph.store import VersionedStore
from kg.graph.terms import graph_to_quads
from kg.namespaces import DATA, SCHEMA, TKG
from kg.pipeline.build import build
from tests.conftest import MINI, mini_files

TEXT_FORMATS = ("turtle", "ntriples", "nquads", "jsonld", "graphml", "gexf", "dot", "html")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (Debian: apt-get install graphviz)")


def run(runner: CliRunner, store: VersionedStore, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["export", *args, "--store", str(store.path)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_text_formats_go_to_stdout_with_a_size_line(fmt: str, mini_store: VersionedStore,
                                                    runner: CliRunner) -> None:
    code, out, err = run(runner, mini_store, fmt, "--focus", "ParentCo", "--depth", "1")
    assert code == 0, err
    assert out.strip()
    assert re.match(rf"wrote standard output: \d+ (statements|nodes, \d+ edges) as {fmt} \(\d", err)


@pytest.mark.parametrize("fmt", ["svg", "png"])
@needs_dot
def test_pictures_go_to_files(fmt: str, mini_store: VersionedStore, runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / f"parentco.{fmt}"
    code, stdout, err = run(runner, mini_store, fmt, "--focus", "ParentCo", "-o", str(out))
    assert code == 0, err
    assert stdout == "" and out.stat().st_size > 1000
    assert f"wrote {out}: " in err


def test_aliases_effects_and_layout(mini_store: VersionedStore, runner: CliRunner) -> None:
    code, plain, _ = run(runner, mini_store, "gv", "--focus", "ParentCo")
    assert code == 0 and "designates" not in plain
    code, effects, _ = run(runner, mini_store, "dot", "--focus", "ParentCo", "--effects", "--layout", "dot")
    assert code == 0
    assert 'layout="dot"' in effects and re.search(r'label="designates · (named|through parent)"', effects)
    assert 'style="dashed"' in effects


def test_usage_errors_exit_2(mini_store: VersionedStore, runner: CliRunner, tmp_path: Path) -> None:
    for args, message in (
        (["html", "--depth", "2"], "pass --focus ENTITY too"),
        (["html", "--layout", "dot"], "--layout applies to dot, svg and png"),
        (["pdf"], "Invalid value for 'FORMAT'"),
        (["html", "-o", str(tmp_path / "missing" / "x.html")], "does not exist"),
        (["html", "--focus", "Nobody Ltd"], "--focus: no entity in the graph is named 'Nobody Ltd'"),
        (["graphml", "--type", "firms"], "unknown table firms"),
    ):
        code, _, err = run(runner, mini_store, *args)
        assert code == 2, args
        assert message in err, (args, err)


def test_missing_store_says_how_to_build_it(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["export", "turtle", "--store", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "tradekg build" in result.stderr


def test_merge_defaults_per_format(tmp_path: Path, runner: CliRunner) -> None:
    data = tmp_path / "mini"
    shutil.copytree(MINI, data)
    designations = data / "designations.csv"
    designations.write_text(designations.read_text(encoding="utf-8") + (
        "d-twin,affco,list-a,r-list,r-mod,2020-03-01,2020-02-28,,For all items,presumption-of-denial,,"
        "fixture,confirmed,\n"), encoding="utf-8")
    store = VersionedStore(tmp_path / "store")
    build(store, mini_files(data))
    _, dot, _ = run(runner, store, "dot")
    _, graphml, _ = run(runner, store, "graphml")
    _, dot_apart, _ = run(runner, store, "dot", "--no-merge")
    assert "2 parties" in dot and "2 parties" not in dot_apart
    assert "urn:tradekg:picture:group:" not in graphml and "designation/d-twin" in graphml


# ---------------------------------------------------------------------------
# A store of 100k triples
# ---------------------------------------------------------------------------

def synthetic_store(path: Path, companies: int) -> VersionedStore:
    """Companies listed on one list by a rule per ten firms, with sources: the shape of our data.

    Written as N-Triples text and parsed by Oxigraph, which is five times faster
    than building the quads one Python object at a time.
    """
    def iri(kind: str, identifier: str) -> str:
        return f"<{DATA}{kind}/{identifier}>"

    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    source_p = "<http://purl.org/dc/terms/source>"
    lines: list[str] = []

    def add(s: str, p: str, o: str) -> None:
        lines.append(f"{s} {p} {o} .")

    agency, the_list, source = iri("agency", "a"), iri("list", "l"), iri("source", "s")
    for node, cls, name in ((agency, TKG.Agency, "Agency A"), (the_list, TKG.RestrictedPartyList, "List L"),
                            (source, TKG.Source, "Source S")):
        add(node, rdf_type, f"<{cls}>")
        add(node, label, f'"{name}"')
    rule = iri("rule", "r0")
    for i in range(companies):
        company, designation = iri("company", f"c{i}"), iri("designation", f"d{i}")
        if i % 10 == 0:
            rule = iri("rule", f"r{i}")
            add(rule, rdf_type, f"<{TKG.Rule}>")
            add(rule, label, f'"Rule {i}"')
            add(rule, "<http://purl.org/dc/terms/bibliographicCitation>", f'"{i} FR {i}"')
            add(rule, "<http://data.europa.eu/eli/ontology#passed_by>", agency)
            add(rule, source_p, source)
        add(company, rdf_type, f"<{TKG.Company}>")
        add(company, label, f'"Company {i} <Ltd>"')
        add(company, f"<{SCHEMA.legalName}>", f'"Company {i} <Ltd>"')
        add(company, f"<{SCHEMA.addressCountry}>", '"CN"')
        add(company, source_p, source)
        if i % 7 == 3:
            add(company, f"<{SCHEMA.parentOrganization}>", iri("company", f"c{i - 1}"))
        add(designation, rdf_type, f"<{TKG.Designation}>")
        add(designation, f"<{TKG.designatedParty}>", company)
        add(designation, f"<{TKG.onList}>", the_list)
        add(designation, f"<{TKG.designatedBy}>", rule)
        add(designation, f"<{SCHEMA.startDate}>",
            f'"20{10 + i % 15}-01-01"^^<http://www.w3.org/2001/XMLSchema#date>')
        add(designation, source_p, source)
    store = VersionedStore(path)
    with store.write(from_current=False) as target:
        target.load("\n".join(lines).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
        target.extend(graph_to_quads(ontology_graph()))
    return store


@pytest.mark.slow
def test_whole_store_of_100k_triples(tmp_path: Path, runner: CliRunner) -> None:
    store = synthetic_store(tmp_path / "big", 8600)
    started = time.monotonic()
    nt = tmp_path / "all.nt"
    code, _, err = run(runner, store, "nt", "-o", str(nt))
    assert code == 0, err
    count = int(re.search(r": (\d+) statements as ntriples \(([\d.]+) MB\)", err).group(1))  # type: ignore[union-attr]
    assert count >= 100_000 and count == sum(1 for _ in nt.open(encoding="utf-8"))

    graphml = tmp_path / "all.graphml"
    code, _, err = run(runner, store, "graphml", "-o", str(graphml))
    assert code == 0, err
    assert re.search(r"wrote .*all\.graphml: \d{5} nodes, \d{5} edges as graphml \([\d.]+ MB\)", err), err
    assert "warning" not in err  # a file for Gephi is fine at any size

    code, _, err = run(runner, store, "dot", "-o", str(tmp_path / "all.dot"))
    assert code == 0, err
    assert re.search(r"warning: \d+ nodes are too many to read in one picture; narrow it with --focus", err)
    assert time.monotonic() - started < 120  # about 10 s here; the bound only catches a runaway
