"""Writing to a SPARQL server: ``push`` the built graph, ``load`` new CSV facts into it.

A push must be all or nothing for the people reading the target graph, even
though a large graph has to travel in many HTTP requests. So the chunks go into
a fresh *staging* graph (``urn:tradekg:staging:<uuid>``), which no reader
looks at, and only when every chunk has arrived does one SPARQL Update request
put it in place (``DROP SILENT GRAPH <target> ; ADD <staging> TO <target>``, or
only the ``ADD`` to add). On a server that runs each update request in one
transaction (Oxigraph does; see the README for others) readers see the old
graph or the new one, never half. The staging graph is dropped afterwards, in
a second request that readers do not wait for. (``MOVE`` would say the same in
one operation, but Oxigraph 0.5 took 2 to 3 times longer for it than for DROP
plus ADD: 13 to 31 s against 6 to 11 s at 100k triples.) If anything fails
before the switch, the target is untouched and we try to drop the staging graph.

Blank nodes are fresh in every request, so all triples that mention a blank
node travel in one chunk (in this project only the ontology's ``owl:unionOf``
lists have any).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph
from rdflib.term import Node

from kg.graph.ontology import ontology_graph
from kg.graph.remote import Endpoint, RemoteBackend, RemoteError, send
from kg.graph.store import VersionedStore
from kg.graph.terms import graph_to_quads, to_oxigraph
from kg.loaders import InputFile
from kg.pipeline import build as builder

DEFAULT_CHUNK = 50_000
MODES = ("replace", "add")
STAGING_PREFIX = "urn:tradekg:staging:"

Progress = Callable[[int], None]


@dataclass
class PushOutcome:
    triples: int
    chunks: int
    seconds: float
    target: str  # "the default graph" or <IRI>
    server_triples: int | None  # what the target holds afterwards, when it could be counted
    leftover: str | None = None  # a staging graph that could not be dropped after the switch
    phases: dict[str, float] = field(default_factory=dict)  # seconds: upload, switch, cleanup


def _iri(graph: str) -> str:
    """A graph IRI written by Oxigraph's serialiser, which refuses what an IRI cannot hold."""
    return str(ox.NamedNode(graph))


def _graph_ref(graph: str | None) -> str:
    return f"GRAPH {_iri(graph)}" if graph else "DEFAULT"


def switch_update(staging: str, target: str | None, mode: str) -> str:
    """The one update request that makes the staged graph the target's content (replace) or adds it."""
    add = f"ADD GRAPH {_iri(staging)} TO {_graph_ref(target)}"
    if mode == "add":
        return add
    clear = f"DROP SILENT GRAPH {_iri(target)}" if target else "CLEAR SILENT DEFAULT"
    return f"{clear} ;\n{add}"


def _target_name(graph: str | None) -> str:
    return f"<{graph}>" if graph else "the default graph"


def _chunks(store: ox.Store, size: int) -> Iterator[list[ox.Triple]]:
    """The default graph's triples in chunks of ``size``; blank-node triples together, last."""
    with_bnodes: list[ox.Triple] = []
    chunk: list[ox.Triple] = []
    for quad in store.quads_for_pattern(None, None, None, ox.DefaultGraph()):
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        if isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode):
            with_bnodes.append(triple)
            continue
        chunk.append(triple)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    if with_bnodes:
        yield with_bnodes


def _post_chunk(endpoint: Endpoint, graph: str, body: bytes) -> None:
    url = f"{endpoint.graph_store()}?{urllib.parse.urlencode({'graph': graph})}"

    def request() -> urllib.request.Request:
        return urllib.request.Request(url, data=body, method="POST",
                                      headers={"Content-Type": "application/n-triples"})

    send(endpoint, request, "upload (Graph Store POST)")


def count_triples(backend: RemoteBackend, graph: str) -> int:
    """Triples in a named graph, counted by the server."""
    table = backend.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {_iri(graph)} {{ ?s ?p ?o }} }}")
    return int(str(table.rows[0]["n"])) if table.rows else 0


