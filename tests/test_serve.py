"""``tradekg serve`` over real HTTP (issue 14): the protocol, consistency, safety.

Each test starts a real server process on a free 127.0.0.1 port. The browser
walk-through is in tests/test_serve_browser.py.
"""

from __future__ import annotations

import csv
import html
import http.client
import io
import json
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph
from SPARQLWrapper import JSON, SPARQLWrapper

from kg.answers.queries import find_query, run_saved, saved_queries
from kg.answers.render import render_to_string
from kg.graph.backend import EmbeddedBackend
from kg.graph.remote import _term
from kg.graph.store import VersionedStore
from kg.pipeline.build import build, load, user_files
from tests.conftest import REPO, mini_files
from tests.serving import Served, request, serving
from tests.test_hostile import SCRIPT, SVG_ONLOAD, UPDATES
from tests.test_remote import CURATED_CASES

pytestmark = pytest.mark.slow

_COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


@pytest.fixture(scope="module")
def curated_server(curated_store: VersionedStore) -> Iterator[Served]:
    with serving(curated_store.path) as served:
        yield served


def _sparql(served: Served, query: str, accept: str = "application/sparql-results+json",
            method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    if method == "GET":
        return request(served.sparql + "?" + urllib.parse.urlencode({"query": query}), headers={"Accept": accept})
    return request(served.sparql, data=urllib.parse.urlencode({"query": query}).encode(),
                   headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})


def _count(served: Served) -> int:
    status, _, body = _sparql(served, _COUNT_ALL)
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


# ---------------------------------------------------------------------------
# Same rows as the embedded store, through SPARQLWrapper and tradekg --endpoint
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(CURATED_CASES))
def test_every_saved_query_same_rows_through_sparqlwrapper_and_endpoint(
        case: str, curated_server: Served, curated_backend: EmbeddedBackend) -> None:
    name, params = CURATED_CASES[case]
    saved = find_query(name)
    embedded = run_saved(saved, params, curated_backend)
    assert embedded.rows, "a case that returns nothing proves little"

    from kg.answers.queries import bind_parameters, today
    from kg.graph.backend import with_values

    bindings = bind_parameters(saved, params, curated_backend)
    if "?today" in saved.text:
        bindings["today"] = today()  # as run_saved binds it
    text = with_values(saved.text, bindings)
    wrapper = SPARQLWrapper(curated_server.sparql)
    wrapper.setQuery(text)
    wrapper.setReturnFormat(JSON)
    doc = wrapper.query().convert()
    assert doc["head"]["vars"] == embedded.variables
    rows = [{k: _term(v) for k, v in b.items()} for b in doc["results"]["bindings"]]
    assert rows == embedded.rows  # same terms, same order

    args = [sys.executable, "-m", "kg", "query", name, "--endpoint", curated_server.sparql, "--format", "csv"]
    for key, value in params.items():
        args += ["-p", f"{key}={value}"]
    out = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout == render_to_string(embedded, "csv")


def test_every_saved_query_page_downloads_the_cli_answer(curated_server: Served,
                                                         curated_backend: EmbeddedBackend) -> None:
    for name, params in CURATED_CASES.values():
        embedded = run_saved(find_query(name), params, curated_backend)
        query = urllib.parse.urlencode(params)
        status, headers, body = curated_server.get(f"/query/{name}.csv?{query}")
        assert status == 200 and headers["content-type"].startswith("text/csv")
        assert body.decode("utf-8") == render_to_string(embedded, "csv")
        status, _, body = curated_server.get(f"/query/{name}.json?{query}")
        assert status == 200
        assert json.loads(body) == json.loads(render_to_string(embedded, "json"))
        status, _, page = curated_server.get(f"/query/{name}?{query}")
        assert status == 200
        assert f"{len(embedded.rows):,} row".encode() in page


def test_unknown_name_gets_did_you_mean_on_the_query_page(curated_server: Served) -> None:
    status, _, page = curated_server.get("/query/rules-affecting-firm?firm=Huawai")
    assert status == 400
    assert b"did you mean" in page and b"Huawei" in page
    status, _, body = curated_server.get("/query/rules-affecting-firm.csv?firm=Huawai")
    assert status == 400 and b"did you mean" in body


