"""``tradekg serve`` at its edges (issue 26): error pages, who may ask, limits before the work.

Each test starts a real server on a free 127.0.0.1 port (tests/serving.py).
"""

from __future__ import annotations

import urllib.parse

import pytest

from kg.store import VersionedStore
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
