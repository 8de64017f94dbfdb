"""``/reconcile``: the Reconciliation Service API as OpenRefine sends it (issue 23).

Each request here is shaped as OpenRefine 3.x sends it: the manifest fetched
with a GET (and as JSONP by older clients), query batches POSTed form-encoded
as ``queries={"q0": {...}, ...}``, suggest calls with ``prefix``, and data
extension as ``extend={"ids": [...], "properties": [...]}``. The server is a
real ``tradekg serve`` process.

The column of 20 counterparty names mixes curated firms with parties that
only the real CSL and OFAC files (../shared/realdata) bring in, typed as an
invoice would print them; each must reconcile to the right party.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from rdflib.namespace import RDFS

from kg.answers.screen import Index, match
from kg.graph.store import VersionedStore
from tests.conftest import REPO
from tests.serving import Served, request, serving

pytestmark = pytest.mark.slow

REALDATA = REPO.parent / "shared" / "realdata"
CSL_FILES = ("csl/csl_consolidated_2025_entity_list_huawei_block.csv",
             "csl/watchman_cslustest_consolidated_2025_sample.csv")
OFAC_NON_SDN = "ofac/non-sdn-2025"
ID = "https://w3id.org/tradekg/id/"

# (typed as on an invoice, country column, the party's label in the graph)
COLUMN = [
    ("HUAWEI TECHNOLOGIES CO LTD", "CN", "Huawei Technologies Co., Ltd."),
    ("Huawei Technologies Japan KK", "JP", "Huawei Technologies Japan K.K."),
    ("Huawei Chile SA", "Chile", "Huawei Chile S.A."),
    ("Huawei Technologies Madagascar SARL", "MG", "Huawei Technologies Madagascar Sarl"),
    ("HiSilicon Technologies", "CN", "HiSilicon Technologies Co., Ltd"),
    ("Huawei Device Co", "CN", "Huawei Device Co., Ltd."),
    ("ZTE Corp", "CN", "ZTE Corporation"),
    ("Hangzhou Hikvision Digital Tech", "CN", "Hangzhou Hikvision Digital Technology Co., Ltd."),
    ("Dahua Technology Co", "CN", "Dahua Technology Company"),
    ("Hytera Communications Corp", "CN", "Hytera Communications Corporation"),
    ("AO Kaspersky Lab", "RU", "AO Kaspersky Lab"),
    ("Semiconductor Manufacturing International Corp", "CN", "Semiconductor Manufacturing International Corporation"),
    ("Contemporary Amperex Technology Co Ltd", "CN", "Contemporary Amperex Technology Co., Ltd."),
    ("China Mobile International USA", "US", "China Mobile International USA Inc."),
    ("SUGON", "CN", "Sugon"),
    ("Xunwei Technologies Co Ltd", "TW", "Xunwei Technologies Co., Ltd."),
    ("Rosneft Trade Ltd", "CY", "ROSNEFT TRADE LIMITED"),
    ("TNK Trading International", "CH", "TNK Trading International S.A."),
    ("Atlas Sanatgaran", "AM", "Atlas Sanatgaran"),
    ("Academy of Aerospace Solid Propulsion Technology", "CN",
     "Academy of Aerospace Solid Propulsion Technology"),
]


@pytest.fixture(scope="module")
def real_store(curated_store: VersionedStore, tmp_path_factory: pytest.TempPathFactory) -> VersionedStore:
    """The curated graph with the real CSL files and OFAC's Non-SDN list imported."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data folder {REALDATA} is absent (it sits beside the checkout in shared/realdata)")
    target = tmp_path_factory.mktemp("reconcile") / "store"
    shutil.copytree(curated_store.path, target, symlinks=True)
    for name in CSL_FILES:
        _cli("import", "csl", str(REALDATA / name), "--partial", "--as-of", "2025-06-01", "--store", str(target))
    _cli("import", "ofac", str(REALDATA / OFAC_NON_SDN), "--partial", "--as-of", "2025-06-01", "--store", str(target))
    return VersionedStore(target)


def _cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "kg", *args], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def served(real_store: VersionedStore) -> Iterator[Served]:
    with serving(real_store.path) as s:
        yield s