def test_content_negotiation_of_every_result_format(curated_server: Served) -> None:
    select = "SELECT ?rule WHERE { ?rule a <https://w3id.org/tradekg/ontology#Rule> } ORDER BY ?rule"
    status, headers, body = _sparql(curated_server, select, "application/sparql-results+xml")
    assert status == 200 and "xml" in headers["content-type"]
    xml_rows = ET.fromstring(body).findall(".//{http://www.w3.org/2005/sparql-results#}result")
    status, headers, body = _sparql(curated_server, select, "text/csv", method="POST")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    csv_rows = list(csv.reader(io.StringIO(body.decode())))[1:]
    status, headers, body = _sparql(curated_server, select, "text/tab-separated-values")
    assert headers["content-type"].startswith("text/tab-separated-values")
    tsv_rows = body.decode().strip().split("\n")[1:]
    assert len(xml_rows) == len(csv_rows) == len(tsv_rows) > 20
    status, headers, body = _sparql(curated_server, "ASK { ?s a <https://w3id.org/tradekg/ontology#Rule> }")
    assert json.loads(body) == {"head": {}, "boolean": True}
    rule = "<https://w3id.org/tradekg/ontology#Rule>"
    construct = f"CONSTRUCT {{ ?r a {rule} }} WHERE {{ ?r a {rule} }}"
    status, headers, body = _sparql(curated_server, construct, "text/turtle")
    assert headers["content-type"].startswith("text/turtle")
    assert len(Graph().parse(data=body, format="turtle")) == len(csv_rows)
    status, headers, body = _sparql(curated_server, construct, "application/n-triples", method="POST")
    assert headers["content-type"].startswith("application/n-triples")
    assert len(Graph().parse(data=body, format="nt")) == len(csv_rows)
    status, headers, body = request(curated_server.sparql, data=select.encode(),
                                    headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
    assert status == 200 and len(body.decode().strip().split("\n")) == len(csv_rows) + 1
    # YASGUI in a browser asks from another origin first: refused unless the server was started with
    # --cors ORIGIN (tests/test_serve_guard.py).
    status, headers, _ = request(curated_server.sparql, method="OPTIONS",
                                 headers={"Origin": "http://yasgui.example", "Access-Control-Request-Method": "POST"})
    assert status == 403 and "access-control-allow-origin" not in headers


# ---------------------------------------------------------------------------
# Read-only, everywhere
# ---------------------------------------------------------------------------

ROUTES = ("/", "/queries", "/search?q=Huawei", "/id/company/huawei", "/query/rules-affecting-firm?firm=Huawei",
          "/query/designations.csv", "/sparql", "/sparql/results?query=ASK%7B%7D",
          "/timeline/id/company/huawei.svg", "/graph/id/company/huawei", "/static/style.css",
          "/resource?iri=https%3A%2F%2Fw3id.org%2Ftradekg%2Fontology%23Company")


def test_updates_are_refused_on_every_route(curated_server: Served) -> None:
    before = _count(curated_server)
    for route in ROUTES:
        status, _, _ = curated_server.get(route, headers={"Accept": "text/html"})
        assert status == 200, route
        for method in ("PUT", "DELETE", "PATCH") + (() if route == "/sparql" else ("POST",)):
            status, _, _ = request(curated_server.base + route, data=b"DROP ALL", method=method)
            assert status == 405, (method, route)
    for name, form in UPDATES.items():
        for method in ("GET", "POST"):
            status, _, body = _sparql(curated_server, form, method=method)
            assert status == 403 and b"only reads the graph" in body, (name, method)
        status, _, body = curated_server.get("/sparql/results?" + urllib.parse.urlencode({"query": form}))
        assert status == 403, name
    for data, media in ((b"update=DROP+ALL", "application/x-www-form-urlencoded"),
                        (b"DROP ALL", "application/sparql-update")):
        status, _, _ = request(curated_server.sparql, data=data, headers={"Content-Type": media})
        assert status == 403
    status, _, _ = curated_server.get("/sparql?update=" + urllib.parse.quote("DROP ALL"))
    assert status == 403
    # Parameters are terms, never query text.
    for payload in ('"} ; DROP ALL ; {', "\n} INSERT DATA { <http://a> <http://b> <http://c> } #"):
        status, _, _ = curated_server.get("/query/rules-affecting-firm?" + urllib.parse.urlencode({"firm": payload}))
        assert status == 400
    assert _count(curated_server) == before


def test_every_page_sends_a_policy_and_shows_no_local_path(curated_server: Served,
                                                           curated_store: VersionedStore) -> None:
    local = str(curated_store.path.resolve().parent)
    for route in (*ROUTES, "/id/company/no-such-firm", "/query/no-such-query"):
        _, headers, body = curated_server.get(route, headers={"Accept": "text/html"})
        assert "content-security-policy" in headers, route
        assert headers["x-content-type-options"] == "nosniff"
        assert local.encode() not in body, route
        assert str(REPO).encode() not in body, route
    _, headers, _ = curated_server.get("/id/company/huawei")
    assert "script-src" not in headers["content-security-policy"]  # pages run no script
    assert "default-src 'none'" in headers["content-security-policy"]


def test_result_pages_are_bounded_and_the_download_is_whole(curated_server: Served) -> None:
    everything = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    total = _count(curated_server)
    status, _, page = curated_server.get("/sparql/results?" + urllib.parse.urlencode({"query": everything}))
    assert status == 200
    assert page.count(b"<tr>") <= 501
    assert f"of {total:,} rows".encode() in page
    status, _, body = _sparql(curated_server, everything, "text/csv")
    assert len(list(csv.reader(io.StringIO(body.decode())))) == total + 1


def test_a_query_past_the_deadline_is_stopped(curated_store: VersionedStore) -> None:
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with serving(curated_store.path, "--query-timeout", "0.5") as served:
        status, _, body = _sparql(served, heavy)
        assert status == 400 and b"did not finish within 0.5 s" in body
        assert _count(served) > 0  # and the server still answers


# ---------------------------------------------------------------------------
# Hostile labels render as text
# ---------------------------------------------------------------------------

def test_hostile_labels_are_escaped_on_every_page(tmp_path: Path) -> None:
    from tests.test_hostile import _hostile_data

    store = VersionedStore(tmp_path / "store")
    build(store, mini_files(_hostile_data(tmp_path)))
    with serving(store.path) as served:
        for text in (SCRIPT, SVG_ONLOAD):
            status, _, page = served.get("/search?" + urllib.parse.urlencode({"q": text}))
            assert status == 200
            assert text.encode() not in page
            hrefs = re.findall(rb'<a href="(/id/company/[^"]+)">', page)
            assert hrefs, page[-2000:]
            for href in hrefs:
                status, _, entity = served.get(href.decode())
                assert status == 200
                assert b"<script" not in entity.lower() and b"<svg" not in entity.lower()
                assert b"onload=alert" not in entity or b"&gt;&lt;svg onload=alert(1)&gt;" in entity


# ---------------------------------------------------------------------------
# Consistent and current: a new version is picked up whole
# ---------------------------------------------------------------------------

_SNAPSHOT_QUERY = """PREFIX tkg: <https://w3id.org/tradekg/ontology#>
SELECT (COUNT(DISTINCT ?d) AS ?designations) (COUNT(DISTINCT ?e) AS ?effects) WHERE {
  { ?d a tkg:Designation } UNION { ?e a tkg:RuleEffect } }"""


def _pair(served: Served) -> tuple[int, int]:
    status, _, body = _sparql(served, _SNAPSHOT_QUERY)
    assert status == 200, body
    row = json.loads(body)["results"]["bindings"][0]
    return int(row["designations"]["value"]), int(row["effects"]["value"])


def test_a_new_version_is_served_whole_during_a_stream_of_requests(tmp_path: Path) -> None:
    store = VersionedStore(tmp_path / "store")
    build(store, mini_files())
    new = tmp_path / "more-designations.csv"
    new.write_text(
        "id,party,list,rule,modified_by,listing_date,start_date,end_date,license_requirement,license_policy,"
        "reason,source,confidence,note\n"
        "stream-1,subco,list-a,r-list,,,2023-01-01,,For all items,presumption-of-denial,,fixture,"
        "confirmed,\n", encoding="utf-8")
    with serving(store.path) as served:
        old = _pair(served)
        _, _, page = served.get("/search?q=Sub+Telecom")
        old_version = re.search(rb"Store version (\S+)", page).group(1)  # type: ignore[union-attr]
        seen: list[tuple[int, int]] = []
        pages: list[bytes] = []
        stop = threading.Event()

        def stream() -> None:
            while not stop.is_set():
                seen.append(_pair(served))
                pages.append(served.get("/id/company/subco")[2])

        readers = [threading.Thread(target=stream) for _ in range(3)]
        for reader in readers:
            reader.start()
        load(store, user_files([new]))
        deadline = time.monotonic() + 60
        while _pair(served) == old and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(20):  # keep streaming a while on the new version
            seen.append(_pair(served))
        stop.set()
        for reader in readers:
            reader.join()
        fresh = _pair(served)
        assert fresh != old and fresh[0] == old[0] + 1
        assert set(seen) <= {old, fresh}, set(seen)
        assert old in seen and fresh in seen
        # Each page comes from one version: the footer's version matches what the page lists.
        versions = set()
        for page in pages:
            version = re.search(rb"Store version (\S+)", page).group(1)  # type: ignore[union-attr]
            versions.add(version)
            assert (b"stream-1" in page) == (version != old_version), version
        assert len(versions) == 2


# ---------------------------------------------------------------------------
# Binding and the token
# ---------------------------------------------------------------------------

def test_a_non_loopback_bind_without_a_token_refuses_to_start(curated_store: VersionedStore) -> None:
    out = subprocess.run([sys.executable, "-m", "kg", "serve", "--store", str(curated_store.path),
                          "--host", "0.0.0.0", "--port", "9"], cwd=REPO, capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(curated_store.path)},
                         check=False)
    assert out.returncode == 2
    assert "TRADEKG_SERVE_TOKEN" in out.stderr and "--public" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_token_is_required_when_one_is_set(curated_store: VersionedStore) -> None:
    token = "s3cret-token-for-the-test-0123456789"
    with serving(curated_store.path, env={"TRADEKG_SERVE_TOKEN": token}) as served:
        status, _, _ = served.get("/id/company/huawei")
        assert status == 401
        status, _, _ = _sparql(served, "ASK {}")
        assert status == 401
        status, _, _ = served.get("/id/company/huawei", headers={"Authorization": "Bearer wrong"})
        assert status == 401
        status, _, body = served.get("/id/company/huawei", headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and b"Huawei Technologies Co., Ltd." in body
        # A browser opens one page with ?token=, gets a cookie and an address without the token.
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        connection.request("GET", f"/search?q=Huawei&token={token}")
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 303 and answer.getheader("Location") == "/search?q=Huawei"
        cookie = answer.getheader("Set-Cookie")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        status, _, body = served.get("/search?q=Huawei", headers={"Cookie": cookie.split(";")[0]})
        assert status == 200 and b"/id/company/huawei" in body
        out = subprocess.run([sys.executable, "-m", "kg", "query", "firm-timeline", "-p", "firm=Huawei",
                              "--endpoint", served.sparql, "--format", "csv"], cwd=REPO, capture_output=True,
                             text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "TRADEKG_TOKEN": token},
                             check=False)
        assert out.returncode == 0, out.stderr
        assert "84 FR 22961" in out.stdout


