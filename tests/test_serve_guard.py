"""``tradekg serve`` at its edges (issue 26): error pages, who may ask, limits before the work.

Each test starts a real server on a free 127.0.0.1 port (tests/serving.py).
"""

from __future__ import annotations

import urllib.parse

import pytest

from kg.graph.store import VersionedStore
from tests.serving import Served, request, serving

pytestmark = pytest.mark.slow


def _log(served: Served) -> str:
    """What the server wrote to its log, once it has stopped."""
    served.process.wait(30)
    return served.process.stderr.read().decode() if served.process.stderr else ""


def test_missing_pages_are_404_pages_not_500s(mini_store: VersionedStore) -> None:
    with serving(mini_store.path) as served:
        for path in ("/id/company/no-such-firm", "/concept/nothing/here", "/resource?iri=urn%3Ax%3Anothing",
                     "/no/such/page", "/query/no-such-query", "/graph/id/company/no-such-firm"):
            status, headers, body = served.get(path)
            assert status == 404, (path, status, body[:300])
            assert headers["content-type"].startswith("text/html"), path
            assert b"<h1>" in body and b"404" in body, path
            assert "content-security-policy" in headers
        status, _, _ = served.get("/timeline/id/company/no-such-firm.svg")
        assert status == 404
        served.process.terminate()
    log = _log(served)
    assert "Traceback" not in log, log[-3000:]