@pytest.fixture(scope="module")
def labels(real_store: VersionedStore) -> dict[str, set[str]]:
    """Label -> parties, read straight from the store (not through the service)."""
    found: dict[str, set[str]] = {}
    for quad in real_store.open_read().quads_for_pattern(None, ox.NamedNode(str(RDFS.label)), None):
        found.setdefault(quad.object.value, set()).add(quad.subject.value)
    return found


def _post(served: Served, **fields: object) -> tuple[int, dict[str, str], object]:
    """A form-encoded POST as OpenRefine sends it (each field a JSON text)."""
    body = urllib.parse.urlencode({k: json.dumps(v) for k, v in fields.items()}).encode()
    status, headers, data = request(served.base + "/reconcile", data=body,
                                    headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                                             "Accept": "application/json"})
    return status, headers, json.loads(data)


def _get(served: Served, path: str, **params: str) -> tuple[int, dict[str, str], bytes]:
    return served.get(path + ("?" + urllib.parse.urlencode(params) if params else ""))


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------

def test_manifest_names_spaces_types_and_services(served: Served) -> None:
    status, headers, body = _get(served, "/reconcile")
    assert status == 200
    assert "access-control-allow-origin" not in headers  # private unless told (--cors), as every page
    manifest = json.loads(body)
    assert "0.2" in manifest["versions"]
    assert manifest["identifierSpace"] == ID
    assert manifest["schemaSpace"] == "https://w3id.org/tradekg/ontology#"
    assert {"id": "Company", "name": "Company"} in manifest["defaultTypes"]
    assert manifest["view"]["url"] == served.base + "/id/{{id}}"
    assert "{{id}}" in manifest["preview"]["url"]
    for kind in ("entity", "type", "property"):
        assert manifest["suggest"][kind]["service_url"] == served.base
    assert manifest["extend"]["propose_properties"]["service_path"] == "/reconcile/extend/propose"
    # The view URL of a party is its page on this server.
    status, _, page = _get(served, manifest["view"]["url"].replace(served.base, "").replace("{{id}}",
                                                                                             "company/huawei"))
    assert status == 200 and b"Huawei Technologies Co., Ltd." in page


def test_another_site_cannot_read_the_graph_through_jsonp(served: Served) -> None:
    """A page elsewhere that loads /reconcile as a script gets no JSONP answer: the browser says
    cross-site (Sec-Fetch-Site) and the server refuses it without --cors; a link followed stays fine."""
    path = "/reconcile?" + urllib.parse.urlencode({"callback": "steal"})
    status, _, body = request(served.base + path, headers={"Sec-Fetch-Site": "cross-site",
                                                            "Sec-Fetch-Mode": "no-cors",
                                                            "Sec-Fetch-Dest": "script"})
    assert status == 403 and b"steal" not in body
    status, _, _ = request(served.base + "/reconcile", headers={"Sec-Fetch-Site": "cross-site",
                                                                 "Sec-Fetch-Mode": "navigate"})
    assert status == 200


def test_manifest_as_jsonp_for_older_clients(served: Served) -> None:
    status, headers, body = _get(served, "/reconcile", callback="jsonp123")
    assert status == 200
    assert headers["content-type"].startswith("application/javascript")
    text = body.decode()
    assert text.startswith("/**/jsonp123(") and text.endswith(");")
    assert json.loads(text[len("/**/jsonp123("):-2])["identifierSpace"] == ID
    status, _, _ = _get(served, "/reconcile", callback="alert(1)//")
    assert status == 400


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------