def test_saved_queries_all_have_a_page(curated_server: Served) -> None:
    _, _, home = curated_server.get("/")
    for name in saved_queries():
        assert f'href="/query/{name}"'.encode() in home


def test_search_finds_names_aliases_citations_and_document_numbers(curated_server: Served) -> None:
    for text, first in (("Huawei", "/id/company/huawei"), ("84 FR 22961", "/id/rule/el-huawei-2019"),
                        ("2022-19415", "/id/rule/standards-2022"), ("estevez", "/id/person/")):
        status, _, page = curated_server.get("/search?" + urllib.parse.urlencode({"q": text}))
        assert status == 200
        hrefs = re.findall(rb'<li><a href="([^"]+)">', page)
        assert hrefs and hrefs[0].decode().startswith(first), (text, hrefs[:3])


def test_every_kind_of_entity_has_a_page_at_its_iri(curated_server: Served) -> None:
    from kg.loaders.tables import load_catalog

    for spec in load_catalog().tables.values():
        query = f"SELECT ?e ?label WHERE {{ ?e a <{spec.class_iri}> ; <http://www.w3.org/2000/01/rdf-schema#label> " \
                "?label } ORDER BY ?e LIMIT 1"
        _, _, body = _sparql(curated_server, query)
        bindings = json.loads(body)["results"]["bindings"]
        if not bindings:
            continue
        iri, label = bindings[0]["e"]["value"], bindings[0]["label"]["value"]
        assert iri.startswith("https://w3id.org/tradekg/id/")
        status, _, page = curated_server.get(iri.removeprefix("https://w3id.org/tradekg"))
        assert status == 200, iri
        heading = re.search(rb"<h1>(.*?)</h1>", page)
        assert heading and html.unescape(heading.group(1).decode()) == label, iri


