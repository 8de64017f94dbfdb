"""Load on ``tradekg serve``: latency percentiles, errors and memory under concurrent requests.

Builds a synthetic store (the generator of benchmarks/run.py) or takes one,
starts ``tradekg serve`` on a free 127.0.0.1 port, and drives it with a fixed
number of kept-alive connections:

1. **load**: ``--requests`` (default 2,000) requests at ``--connections``
   (default 20): entity pages, saved-query pages and saved queries POSTed to
   ``/sparql``, each for a firm drawn at random (so the answer cache rarely
   helps); p50/p95/p99 per kind, errors, the server's memory.
2. **soak**: ``--soak`` (default 10,000) requests the same way while a new
   version is published every ``--switch-every`` requests (``tradekg
   rollback``, which the server loads and switches to); memory is sampled at
   each switch, so a leak per version shows as a staircase.

Memory is the proportional set size (PSS: shared pages divided among the
processes sharing them) of the server and every process it started, so
worker processes that share the snapshot are not counted twice.

Everything is bounded: a fixed number of requests, a 120 s timeout per
request, loopback only, and the server is stopped at the end.

Usage::

    python benchmarks/serve_load.py                       # 100k triples, 2,000 + 10,000 requests
    python benchmarks/serve_load.py --size 250k --soak 0  # load only
    python benchmarks/serve_load.py --store DIR           # an existing store (rolled back and forth by the soak)
    python benchmarks/serve_load.py --repo /other/checkout  # the server of another checkout (before/after)
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.run import FIXED_TRIPLES, TRIPLES_PER_COMPANY, generate, parse_size  # noqa: E402
from kg.serve.snapshot import LOADING_MARK  # noqa: E402


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def pss_mb(pid: int) -> float:
    """PSS of ``pid`` and its descendants, in MB (0 for a process that has gone)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
                    break
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(c) for c in children)
        except OSError:
            continue
    return total


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Driver:
    """Sends requests on ``connections`` kept-alive connections until ``total`` are done."""

    def __init__(self, port: int, companies: int, seed: int):
        self.port = port
        self.companies = companies
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.sent = 0
        from kg.answers.queries import saved_queries

        self.timeline = saved_queries()["firm-timeline"].text

    def _next(self) -> tuple[str, str, str, bytes | None, dict[str, str]]:
        with self.lock:
            firm = f"c{self.rng.randrange(self.companies)}"
            roll = self.rng.random()
        if roll < 0.4:
            return "entity page", "GET", f"/id/company/{firm}", None, {}
        if roll < 0.7:
            return "query page", "GET", f"/query/firm-timeline?firm={firm}", None, {}
        from rdflib import URIRef

        from kg.graph.backend import with_values
        from kg.namespaces import entity_iri

        text = with_values(self.timeline, {"firm": URIRef(entity_iri("company", firm))})
        body = urllib.parse.urlencode({"query": text}).encode()
        return "sparql", "POST", "/sparql", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                    "Accept": "application/sparql-results+json"}

    def run(self, total: int, connections: int, between: int = 0, every: object = None) -> None:
        """``total`` requests; every ``between`` requests, ``every()`` runs (in its own thread)."""
        def worker() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            while True:
                with self.lock:
                    if self.sent >= total:
                        break
                    self.sent += 1
                    number = self.sent
                if between and every is not None and number % between == 0:
                    threading.Thread(target=every, daemon=True).start()
                kind, method, path, body, headers = self._next()
                started = time.perf_counter()
                try:
                    connection.request(method, path, body=body, headers=headers)
                    answer = connection.getresponse()
                    answer.read()
                    status = answer.status
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                    status = 0
                elapsed = time.perf_counter() - started
                with self.lock:
                    self.latencies[kind].append(elapsed)
                    if status != 200:
                        self.errors[f"{kind} {status}"] += 1
            connection.close()

        self.sent = 0
        threads = [threading.Thread(target=worker) for _ in range(connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def report(self, title: str, seconds: float) -> list[str]:
        lines = [f"{title}: {sum(len(v) for v in self.latencies.values()):,} requests in {seconds:.1f} s"]
        lines.append(f"  {'kind':<12} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        everything: list[float] = []
        for kind in sorted(self.latencies):
            values = self.latencies[kind]
            everything += values
            lines.append(f"  {kind:<12} {len(values):>6} {1000 * percentile(values, .5):>8.0f} "
                         f"{1000 * percentile(values, .95):>8.0f} {1000 * percentile(values, .99):>8.0f} "
                         f"{1000 * max(values):>8.0f}")
        lines.append(f"  {'all':<12} {len(everything):>6} {1000 * percentile(everything, .5):>8.0f} "
                     f"{1000 * percentile(everything, .95):>8.0f} {1000 * percentile(everything, .99):>8.0f} "
                     f"{1000 * max(everything):>8.0f}")
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "none"
        lines.append(f"  errors: {errors}")
        self.latencies.clear()
        self.errors.clear()
        return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100k", help="synthetic graph size (10k, 100k, 250k...)")
    parser.add_argument("--store", type=Path, help="serve this store instead of building one")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--soak", type=int, default=10000)
    parser.add_argument("--switch-every", type=int, default=2000)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose `tradekg serve` runs")
    parser.add_argument("--serve-arg", action="append", default=[], help="an extra argument for tradekg serve")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tradekg-serve-load-") as tmp:
        work = Path(tmp)
        if args.store:
            store_dir = args.store.resolve()
            from kg.graph.store import VersionedStore

            # The generator's firms are c0..c(N-1): count them.
            counted = VersionedStore(store_dir).open_read().query(
                "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/tradekg/ontology#Company> }")
            companies = int(next(iter(counted))["n"].value)
        else:
            from kg.graph.store import VersionedStore
            from kg.pipeline.build import build, data_files

            size = parse_size(args.size)
            companies = max(40, int((size - FIXED_TRIPLES) / TRIPLES_PER_COMPANY))
            generate(work / "data", companies)
            store_dir = work / "store"
            started = time.perf_counter()
            build(VersionedStore(store_dir), data_files(work / "data"))
            say(f"built {args.size} ({companies:,} companies) in {time.perf_counter() - started:.0f} s")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEKG_")}
        env.update({"TRADEKG_STORE": str(store_dir), "PYTHONPATH": str(args.repo), "TRADEKG_LOCK_WAIT": "600"})
        started = time.perf_counter()
        log = open(work / "serve.log", "wb")  # noqa: SIM115 (closed below)
        server = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--port", str(port), *args.serve_arg],
                                  env=env, cwd=str(args.repo), stdout=log, stderr=log)
        try:
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"tradekg serve failed: {(work / 'serve.log').read_text()[-3000:]}")
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", "/")  # answering, and no longer from disk while it loads
                    if LOADING_MARK not in connection.getresponse().read():
                        break
                    time.sleep(0.2)
                except OSError:
                    time.sleep(0.2)
            say(f"server {args.repo} up in {time.perf_counter() - started:.1f} s; PSS {pss_mb(server.pid):.0f} MB")
            driver = Driver(port, companies, seed=7)
            driver.run(min(200, args.requests), args.connections)  # warm up: first pages build the search index
            driver.latencies.clear()
            driver.errors.clear()
            before = pss_mb(server.pid)
            peak = [before]
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.wait(0.5):
                    peak.append(pss_mb(server.pid))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.perf_counter()
            driver.run(args.requests, args.connections)
            for line in driver.report(f"load ({args.connections} connections)", time.perf_counter() - started):
                say(line)
            say(f"  memory (PSS, server and its processes): before {before:.0f} MB, peak {max(peak):.0f} MB, "
                  f"after {pss_mb(server.pid):.0f} MB")

            if args.soak:
                switches: list[tuple[float, float]] = []
                switching = threading.Lock()

                def switch() -> None:
                    if not switching.acquire(blocking=False):
                        return
                    try:
                        subprocess.run([sys.executable, "-m", "kg", "rollback"], env=env, cwd=str(args.repo),
                                       capture_output=True, timeout=600, check=False)
                        time.sleep(3)  # the server's watcher loads and switches
                        switches.append((time.perf_counter() - soak_start, pss_mb(server.pid)))
                    finally:
                        switching.release()

                soak_start = time.perf_counter()
                start_pss = pss_mb(server.pid)
                driver.run(args.soak, args.connections, args.switch_every, switch)
                for line in driver.report(f"soak with a new version every {args.switch_every:,} requests",
                                          time.perf_counter() - soak_start):
                    say(line)
                steps = ", ".join(f"{mb:.0f}" for _, mb in switches)
                say(f"  memory (PSS): start {start_pss:.0f} MB; after each switch: {steps}; "
                      f"end {pss_mb(server.pid):.0f} MB; peak {max(peak):.0f} MB")
            sampling.set()
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            tail = (work / "serve.log").read_text(errors="replace")
            tracebacks = tail.count("Traceback")
            say(f"server log: {len(tail.splitlines())} lines, {tracebacks} tracebacks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