def test_a_column_of_twenty_real_names_reconciles_to_the_right_parties(
        served: Served, labels: dict[str, set[str]]) -> None:
    """OpenRefine sends a column in batches of ten, typed Company, with the country column as a property."""
    outcome = []
    for start in range(0, len(COLUMN), 10):
        batch = {f"q{i}": {"query": name, "type": "Company", "type_strict": "should",
                           "properties": [{"pid": "country", "v": country}]}
                 for i, (name, country, _) in enumerate(COLUMN[start:start + 10])}
        status, headers, answer = _post(served, queries=batch)
        assert status == 200, answer
        assert headers["content-type"].startswith("application/json")
        for i, (name, _, label) in enumerate(COLUMN[start:start + 10]):
            results = answer[f"q{i}"]["result"]  # type: ignore[index]
            expected = labels.get(label, set())
            assert expected, f"{label!r} is not a label in the test graph"
            top = results[0] if results else None
            outcome.append((name, top["name"] if top else None, top["score"] if top else None,
                            top["match"] if top else None))
            assert top is not None, f"{name!r}: no candidate"
            assert ID + top["id"] in expected, f"{name!r} -> {top['name']} ({top['id']}), wanted {label!r}"
            assert {"id": "Company", "name": "Company"} in top["type"]
            assert top["description"].split(" = ")[0].strip().replace(".", "").isdigit()
    right = sum(1 for _, got, _, _ in outcome if got)
    assert right == 20
    matched = sum(1 for *_, flag in outcome if flag)
    assert matched >= 18, outcome  # the few left unflagged are near ties a person should look at


def test_scores_and_explanations_are_screens(served: Served, real_store: VersionedStore) -> None:
    """The same matcher as `tradekg screen`: the same score and the same explanation."""
    from kg.graph.backend import EmbeddedBackend

    name = "HUAWEI TECH. CO."
    status, _, answer = _post(served, queries={"q0": {"query": name, "limit": 3}})
    assert status == 200
    results = answer["q0"]["result"]  # type: ignore[index]
    index = Index.from_backend(EmbeddedBackend(real_store.open_read()))
    expected = match(index, name, None, limit=3)[0]
    assert results[0]["id"] == str(expected.party).removeprefix(ID)
    assert results[0]["score"] == expected.score
    assert results[0]["description"] == expected.explanation
    assert len(results) <= 3


def test_country_property_moves_the_score_as_screen_country_does(served: Served) -> None:
    plain = _post(served, queries={"q0": {"query": "Huawei Technologies Japan KK"}})[2]["q0"]["result"]  # type: ignore[index]
    right = _post(served, queries={"q0": {"query": "Huawei Technologies Japan KK", "properties": [
        {"pid": "country", "v": "Japan"}]}})[2]["q0"]["result"]  # type: ignore[index]
    wrong = _post(served, queries={"q0": {"query": "Huawei Technologies Japan KK", "properties": [
        {"pid": "country", "v": {"id": "BR", "name": "Brazil"}}]}})[2]["q0"]["result"]  # type: ignore[index]
    assert right[0]["id"] == plain[0]["id"] == "company/huawei-japan"
    assert not wrong or wrong[0]["id"] != right[0]["id"] or wrong[0]["score"] < right[0]["score"]
    assert "country JP matches" in right[0]["description"]
    atlantis = [{"pid": "country", "v": "Atlantis"}]
    status, _, error = _post(served, queries={"q0": {"query": "x", "properties": atlantis}})
    assert status == 400 and "Atlantis" in error["error"]  # type: ignore[index]


def test_identifier_property_finds_the_party_by_its_id(served: Served) -> None:
    """Wikidata ids of curated firms; an identifier alone (no name) is a query too (draft 1.0)."""
    status, _, answer = _post(served, queries={
        "q0": {"query": "Huawei", "properties": [{"pid": "identifier", "v": "Q160120"}]},
        "q1": {"query": "", "properties": [{"pid": "identifier", "v": "q160120"}]},
    })
    assert status == 200
    for key in ("q0", "q1"):
        top = answer[key]["result"][0]  # type: ignore[index]
        assert top["id"] == "company/huawei" and top["match"] is True and top["score"] == 100.0
        assert "identifier" in top["description"]


def test_type_constraint_and_unknown_type(served: Served) -> None:
    status, _, answer = _post(served, queries={"q0": {"query": "Mohammed ABU JHEISHEH", "type": "Person"},
                                               "q1": {"query": "Mohammed ABU JHEISHEH", "type": "Company"}})
    assert status == 200
    assert answer["q0"]["result"] and all(  # type: ignore[index]
        {"id": "Person", "name": "Person"} in r["type"] for r in answer["q0"]["result"])  # type: ignore[index]
    assert all({"id": "Company", "name": "Company"} in r["type"] for r in answer["q1"]["result"])  # type: ignore[index]
    status, _, error = _post(served, queries={"q0": {"query": "x", "type": "Planet"}})
    assert status == 400 and "Planet" in error["error"]  # type: ignore[index]