def push(store: VersionedStore, endpoint: Endpoint, mode: str = "replace", chunk_size: int = DEFAULT_CHUNK,
         progress: Progress | None = None) -> PushOutcome:
    """Upload the store's graph to ``endpoint.graph`` (or the default graph), all or nothing.

    ``replace`` makes the target exactly the built graph; ``add`` adds the
    built graph's triples to what the target holds. ``progress`` is called
    with the number of triples sent after each chunk.
    """
    if mode not in MODES:
        raise RemoteError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if chunk_size < 1:
        raise RemoteError("--chunk-size must be at least 1")
    reader = store.open_read()
    backend = RemoteBackend(replace(endpoint, graph=None))
    staging = f"{STAGING_PREFIX}{uuid.uuid4()}"
    target = endpoint.graph
    started = time.perf_counter()
    sent = chunks = 0
    moved = False
    try:
        for chunk in _chunks(reader, chunk_size):
            _post_chunk(endpoint, staging, ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES))
            sent += len(chunk)
            chunks += 1
            if progress:
                progress(len(chunk))
        if sent == 0:
            raise RemoteError("the store's graph is empty; run `tradekg build` first")
        uploaded = time.perf_counter()
        try:
            backend.update(switch_update(staging, target, mode))
        except RemoteError as exc:
            raise RemoteError(
                f"push failed at the final switch of {_target_name(target)}: {exc}. Readers see the old "
                "graph, or the new one if the server applied the switch before the failure"
            ) from None
        moved = True
    except BaseException as exc:
        if not moved:
            _drop_quietly(backend, staging)
        if isinstance(exc, RemoteError) and not str(exc).startswith("push failed"):
            raise RemoteError(
                f"push failed after {sent} of the graph's triples: {exc}. {_target_name(target)} was not "
                f"changed (if the server stays down, drop the staging graph <{staging}> later)"
            ) from None
        raise
    switched = time.perf_counter()
    leftover = None
    try:
        backend.update(f"DROP SILENT GRAPH {_iri(staging)}")
    except RemoteError:
        leftover = staging  # the push itself succeeded: readers already see the new graph
    finished = time.perf_counter()
    server_triples = count_triples(backend, target) if target and mode == "replace" else None
    phases = {"upload": uploaded - started, "switch": switched - uploaded, "cleanup": finished - switched}
    return PushOutcome(sent, chunks, finished - started, _target_name(target), server_triples, leftover, phases)


def _drop_quietly(backend: RemoteBackend, staging: str) -> None:
    """Best effort: the push has already failed; a second error must not hide the first."""
    quick = RemoteBackend(replace(backend.endpoint, retries=0, timeout=min(backend.endpoint.timeout, 10.0)))
    with contextlib.suppress(Exception):
        quick.update(f"DROP SILENT GRAPH {_iri(staging)}")


@dataclass
class RemoteLoadOutcome:
    outcome: builder.Outcome
    inserted: int
    deleted: int
    concurrent: int = 0  # other loads that committed on the same graph at the same moment
    corrected: int = 0  # rule-effect triples this load then corrected, derived from both loads' facts


def _has_bnode(triple: tuple[Node, Node, Node]) -> bool:
    return any(isinstance(t, BNode) for t in triple)


def _n3(triple: tuple[Node, Node, Node]) -> tuple[str, ...]:
    return tuple(t.n3() for t in triple)


def _data_block(triples: list[tuple[Node, Node, Node]], graph: str | None) -> str:
    lines = "\n".join(" ".join(str(to_oxigraph(t)) for t in triple) + " ." for triple in triples)
    return f"GRAPH {_iri(graph)} {{\n{lines}\n}}" if graph else lines


# Each `load --endpoint` leaves a receipt in a graph of its own (never in what readers read),
# naming the receipt of the load it planned on: two receipts naming the same one are two loads
# that planned on the same graph and both committed.
REVISION_PREFIX = "urn:tradekg:revision:"
_LATEST = "urn:tradekg:latest"  # predicate: the graph's latest receipt
_AFTER = "urn:tradekg:after"  # predicate: the receipt a load planned on ("" for none)
_RECEIPT_PREFIX = "urn:tradekg:load:"


def revision_graph(target: str | None) -> str:
    return REVISION_PREFIX + (urllib.parse.quote(target, safe="") if target else "default")


def _bookkeeping(endpoint: Endpoint) -> RemoteBackend:
    return RemoteBackend(replace(endpoint, graph=None))


def read_revision(backend: RemoteBackend, target: str | None) -> str:
    """The receipt of the load the target graph last took ("" before the first ``load --endpoint``)."""
    table = _bookkeeping(backend.endpoint).select(
        f"SELECT ?r WHERE {{ GRAPH {_iri(revision_graph(target))} {{ {_iri(_LATEST)} {_iri(_LATEST)} ?r }} }}")
    values = sorted(str(row["r"]) for row in table.rows if "r" in row)
    return values[0] if values else ""


def commit_update(deletes: list[tuple[Node, Node, Node]], inserts: list[tuple[Node, Node, Node]],
                  target: str | None, base: str, receipt: str) -> str:
    """One update: the change, the new latest receipt, and the receipt saying which graph it was planned on."""
    graph = _iri(revision_graph(target))
    latest = f"{_iri(_LATEST)} {_iri(_LATEST)}"
    removed = (_data_block(deletes, target) if deletes else "") + f"\nGRAPH {graph} {{ {latest} ?old . }}"
    added = (_data_block(inserts, target) if inserts else "")
    added += (f"\nGRAPH {graph} {{ {latest} {ox.Literal(receipt)} . "
              f"{_iri(_RECEIPT_PREFIX + receipt)} {_iri(_AFTER)} {ox.Literal(base)} . }}")
    return (f"DELETE {{\n{removed}\n}}\nINSERT {{\n{added}\n}}\n"
            f"WHERE {{ OPTIONAL {{ GRAPH {graph} {{ {latest} ?old }} }} }}")


