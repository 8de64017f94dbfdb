"""The remote suite against a second, different server: Debian's Virtuoso Open Source.

Skipped where Virtuoso is not installed (``scripts/test.sh`` installs it as root with
apt: ``apt-get install virtuoso-opensource``);
the Oxigraph suite in test_remote.py is the one every run has. What differs on
Virtuoso is written down here as expected failures with the reason, so a
change in either engine shows up:

- it stores an integral ``xsd:decimal`` (appropriation amounts) as ``xsd:integer``;
- ``GROUP_CONCAT`` joins values in another order (SPARQL leaves it undefined),
  and drops the language tag that Oxigraph keeps when all values share one;
- ``ORDER BY`` does not put long strings in code-point order.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg.answers.queries import find_query, run_saved
from kg.errors import NotFound
from kg.graph.backend import EmbeddedBackend, with_values
from kg.graph.remote import Auth, Endpoint, RemoteBackend, RemoteError
from kg.graph.store import VersionedStore
from kg.pipeline.push import push
from tests.servers import VirtuosoServer, virtuoso_executable
from tests.test_queries import CASES
from tests.test_remote import CURATED_CASES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(virtuoso_executable() is None,
                       reason="Virtuoso is not installed (apt-get install virtuoso-opensource)"),
]

CURATED = "https://example.org/tradekg/curated"
XSD_DECIMAL = URIRef("http://www.w3.org/2001/XMLSchema#decimal")
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
MINI = "https://example.org/tradekg/mini"

# case -> why Virtuoso's rows differ from Oxigraph's (see the module docstring).
DIFFERS = {
    ("curated", "rules-affecting-firm"): "GROUP_CONCAT order of ?sources",
    ("curated", "rules-affecting-firm-bolivia"): "GROUP_CONCAT order of ?sources",
    ("curated", "exceptions-for-firm"): "GROUP_CONCAT order and language tag",
    ("curated", "firms-affected-by-rule"): "ORDER BY on long names",
    ("curated", "designations"): "ORDER BY on long names",
    ("curated", "designations-all"): "ORDER BY on long names",
    ("mini", "exceptions-for-firm"): "GROUP_CONCAT drops the shared language tag",
    # Found on 2026-12-07 after the list-size and known-since columns came in; not yet worked round:
    # Virtuoso prints the status of designations as "holds on true" (it evaluates the as-of date ?on
    # wrongly in this query's shape), and CONCAT with an unbound list title gives "entry on the "
    # where SPARQL makes it unbound (firm-timeline). docs/servers.md says so to users.
    ("mini", "designations"): "status reads 'holds on true' on Virtuoso",
    ("mini", "designations-as-of"): "status reads 'holds on true' on Virtuoso",
    ("curated", "firm-timeline"): "CONCAT with an unbound value is not unbound on Virtuoso",
}
# More rows than the embedded store (found on 2026-12-07): designations' "entries held" part keeps a
# list's latest size with a FILTER inside an OPTIONAL that reads the outer as-of date, which SPARQL
# allows and Virtuoso evaluates otherwise, so a party on a list with several recorded sizes comes
# back once per size. docs/servers.md says so to users.
WRONG_COUNT = {
    ("curated", "designations-all"): "designations repeats rows per recorded list size on Virtuoso",
}


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory, mini_store: VersionedStore,
             curated_store: VersionedStore) -> Iterator[VirtuosoServer]:
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso")).start()
    try:
        push(mini_store, _endpoint(server, MINI))
        push(curated_store, _endpoint(server, CURATED))
        yield server
    finally:
        server.stop()


def _endpoint(server: VirtuosoServer, graph: str) -> Endpoint:
    return Endpoint(server.query_url, graph=graph, auth=Auth(), store_url=server.store_url,
                    update_url=server.query_url)


def _integral_decimals_as_integers(graph: Graph) -> Graph:
    """What Virtuoso does to ``"1000000"^^xsd:decimal`` on the way in."""
    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype == XSD_DECIMAL and "." not in str(o):
            o = Literal(str(o), datatype=XSD_INTEGER)
        out.add((s, p, o))
    return out


@pytest.mark.parametrize("which", ["mini", "curated"])
def test_push_then_read_back(which: str, virtuoso: VirtuosoServer, mini_backend: EmbeddedBackend,
                             curated_backend: EmbeddedBackend) -> None:
    embedded = (mini_backend if which == "mini" else curated_backend).all_triples()
    served = RemoteBackend(_endpoint(virtuoso, MINI if which == "mini" else CURATED)).all_triples()
    assert len(served) == len(embedded)
    assert isomorphic(served, _integral_decimals_as_integers(embedded))


def _cases() -> list[tuple[str, str]]:
    return [("mini", c) for c in sorted(CASES)] + [("curated", c) for c in sorted(CURATED_CASES)]


@pytest.mark.parametrize(("which", "case"), _cases())
def test_saved_query_on_virtuoso(which: str, case: str, virtuoso: VirtuosoServer, mini_backend: EmbeddedBackend,
                                 curated_backend: EmbeddedBackend) -> None:
    name, params = (CASES if which == "mini" else CURATED_CASES)[case]
    embedded = run_saved(find_query(name), params, mini_backend if which == "mini" else curated_backend)
    served = run_saved(find_query(name), params,
                       RemoteBackend(_endpoint(virtuoso, MINI if which == "mini" else CURATED)))
    assert served.variables == embedded.variables
    if (which, case) in WRONG_COUNT and len(served.rows) != len(embedded.rows):
        pytest.xfail(WRONG_COUNT[(which, case)])
    assert len(served.rows) == len(embedded.rows)
    reason = DIFFERS.get((which, case))
    if reason and served.rows != embedded.rows:
        # Same rows as a set of (column, value) pairs would need GROUP_CONCAT parsed; the count is checked.
        pytest.xfail(reason)
    assert served.rows == embedded.rows


@pytest.mark.parametrize("hostile", ['"} ; DROP ALL ; {', "> <http://evil>", "x' } UNION { ?s ?p ?o", 'a"b\\"c'])
def test_injection_on_virtuoso(hostile: str, virtuoso: VirtuosoServer) -> None:
    backend = RemoteBackend(_endpoint(virtuoso, MINI))
    before = len(backend.all_triples())
    with pytest.raises(NotFound):
        run_saved(find_query("rules-affecting-firm"), {"firm": hostile}, backend)
    assert len(backend.all_triples()) == before
    literal = Literal(hostile)
    assert backend.select(with_values("SELECT ?x WHERE { }", {"x": literal})).rows == [{"x": literal}]


def test_virtuoso_rejection_carries_its_message(virtuoso: VirtuosoServer) -> None:
    with pytest.raises(RemoteError, match=r"rejected the query \(HTTP 400\): .*SPARQL"):
        RemoteBackend(_endpoint(virtuoso, MINI)).select("SELECT WHERE {")
