"""The dataset described for linked-data clients: SPARQL 1.1 Service Description, VoID, DCAT (issue 23).

Each description is parsed as RDF (rdflib) and checked against the graph it
describes: the counts are the graph's counts, the dump holds the graph, and
each source has its publisher, licence where known, and (for an imported
file) the time it was read and its hash.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, VOID

from kg.cli import cli
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from tests.conftest import REPO
from tests.serving import Served, request, serving

pytestmark = pytest.mark.slow

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
TKG = Namespace("https://w3id.org/tradekg/ontology#")
ID = Namespace("https://w3id.org/tradekg/id/")
DATASET = URIRef("https://w3id.org/tradekg/dataset")
PUBLIC_DOMAIN = URIRef("https://creativecommons.org/publicdomain/mark/1.0/")
CC_BY_NC = URIRef("https://creativecommons.org/licenses/by-nc/4.0/")
HUAWEI_BLOCK = REPO.parent / "shared" / "realdata" / "csl" / "csl_consolidated_2025_entity_list_huawei_block.csv"


@pytest.fixture(scope="module")
def served(curated_store: VersionedStore) -> Iterator[Served]:
    with serving(curated_store.path) as s:
        yield s


def _graph(body: bytes, fmt: str = "turtle") -> Graph:
    g = Graph()
    g.parse(data=body.decode("utf-8"), format=fmt)
    return g


def _triples(backend: EmbeddedBackend) -> int:
    return int(backend.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0]["n"])  # type: ignore[call-overload]


def test_the_endpoint_without_a_query_describes_itself(served: Served, curated_backend: EmbeddedBackend) -> None:
    for accept, fmt in (("text/turtle", "turtle"), ("application/rdf+xml", "xml"),
                        ("application/ld+json", "json-ld"), ("", "turtle")):
        status, headers, body = request(served.sparql, headers={"Accept": accept} if accept else {})
        assert status == 200, body
        assert headers["content-type"].split(";")[0] == (accept or "text/turtle")
        g = _graph(body, fmt)
        service = URIRef(served.sparql)
        assert (service, RDF.type, SD.Service) in g
        assert (service, SD.endpoint, service) in g
        assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
        assert (service, SD.resultFormat, URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON")) in g
        dataset = g.value(service, SD.defaultDataset)
        default = g.value(dataset, SD.defaultGraph)
        assert g.value(default, VOID.triples).toPython() == _triples(curated_backend)
    # A browser still gets the query form; a POST without a query is still an error.
    status, _, page = request(served.sparql, headers={"Accept": "text/html"})
    assert status == 200 and b"<form" in page
    status, _, _ = request(served.sparql, data=b"", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400


def test_void_counts_partitions_examples_and_a_dump_that_holds_the_graph(
        served: Served, curated_backend: EmbeddedBackend) -> None:
    status, headers, body = served.get("/.well-known/void")
    assert status == 200 and headers["content-type"].startswith("text/turtle")
    g = _graph(body)
    assert (DATASET, RDF.type, VOID.Dataset) in g
    triples = _triples(curated_backend)
    assert g.value(DATASET, VOID.triples).toPython() == triples
    firms = int(curated_backend.select(
        "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <https://w3id.org/tradekg/ontology#Company> }").rows[0]["n"])  # type: ignore[call-overload]
    partitions = {g.value(p, VOID["class"]): g.value(p, VOID.entities).toPython()
                  for p in g.objects(DATASET, VOID.classPartition)}
    assert partitions[TKG.Company] == firms
    properties = {g.value(p, VOID.property): g.value(p, VOID.triples).toPython()
                  for p in g.objects(DATASET, VOID.propertyPartition)}
    assert sum(properties.values()) == triples
    assert g.value(DATASET, VOID.classes).toPython() == len(partitions)
    assert ID["company/huawei"] in set(g.objects(DATASET, VOID.exampleResource))
    assert g.value(DATASET, VOID.sparqlEndpoint) == URIRef(served.sparql)
    assert str(g.value(DATASET, VOID.uriSpace)) == str(ID)
    dump = str(g.value(DATASET, VOID.dataDump))
    status, _, nt = request(dump)
    assert status == 200
    assert len(_graph(nt, "nt")) == triples


def test_dcat_names_each_source_with_publisher_and_licence(served: Served,
                                                           curated_backend: EmbeddedBackend) -> None:
    status, _, body = served.get("/dcat")
    assert status == 200
    g = _graph(body)
    catalog = next(g.subjects(RDF.type, DCAT.Catalog))
    sources = {row["s"] for row in curated_backend.select(
        "SELECT ?s WHERE { ?s a <https://w3id.org/tradekg/ontology#Source> }").rows}
    listed = set(g.objects(catalog, DCAT.dataset)) - {DATASET}
    assert listed == sources
    fr = ID["source/fr-84-22961"]
    assert str(g.value(g.value(fr, DCTERMS.publisher), FOAF.name)) == "Office of the Federal Register"
    assert g.value(fr, DCTERMS.license) == PUBLIC_DOMAIN
    assert g.value(fr, DCTERMS.issued) == Literal("2019-05-21", datatype=URIRef(
        "http://www.w3.org/2001/XMLSchema#date"))
    assert g.value(ID["source/os-dod-1260h-sanctions"], DCTERMS.license) == CC_BY_NC
    news = ID["source/techradar-standards-article"]
    assert g.value(news, DCTERMS.license) is None
    assert "licence not recorded" in str(g.value(news, DCTERMS.rights))
    service = URIRef(served.sparql)
    assert (service, DCAT.servesDataset, DATASET) in g


def test_export_void_and_dcat_with_an_imported_files_time_and_hash(curated_store: VersionedStore,
                                                                   tmp_path: Path) -> None:
    if not HUAWEI_BLOCK.is_file():
        pytest.skip(f"real data file {HUAWEI_BLOCK} is absent (it sits beside the checkout in shared/realdata)")
    store = tmp_path / "store"
    shutil.copytree(curated_store.path, store, symlinks=True)
    done = subprocess.run([sys.executable, "-m", "kg", "import", "csl", str(HUAWEI_BLOCK), "--partial",
                           "--as-of", "2025-06-01", "--store", str(store)], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    runner = CliRunner()
    for fmt in ("void", "dcat"):
        out = tmp_path / f"{fmt}.ttl"
        result = runner.invoke(cli, ["export", fmt, "--store", str(store), "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "statements" in result.output
        _graph(out.read_bytes())
    g = _graph((tmp_path / "dcat.ttl").read_bytes())
    manifest = VersionedStore(store).manifest()
    entry = next(e for e in manifest["ledger"] if e["kind"] == "import csl")
    digest = entry["inputs"][0]["sha256"]
    checksums = {str(v): c for c, v in g.subject_objects(SPDX.checksumValue)}
    assert digest in checksums
    distribution = next(g.subjects(SPDX.checksum, checksums[digest]))
    assert str(g.value(distribution, DCTERMS.issued)) == entry["at"]
    assert g.value(distribution, DCTERMS.license) == PUBLIC_DOMAIN  # trade.gov: a US Government work
    result = runner.invoke(cli, ["export", "void", "--store", str(store), "-o", str(tmp_path / "void.svg")])
    assert result.exit_code != 0