def test_no_match_and_bad_json_are_answered_plainly(served: Served) -> None:
    status, _, answer = _post(served, queries={"q0": {"query": "Siemens Aktiengesellschaft"}})
    assert status == 200 and answer["q0"]["result"] == []  # type: ignore[index]
    body = b"queries=%7Bnot+json"
    status, _, raw = request(served.base + "/reconcile", data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and b"not valid JSON" in raw


def test_queries_by_get_as_older_openrefine(served: Served) -> None:
    status, _, body = _get(served, "/reconcile", queries=json.dumps({"q0": {"query": "ZTE Corporation"}}))
    assert status == 200
    assert json.loads(body)["q0"]["result"][0]["id"] == "company/zte"


# ---------------------------------------------------------------------------
# Suggest, preview, extend
# ---------------------------------------------------------------------------

def test_suggest_entity_type_and_property(served: Served) -> None:
    status, _, body = _get(served, "/reconcile/suggest/entity", prefix="hikv")
    assert status == 200
    result = json.loads(body)["result"]
    assert result[0]["id"] == "company/hikvision"
    assert result[0]["name"].startswith("Hangzhou Hikvision")
    status, _, body = _get(served, "/reconcile/suggest/entity", prefix="huawei", callback="cb")
    assert body.startswith(b"/**/cb(")
    types = json.loads(_get(served, "/reconcile/suggest/type", prefix="comp")[2])["result"]
    assert types == [{"id": "Company", "name": "Company"}]
    props = json.loads(_get(served, "/reconcile/suggest/property", prefix="coun")[2])["result"]
    assert props[0]["id"] == "country"


def test_preview_is_a_small_page_any_site_may_frame(served: Served) -> None:
    status, headers, body = _get(served, "/reconcile/preview", id="company/huawei")
    assert status == 200
    assert "x-frame-options" not in headers
    assert "frame-ancestors" not in headers["content-security-policy"]
    text = body.decode()
    assert "Entity List since 2019-05-16" in text
    status, _, _ = _get(served, "/reconcile/preview", id="company/<script>")
    assert status == 404


def test_extend_returns_lists_dates_and_rules(served: Served) -> None:
    proposed = json.loads(_get(served, "/reconcile/extend/propose", type="Company")[2])
    ids = {p["id"] for p in proposed["properties"]}
    assert {"lists", "listed_since", "rules", "exposure", "country"} <= ids
    status, _, answer = _post(served, extend={
        "ids": ["company/huawei", "company/huawei-rd-belgium", "company/nvidia", "company/nothing-here"],
        "properties": [{"id": "lists"}, {"id": "listed_since"}, {"id": "rules"}, {"id": "country"},
                       {"id": "parent"}]})
    assert status == 200, answer
    assert [m["id"] for m in answer["meta"]] == ["lists", "listed_since", "rules", "country", "parent"]  # type: ignore[index]
    huawei = answer["rows"]["company/huawei"]  # type: ignore[index]
    assert {"str": "Entity List since 2019-05-16"} in huawei["lists"]
    assert huawei["listed_since"][0]["date"].startswith("2019-05-16")
    assert any(r["id"] == "rule/el-huawei-2019" and r["name"] == "84 FR 22961" for r in huawei["rules"])
    assert huawei["country"] == [{"str": "CN"}]
    assert huawei["parent"] == [{"id": "company/huawei-holding", "name": "Huawei Investment & Holding Co., Ltd."}]
    assert answer["rows"]["company/nvidia"]["lists"] == []  # type: ignore[index]
    assert answer["rows"]["company/nothing-here"] == {p: [] for p in ("lists", "listed_since", "rules",  # type: ignore[index]
                                                                      "country", "parent")}
    status, _, error = _post(served, extend={"ids": ["company/huawei"], "properties": [{"id": "shoe_size"}]})
    assert status == 400 and "shoe_size" in error["error"]  # type: ignore[index]


def test_reconcile_refuses_other_methods(served: Served) -> None:
    status, _headers, _ = request(served.base + "/reconcile", method="DELETE")
    assert status == 405
    status, _, _ = request(served.base + "/reconcile/suggest/entity?prefix=x", data=b"", method="POST")
    assert status == 405