def _siblings(endpoint: Endpoint, base: str, receipt: str) -> list[str]:
    """Other loads that planned on the same graph as ``receipt`` and have committed."""
    table = _bookkeeping(endpoint).select(
        f"SELECT ?load WHERE {{ GRAPH {_iri(revision_graph(endpoint.graph))} "
        f"{{ ?load {_iri(_AFTER)} {ox.Literal(base)} }} }}")
    return sorted(str(r["load"]) for r in table.rows if str(r["load"]) != _RECEIPT_PREFIX + receipt)


def load_remote(files: list[InputFile], endpoint: Endpoint) -> RemoteLoadOutcome:
    """Add the facts of ``files`` to the server's graph, validated with what is already there.

    The server's graph (``endpoint.graph`` or the default graph) is copied into
    a temporary embedded store, and the files are loaded on top of it exactly as
    ``tradekg load`` does locally: every reference checked, SHACL on the whole
    graph, rule effects re-derived from all facts. Only when that conforms is
    the difference (new facts, new derived effects, and derived effects that no
    longer hold) sent in one SPARQL Update request, which Oxigraph applies in one
    transaction. This reads the whole graph: fine up to a few million triples;
    beyond that, build locally and ``push``.

    Two loads at once: a SPARQL server gives no compare-and-set (Oxigraph
    evaluates an update's WHERE on a snapshot, so two guarded updates both
    match; tested), so the loads are not kept from committing together.
    Instead each commit leaves a receipt naming the graph it was planned on,
    and each load then looks for another receipt on the same graph. Finding
    one, it reads the graph both loads made, derives the rule effects again
    from all the facts, validates, and sends the correction; the later of two
    loads always finds the earlier, so the graph never stays without the
    effects of both. If the two loads together do not conform, it says so.
    """
    backend = RemoteBackend(endpoint)
    base = read_revision(backend, endpoint.graph)  # before the graph: a load in between shows as a sibling
    outcome, deletes, inserts = _plan_remote_load(files, backend)
    receipt = str(uuid.uuid4())
    backend.update(commit_update(deletes, inserts, endpoint.graph, base, receipt))
    siblings = _siblings(endpoint, base, receipt)
    corrected = rederive_remote(backend) if siblings else 0
    return RemoteLoadOutcome(outcome, len(inserts), len(deletes), len(siblings), corrected)


def rederive_remote(backend: RemoteBackend) -> int:
    """Derive the rule effects of the server's graph again from its facts; send the difference.

    Returns how many triples were corrected. Raises ``RemoteError`` when the
    graph, as the concurrent loads left it, does not conform.
    """
    try:
        _, deletes, inserts = _plan_remote_load([], backend)
    except builder.ValidationFailed as exc:
        raise RemoteError(
            "another load committed to the same graph at the same moment, and the two together do not "
            f"conform:\n{exc.report.text()}\nBoth loads' facts are in the graph; fix them with a further load "
            "or push a rebuilt graph") from None
    parts = []
    if deletes:
        parts.append(f"DELETE DATA {{\n{_data_block(deletes, backend.endpoint.graph)}\n}}")
    if inserts:
        parts.append(f"INSERT DATA {{\n{_data_block(inserts, backend.endpoint.graph)}\n}}")
    if parts:
        backend.update(" ;\n".join(parts))
    return len(deletes) + len(inserts)


def _plan_remote_load(files: list[InputFile], backend: RemoteBackend
                      ) -> tuple[builder.Outcome, list[tuple[Node, Node, Node]], list[tuple[Node, Node, Node]]]:
    current = backend.all_triples()
    with tempfile.TemporaryDirectory(prefix="tradekg-load-") as tmp:
        base = VersionedStore(Path(tmp) / "store")
        with base.write(from_current=False) as target:
            target.extend(graph_to_quads(current))
        prepared = builder.prepare(files, base=base)
    if not prepared.report.conforms:
        raise builder.ValidationFailed(prepared.report)
    full = Graph()
    full += ontology_graph()
    full += prepared.combined
    # Blank nodes cannot be matched across requests; only the ontology has any, and
    # a load does not change the ontology, so they are left as they are.
    inserts = sorted((t for t in full if not _has_bnode(t) and t not in current), key=_n3)
    deletes = sorted((t for t in current if not _has_bnode(t) and t not in full), key=_n3)
    loaded = prepared.loaded
    outcome = builder.Outcome(loaded.rows_per_table, len(loaded.triples), len(prepared.derived), len(full),
                              prepared.report)
    return outcome, deletes, inserts