def test_a_listing_that_prohibits_nothing_is_not_said_to_restrict(curated_server: Served) -> None:
    """Hikvision on the Section 1260H list: named from 2021-06-03; restricted through it only by sec. 805 (2026)."""
    for on in ("2022-01-01", "2026-12-04"):
        status, _, body = curated_server.get(f"/id/company/hikvision?on={on}")
        assert status == 200
        page = body.decode()
        start = page.index('<section id="summary"')
        section = page[start:page.index("</section>", start)]
        summary = html.unescape(re.sub(r"\s+", " ", re.sub(r"<(?!/p>)[^>]+>", "", section)))
        restricts, rest = summary.split("Named, not restricted by the entry itself:", 1)
        assert "Entity List since 2019-10-09" in restricts
        assert "Section 1260H" not in restricts.split("Legal reach")[0]
        named = rest.split("</p>", 1)[0]
        assert "Chinese Military Companies List (Section 1260H) since" in named
        assert "This list prohibits nothing by itself" in named
        legal = rest.split("Legal reach", 1)[1].split("Listed", 1)[0]
        holding = re.split(r"\d+ ended, not yet in force", legal)[0]
        # The act that attaches consequences to the list is legal reach from its own date only.
        assert ("sec. 805" in holding) == (on >= "2026-06-30"), holding
        assert "sec. 805 — restricts as a listed party" in legal
