"""Measure push and query times through a real Oxigraph server beside the embedded store.

Run by hand from the checkout (not a test: timings on a shared machine are noisy)::

    .venv/bin/python benchmarks/remote.py [--runs 5]

It builds the curated graph, makes a ~100k-triple graph of the same shape (the
curated facts copied with renamed IRIs and names, so saved queries still find
exactly one Huawei), starts ``oxigraph serve`` on 127.0.0.1 with an on-disk
location, pushes both, and prints medians for every saved query on both
backends.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.answers.queries import find_query, run_saved
from kg.graph.backend import EmbeddedBackend
from kg.graph.remote import Auth, Endpoint, RemoteBackend
from kg.graph.store import VersionedStore
from kg.pipeline.build import build, data_files
from kg.pipeline.push import push
from tests.servers import OxigraphServer, oxigraph_version
from tests.test_remote import CURATED_CASES

DATA = "https://w3id.org/tradekg/id/"


def _copy_term(term: ox.NamedNode | ox.BlankNode | ox.Literal, n: int) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, ox.NamedNode) and term.value.startswith(DATA):
        return ox.NamedNode(f"{term.value}-copy{n}")
    if isinstance(term, ox.Literal) and term.datatype.value.endswith("#string") and not term.language:
        return ox.Literal(f"{term.value} (copy {n})")
    return term


def synthetic(curated: VersionedStore, target: VersionedStore, triples: int) -> int:
    """The curated graph plus renamed copies of its data until about ``triples``."""
    quads = list(curated.open_read().quads_for_pattern(None, None, None, ox.DefaultGraph()))
    data = [q for q in quads if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(DATA)]
    copies = max(0, -(-(triples - len(quads)) // max(len(data), 1)))  # ceiling: at least ``triples``
    with target.write(from_current=False) as store:
        store.extend(quads)
        for n in range(1, copies + 1):
            store.extend(ox.Quad(_copy_term(q.subject, n), q.predicate, _copy_term(q.object, n),  # type: ignore[arg-type]
                                 ox.DefaultGraph()) for q in data)
    return len(target.open_read())


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def median_seconds(action: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tradekg-bench-") as tmp:
        root = Path(tmp)
        curated = VersionedStore(root / "curated")
        build(curated, data_files())
        big = VersionedStore(root / "big")
        size = synthetic(curated, big, args.size)
        server = OxigraphServer(root / "oxigraph").start()
        try:
            say(f"server: {oxigraph_version()} (on-disk location), 127.0.0.1:{server.port}")
            graphs = {"curated": (curated, "https://example.org/curated"),
                      f"{size // 1000}k": (big, "https://example.org/big")}
            for label, (store, graph) in graphs.items():
                endpoint = Endpoint(server.query_url, graph=graph, auth=Auth())
                for attempt in ("into an empty graph", "replacing it", "replacing it again"):
                    outcome = push(store, endpoint)
                    phases = ", ".join(f"{k} {v:.2f} s" for k, v in outcome.phases.items())
                    say(f"push {label} {attempt}: {outcome.triples} triples in {outcome.chunks} requests: "
                        f"{outcome.seconds:.2f} s ({phases})")
            say()
            say("| graph | query (case) | rows | embedded ms | server ms |")
            say("|---|---|---|---|---|")
            for label, (store, graph) in graphs.items():
                embedded = EmbeddedBackend(store.open_read())
                remote = RemoteBackend(Endpoint(server.query_url, graph=graph, auth=Auth()))
                for case, (name, params) in CURATED_CASES.items():
                    query = find_query(name)
                    rows = len(run_saved(query, params, embedded).rows)
                    assert run_saved(query, params, remote).rows == run_saved(query, params, embedded).rows
                    local = median_seconds(lambda q=query, p=params, b=embedded: run_saved(q, p, b), args.runs)
                    served = median_seconds(lambda q=query, p=params, b=remote: run_saved(q, p, b), args.runs)
                    say(f"| {label} | {case} | {rows} | {local * 1000:.1f} | {served * 1000:.1f} |")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