def test_a_foreign_host_or_origin_is_refused_on_loopback(mini_store: VersionedStore) -> None:
    ask = "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"})
    with serving(mini_store.path) as served:
        # DNS rebinding: a page of evil.example whose name now points at 127.0.0.1.
        status, _, body = served.get(ask, headers={"Host": f"evil.example:{served.port}"})
        assert status == 403 and b"only to its own address" in body
        status, _, body = served.get("/", headers={"Host": "evil.example"})
        assert status == 403
        for host in (f"localhost:{served.port}", f"127.0.0.1:{served.port}"):
            assert served.get(ask, headers={"Host": host})[0] == 200
        # Another web site asking from the user's browser.
        status, headers, body = served.get(ask, headers={"Origin": "http://evil.example"})
        assert status == 403 and b"--cors http://evil.example" in body
        assert "access-control-allow-origin" not in headers
        status, _, _ = request(served.sparql, data=b"query=ASK%7B%7D", method="POST",
                               headers={"Origin": "null", "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 403
        # The server's own pages (a form posted from /sparql) are the same origin.
        status, headers, _ = request(served.sparql, data=b"query=ASK%7B%7D", method="POST",
                                     headers={"Origin": served.base,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200 and "access-control-allow-origin" not in headers


def test_cors_answers_only_the_origins_named(mini_store: VersionedStore) -> None:
    ask = "/sparql?" + urllib.parse.urlencode({"query": "ASK {}"})
    with serving(mini_store.path, "--cors", "https://yasgui.example") as served:
        status, headers, _ = served.get(ask, headers={"Origin": "https://yasgui.example"})
        assert status == 200 and headers["access-control-allow-origin"] == "https://yasgui.example"
        assert "Origin" in headers.get("vary", "")
        status, headers, _ = request(served.sparql, method="OPTIONS",
                                     headers={"Origin": "https://yasgui.example",
                                              "Access-Control-Request-Method": "POST"})
        assert status == 204 and headers["access-control-allow-origin"] == "https://yasgui.example"
        assert served.get(ask, headers={"Origin": "https://other.example"})[0] == 403


def test_with_a_token_any_host_name_is_answered(mini_store: VersionedStore) -> None:
    token = "s3cret-token-for-the-test-0123456789"
    with serving(mini_store.path, env={"TRADEKG_SERVE_TOKEN": token}) as served:
        status, _, _ = served.get("/", headers={"Host": "tradekg.internal", "Authorization": f"Bearer {token}"})
        assert status == 200


# ---------------------------------------------------------------------------
# Deadlines that stop the work, memory given back, bounded concurrency
# ---------------------------------------------------------------------------

CARTESIAN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"
CARTESIAN_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _family_mb(pid: int) -> float:
    """Resident memory of the server and every process it started, in MB."""
    from pathlib import Path

    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * 4096 / 2**20
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return total


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _cpu_ticks(pid: int) -> int:
    """User and system time of ``pid`` so far, in clock ticks (0 once it is gone)."""
    from pathlib import Path

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _sparql(served: Served, query: str) -> tuple[int, dict[str, str], bytes]:
    return request(served.sparql + "?" + urllib.parse.urlencode({"query": query}),
                   headers={"Accept": "application/sparql-results+json"})


def test_a_query_past_its_deadline_is_stopped_and_its_memory_given_back(mini_store: VersionedStore) -> None:
    import threading
    import time

    with serving(mini_store.path, "--query-timeout", "3") as served:
        assert served.get("/id/company/parentco")[0] == 200
        baseline = _family_mb(served.process.pid)
        quick = []
        answers: list[tuple[int, bytes]] = []

        def heavy(text: str) -> None:
            status, _, body = _sparql(served, text)
            answers.append((status, body))

        # Two cartesian COUNTs that never finish, and a SELECT * that grows as fast as it can.
        heavies = [threading.Thread(target=heavy, args=(q,)) for q in (CARTESIAN_COUNT, CARTESIAN_COUNT, CARTESIAN)]
        for thread in heavies:
            thread.start()
        time.sleep(0.5)
        for _ in range(5):  # the server stays responsive meanwhile
            started = time.perf_counter()
            status, _, _ = served.get("/id/company/parentco")
            quick.append(time.perf_counter() - started)
            assert status == 200
        for thread in heavies:
            thread.join(60)
        assert [s for s, _ in answers] == [400, 400, 400], answers
        assert all(b"did not finish within 3 s" in body for _, body in answers)
        assert max(quick) < 2.5, quick  # pages of the 1,904-triple graph take tens of milliseconds
        # The work is stopped, not abandoned: what workers remain are idle (no CPU time spent).
        before = {pid: _cpu_ticks(pid) for pid in _children(served.process.pid)}
        time.sleep(1.0)
        busy = [pid for pid, ticks in before.items() if _cpu_ticks(pid) - ticks > 10]
        assert busy == [], busy
        after = _family_mb(served.process.pid)
        assert after < baseline + 60, (baseline, after)


def test_a_request_over_its_memory_is_stopped(mini_store: VersionedStore) -> None:
    ordered = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"
    with serving(mini_store.path, "--query-timeout", "60", "--request-memory", "64") as served:
        status, _, body = _sparql(served, ordered)
        assert status == 400 and b"more than the 64 MB of memory" in body, body[:300]
        status, _, body = served.get("/sparql/results?" + urllib.parse.urlencode({"query": ordered}))
        assert status == 503 and b"64 MB" in body
        assert _sparql(served, "ASK {}")[0] == 200


def test_excess_requests_get_503_with_retry_after(mini_store: VersionedStore) -> None:
    import threading

    with serving(mini_store.path, "--workers", "1", "--query-timeout", "4",
                 env={"TRADEKG_SERVE_QUEUE_WAIT": "0.5"}) as served:
        blocker = threading.Thread(target=_sparql, args=(served, CARTESIAN_COUNT))
        blocker.start()
        import time

        time.sleep(0.5)
        status, headers, body = served.get("/id/company/parentco")
        assert status == 503 and headers.get("retry-after", "").isdigit(), (status, body[:200])
        status, headers, _ = _sparql(served, "ASK { ?s ?p ?o }")
        assert status == 503 and headers.get("retry-after", "").isdigit()
        blocker.join(30)
        assert served.get("/id/company/parentco")[0] == 200  # and it answers again once the worker is free


def test_every_path_that_reads_the_graph_waits_for_a_worker(mini_store: VersionedStore) -> None:
    """OpenRefine's reconciliation, the service description, VoID, DCAT and the changes feed run in the
    bounded worker pool like the pages: with the one worker taken, each gets 503 and Retry-After, and none
    runs on in a server thread that no deadline stops."""
    import json
    import threading
    import time

    with serving(mini_store.path, "--workers", "1", "--query-timeout", "12",
                 env={"TRADEKG_SERVE_QUEUE_WAIT": "0.5"}) as served:
        reconcile = json.dumps({"q0": {"query": "ParentCo"}})
        assert request(served.base + "/reconcile", urllib.parse.urlencode({"queries": reconcile}).encode())[0] == 200
        blocker = threading.Thread(target=_sparql, args=(served, CARTESIAN_COUNT))
        blocker.start()
        time.sleep(0.5)
        paths = ["/reconcile/suggest/entity?prefix=Par", "/reconcile/preview?id=company/parentco", "/void",
                 "/dcat", "/changes", "/changes.json"]
        for path in paths:
            status, headers, body = served.get(path)
            assert status == 503 and headers.get("retry-after", "").isdigit(), (path, status, body[:200])
        status, headers, body = request(served.sparql, headers={"Accept": "text/turtle"})  # the service description
        assert status == 503 and headers.get("retry-after", "").isdigit(), (status, body[:200])
        status, headers, body = request(served.base + "/reconcile",
                                        urllib.parse.urlencode({"queries": reconcile}).encode())
        assert status == 503 and headers.get("retry-after", "").isdigit(), (status, body[:200])
        assert "try again" in json.loads(body)["error"]
        blocker.join(60)
        status, _, body = request(served.base + "/reconcile", urllib.parse.urlencode({"queries": reconcile}).encode())
        assert status == 200 and json.loads(body)["q0"]["result"], body[:300]
        assert served.get("/void")[0] == 200 and served.get("/changes.json")[0] == 200
