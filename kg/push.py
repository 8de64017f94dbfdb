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

from kg import build as builder
from kg.loaders import InputFile
from kg.ontology import ontology_graph
from kg.remote import Endpoint, RemoteBackend, RemoteError, send
from kg.store import VersionedStore
from kg.terms import graph_to_quads, to_oxigraph

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
    attempts: int = 1  # more than one: another load committed first, and this one derived again


def _has_bnode(triple: tuple[Node, Node, Node]) -> bool:
    return any(isinstance(t, BNode) for t in triple)


def _n3(triple: tuple[Node, Node, Node]) -> tuple[str, ...]:
    return tuple(t.n3() for t in triple)


def _data_block(triples: list[tuple[Node, Node, Node]], graph: str | None) -> str:
    lines = "\n".join(" ".join(str(to_oxigraph(t)) for t in triple) + " ." for triple in triples)
    return f"GRAPH {_iri(graph)} {{\n{lines}\n}}" if graph else lines


# The revision of a target graph lives in a graph of its own (never in what readers read): one
# literal that every `load --endpoint` replaces, and a receipt per committed load.
REVISION_PREFIX = "urn:tradekg:revision:"
_REVISION = "urn:tradekg:revision"
_RECEIPT = "urn:tradekg:committed"
LOAD_ATTEMPTS = 5


def revision_graph(target: str | None) -> str:
    return REVISION_PREFIX + (urllib.parse.quote(target, safe="") if target else "default")


def read_revision(backend: RemoteBackend, target: str | None) -> str | None:
    """The target graph's current revision (None before the first ``load --endpoint``)."""
    reader = RemoteBackend(replace(backend.endpoint, graph=None))
    table = reader.select(f"SELECT ?r WHERE {{ GRAPH {_iri(revision_graph(target))} "
                          f"{{ {_iri(_REVISION)} {_iri(_REVISION)} ?r }} }}")
    values = sorted(str(row["r"]) for row in table.rows if "r" in row)
    return values[0] if values else None


def guarded_update(deletes: list[tuple[Node, Node, Node]], inserts: list[tuple[Node, Node, Node]],
                   target: str | None, old: str | None, new: str) -> str:
    """One update that applies the change only if the target is still at revision ``old``.

    Its WHERE pattern matches only while the revision is ``old`` (or absent,
    for ``None``); then it deletes and inserts the change, moves the revision
    to ``new`` and leaves a receipt for ``new``. A load that lost the race
    matches nothing and changes nothing. One request is one transaction on
    Oxigraph, and two updates replacing the same revision triple conflict, so
    only one of two concurrent loads can match.
    """
    graph = _iri(revision_graph(target))
    marker = f"{_iri(_REVISION)} {_iri(_REVISION)}"
    receipt = f"{_iri(_RECEIPT)} {_iri(_RECEIPT)} {ox.Literal(new)} ."
    removed = _data_block(deletes, target) if deletes else ""
    if old is not None:
        removed += f"\nGRAPH {graph} {{ {marker} {ox.Literal(old)} . }}"
        where = f"GRAPH {graph} {{ {marker} {ox.Literal(old)} }}"
    else:
        where = f"FILTER NOT EXISTS {{ GRAPH {graph} {{ {marker} ?any }} }}"
    added = (_data_block(inserts, target) if inserts else "")
    added += f"\nGRAPH {graph} {{ {marker} {ox.Literal(new)} . {receipt} }}"
    return f"DELETE {{\n{removed}\n}}\nINSERT {{\n{added}\n}}\nWHERE {{ {where} }}"


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

    Two loads at once: the update is guarded by the graph's revision
    (``guarded_update``), read before the graph. If another load committed in
    between, this one's update matches nothing; it reads the new graph and
    derives again (up to ``LOAD_ATTEMPTS`` times), or refuses, so the graph
    never holds one load's rows without the rule effects of both.
    """
    backend = RemoteBackend(endpoint)
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        revision = read_revision(backend, endpoint.graph)
        outcome, deletes, inserts = _plan_remote_load(files, backend)
        new = str(uuid.uuid4())
        backend.update(guarded_update(deletes, inserts, endpoint.graph, revision, new))
        receipt = f"{_iri(_RECEIPT)} {_iri(_RECEIPT)} {ox.Literal(new)}"
        reader = RemoteBackend(replace(endpoint, graph=None))
        if reader.ask(f"ASK {{ GRAPH {_iri(revision_graph(endpoint.graph))} {{ {receipt} }} }}"):
            with contextlib.suppress(RemoteError):  # the receipt has done its job
                reader.update(f"DELETE DATA {{ GRAPH {_iri(revision_graph(endpoint.graph))} {{ {receipt} . }} }}")
            return RemoteLoadOutcome(outcome, len(inserts), len(deletes), attempt)
    raise RemoteError(
        f"the graph at {endpoint.query_url} changed under this load {LOAD_ATTEMPTS} times (other loads committed "
        "first each time); nothing of this load was written. Run it again when the other loads have finished")


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
