"""``tradekg update``, ``changes`` and ``watch`` against a local HTTP server serving the real files.

The real files (../shared/realdata) hold one edition of each list, so the
"older" edition is the real one with some whole entries held back (every row
of theirs in every file of the set, bytes untouched), and the "newer" one the
real one with other entries held back: the entries added and removed between
the two are then known exactly, and the events must match them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.graph.store import VersionedStore
from kg.pipeline.build import build, data_files
from tests.fileserver import FileServer, serving

NONSDN = ("cons_prim.csv", "cons_alt.csv", "cons_add.csv", "cons_comments.csv")
CSL = "csl_consolidated_2025_entity_list_huawei_block.csv"


@pytest.fixture(scope="module")
def curated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = VersionedStore(tmp_path_factory.mktemp("curated-template") / ".tradekg" / "store")
    build(store, data_files())
    return store.path


@pytest.fixture
def store(curated_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> VersionedStore:
    target = tmp_path / "project" / ".tradekg" / "store"
    shutil.copytree(curated_template, target, symlinks=True)
    monkeypatch.setenv("TRADEKG_RETRY_WAIT", "0.01")
    monkeypatch.setenv("TRADEKG_FR_DELAY", "0")
    monkeypatch.setenv("TRADEKG_LOCK_WAIT", "5")
    return VersionedStore(target)


def ofac_rows(data: bytes) -> list[bytes]:
    return data.rstrip(b"\x1a").split(b"\r\n")


def without(data: bytes, numbers: set[int]) -> bytes:
    """OFAC file bytes without the rows of these entity numbers (other bytes untouched)."""
    lines = [line for line in ofac_rows(data) if not line or int(line.split(b",", 1)[0]) not in numbers]
    return b"\r\n".join(lines) + b"\x1a"


def nonsdn_numbers(realdata: Path) -> tuple[set[int], set[int]]:
    """Two disjoint sets of SSI entries (on no curated list): held back from the older and the newer file."""
    rows = [r for r in csv.reader(io.StringIO((realdata / "ofac/non-sdn-2025/cons_prim.csv").read_bytes()
                                              .rstrip(b"\x1a").decode(), newline="")) if len(r) > 3]
    ssi = [int(r[0]) for r in rows if r[3].strip() == "UKRAINE-EO13662"]
    return set(ssi[:12]), set(ssi[12:20])


def serve_nonsdn(server: FileServer, realdata: Path, held_back: set[int]) -> None:
    for name in NONSDN:
        server.put(f"/ofac/{name}", without((realdata / "ofac/non-sdn-2025" / name).read_bytes(), held_back))


def run(store: VersionedStore, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--store", str(store.path)])
    return result.exit_code, result.stdout, result.stderr


def update(store: VersionedStore, server: FileServer, *names: str) -> tuple[int, str, str]:
    return run(store, "update", *names, "--url", f"ofac-nonsdn={server.url('/ofac/')}",
               "--url", f"csl={server.url('/csl/consolidated.csv')}")


def update_older_then_newer(store: VersionedStore, realdata: Path) -> None:
    """``update`` from the older Non-SDN edition, then from the newer one (12 entries listed, 8 ended)."""
    older_missing, newer_missing = nonsdn_numbers(realdata)
    with serving() as server:
        serve_nonsdn(server, realdata, older_missing)
        assert update(store, server, "ofac-nonsdn")[0] == 0
        serve_nonsdn(server, realdata, newer_missing)
        assert update(store, server, "ofac-nonsdn")[0] == 0


def changes_json(store: VersionedStore, *args: str) -> list[dict[str, str]]:
    code, out, err = run(store, "changes", "--format", "json", *args)
    assert code == 0, err
    return list(json.loads(out))


def test_update_then_newer_file_gives_exact_events(store: VersionedStore, realdata: Path) -> None:
    older_missing, newer_missing = nonsdn_numbers(realdata)
    with serving() as server:
        serve_nonsdn(server, realdata, older_missing)
        code, out, err = update(store, server, "ofac-nonsdn")
        assert code == 0, err
        assert "ofac-nonsdn: fetched:" in out
        first = store.manifest()["version"]
        serve_nonsdn(server, realdata, newer_missing)
        code, out, err = update(store, server, "ofac-nonsdn")
        assert code == 0, err
        assert "ofac-nonsdn: fetched:" in out
        assert store.manifest()["version"] > first
    events = changes_json(store)
    listed = [e for e in events if e["event"] == "listed"]
    ended = [e for e in events if e["event"] == "ended"]
    # Entries added between the files: the ones the older file held back; removed: the ones the newer holds back.
    assert len(listed) == len(older_missing - newer_missing) == 12
    assert len(ended) == len(newer_missing - older_missing) == 8
    assert all(e["list"] == "Sectoral Sanctions Identifications List" for e in listed + ended)
    # No document of the Register is known for OFAC's own file: the cause is the file and its day.
    assert all("cons_prim.csv" in e["cause"] and "of 2026-12-04" in e["cause"] for e in listed + ended)
    assert all(e["date"] == "2026-12-04" for e in ended)
    assert {e["version"] for e in events} == {str(store.manifest()["version"])}
    # The same in OpenSanctions' delta layout: new parties added, delisted ones deleted.
    code, out, err = run(store, "changes", "--format", "ftm-delta")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert sorted(line["op"] for line in lines) == ["ADD"] * 12 + ["DEL"] * 8
    added = next(line["entity"] for line in lines if line["op"] == "ADD")
    assert added["schema"] == "Company" and added["properties"]["topics"] == ["sanction"]
    assert added["properties"]["name"] and added["id"].startswith("tradekg-ofac-")


def test_the_next_edition_rederives_the_parties_it_reaches_and_ends_as_a_full_derivation(
        store: VersionedStore, realdata: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hikvision's and SMIC's CMIC entries end in the newer file: their effects change, not the graph's."""
    import pyoxigraph as ox
    from rdflib.compare import isomorphic

    from kg.graph.backend import EmbeddedBackend
    from kg.pipeline import incremental
    from kg.pipeline.derive import rederive_in_store

    reached: list[set[str] | None] = []
    local = incremental.affected_parties

    def spy(*args: object) -> set[str] | None:
        reached.append(local(*args))  # type: ignore[arg-type]
        return reached[-1]

    monkeypatch.setattr(incremental, "affected_parties", spy)
    with serving() as server:
        serve_nonsdn(server, realdata, set())
        assert update(store, server, "ofac-nonsdn")[0] == 0
        serve_nonsdn(server, realdata, {30946, 30951})  # Hikvision, SMIC (see test_sources_ofac.py)
        code, _, err = update(store, server, "ofac-nonsdn")
        assert code == 0, err
    ended = [e for e in changes_json(store) if e["event"] == "ended"]
    assert len(ended) == 2, ended
    # The newer edition's change was local: the two firms (and the firms below them), not every party.
    assert reached[-1] is not None and 2 <= len(reached[-1]) < 50, reached[-1]
    assert any("hikvision" in party.lower() or "30946" in party for party in reached[-1]), reached[-1]
    whole = ox.Store()
    whole.extend(store.open_read().quads_for_pattern(None, None, None, ox.DefaultGraph()))
    rederive_in_store(whole)
    assert isomorphic(EmbeddedBackend(store.open_read()).all_triples(), EmbeddedBackend(whole).all_triples())


def test_the_events_of_an_update_are_kept_and_a_stale_copy_is_not_trusted(
        store: VersionedStore, realdata: Path) -> None:
    from kg.monitor import changes as changing
    from kg.monitor.state import states_dir

    update_older_then_newer(store, realdata)
    kept = sorted(states_dir(store).glob("events-v*.json.gz"))
    assert kept, "the update did not keep its events"
    first = changes_json(store)
    assert len(first) == 20  # 12 listed, 8 ended (test_update_then_newer_file_gives_exact_events)
    # A copy made from other snapshots (or by other code) is recomputed, not read.
    for path in kept:
        path.write_bytes(gzip.compress(json.dumps({"key": ["someone else's"], "events": []}).encode()))
    assert changes_json(store) == first
    # And without any copy, the same events.
    for path in states_dir(store).glob("events-v*.json.gz"):
        path.unlink()
    assert changing.changes(store)[0] and changes_json(store) == first


def test_identical_content_changes_nothing(store: VersionedStore, realdata: Path) -> None:
    with serving() as server:
        serve_nonsdn(server, realdata, set())
        server.put("/csl/consolidated.csv", (realdata / "csl" / CSL).read_bytes())
        code, out, err = update(store, server, "csl", "ofac-nonsdn")
        assert code == 0, err
        version = store.manifest()["version"]
        code, out, err = update(store, server, "csl", "ofac-nonsdn")
        assert code == 0, err
        assert "csl: unchanged" in out and "ofac-nonsdn: unchanged" in out
        assert store.manifest()["version"] == version
        # The second time asks conditionally, and the server says 304.
        second = server.log[-5:]
        assert all(status == 304 and "If-None-Match" in headers for _, headers, status in second)
    assert changes_json(store, "--since", str(version)) == []
    # Without --since, `changes` shows the last update that changed the graph, and says so.
    code, _, err = run(store, "changes", "--format", "csv")
    assert code == 0 and "the last update that changed the graph" in err


def test_formatting_alone_is_no_event(store: VersionedStore, realdata: Path) -> None:
    """The same CSL rows re-written (LF line ends, quotes only where needed) change no entry."""
    raw = (realdata / "csl" / CSL).read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    with serving() as server:
        server.put("/csl/consolidated.csv", raw)
        assert update(store, server, "csl")[0] == 0
        server.put("/csl/consolidated.csv", out.getvalue().encode("utf-8"))
        code, _text, err = update(store, server, "csl")
        assert code == 0, err
    assert [e for e in changes_json(store) if e["event"] != "rule status changed"] == []


def test_500_then_200_is_fetched(store: VersionedStore, realdata: Path) -> None:
    with serving() as server:
        server.put("/csl/consolidated.csv", (realdata / "csl" / CSL).read_bytes())
        server.fail("/csl/consolidated.csv", "500", "500")
        code, out, err = update(store, server, "csl")
        assert code == 0, err
        assert "csl: fetched:" in out
        assert [s for p, _, s in server.log if p == "/csl/consolidated.csv"] == [500, 500, 200]
    rows = changes_json(store)
    assert rows and all(r["event"] in ("listed", "entry changed", "newly reached") for r in rows)


def test_404_fails_that_source_and_others_update(store: VersionedStore, realdata: Path) -> None:
    before = store.manifest()["version"]
    with serving() as server:
        serve_nonsdn(server, realdata, set())
        code, out, err = update(store, server, "csl", "ofac-nonsdn")  # no CSL file on the server: 404
        assert code == 2
        assert "csl: failed: HTTP 404 Not Found" in err
        assert "ofac-nonsdn: fetched:" in out
    assert store.manifest()["version"] == before + 1
    assert all("ofac" in e["name"].lower() or e["list"] for e in changes_json(store))
    code, out, _ = run(store, "sources", "--format", "json")
    rows = {r["source"]: r for r in json.loads(out)}
    assert rows["csl"]["status"] == "failed" and rows["ofac-nonsdn"]["status"] == "fetched"
    assert len(rows["ofac-nonsdn"]["sha256"]) == 64 and rows["ofac-nonsdn"]["in_graph"] == "yes"


def test_dropped_connection_imports_nothing_half(store: VersionedStore, realdata: Path) -> None:
    before = store.manifest()["version"]
    with serving() as server:
        serve_nonsdn(server, realdata, set())
        server.fail("/ofac/cons_alt.csv", "drop", "drop", "drop", "drop")  # every try drops halfway
        code, _, err = update(store, server, "ofac-nonsdn")
        assert code == 2
        assert "ofac-nonsdn: failed: the connection dropped after" in err
        assert store.manifest()["version"] == before  # nothing of the list, not even cons_prim.csv
        server.fail("/ofac/cons_alt.csv", "drop")  # once: the retry gets the whole file
        code, _out, err = update(store, server, "ofac-nonsdn")
        assert code == 0, err
    assert store.manifest()["version"] == before + 1


# ---- watchlists

def names_of(realdata: Path, numbers: set[int]) -> dict[int, str]:
    text = (realdata / "ofac/non-sdn-2025/cons_prim.csv").read_bytes().rstrip(b"\x1a").decode()
    return {int(r[0]): r[1] for r in csv.reader(io.StringIO(text, newline="")) if len(r) > 3 and int(r[0]) in numbers}


def report(store: VersionedStore, *args: str) -> tuple[list[dict[str, str]], str]:
    code, out, err = run(store, "watch", "report", "--format", "json", *args)
    assert code == 0, err
    return list(json.loads(out)), err


def test_watchlist_hit_reported_once_with_cause_and_not_same_keeps_quiet(store: VersionedStore,
                                                                          realdata: Path, tmp_path: Path) -> None:
    older_missing, newer_missing = nonsdn_numbers(realdata)
    first, second = sorted(older_missing)[:2]
    names = names_of(realdata, {first, second})
    watched = tmp_path / "customers.csv"
    watched.write_text("id,name,country\n"
                       f"C-1,{names[first].title()},\n"
                       f"C-2,\"{names[second]}\",\n"
                       "C-3,Acme Widgets GmbH,DE\n", encoding="utf-8")
    with serving() as server:
        serve_nonsdn(server, realdata, older_missing)
        assert update(store, server, "ofac-nonsdn")[0] == 0
        code, out, err = run(store, "watch", "add", str(watched), "--name", "customers")
        assert code == 0, err
        assert "watchlist customers: 3 counterparties" in out
        before = store.manifest()["version"]
        serve_nonsdn(server, realdata, newer_missing)
        assert update(store, server, "ofac-nonsdn")[0] == 0
    hits, err = report(store)
    assert {(h["input_id"], h["event"]) for h in hits} == {("C-1", "listed"), ("C-2", "listed")}
    assert all("cons_prim.csv" in h["cause"] and h["list"] == "Sectoral Sanctions Identifications List" for h in hits)
    again, err = report(store)
    assert again == [] and "nothing new" in err
    party = next(h["party"] for h in hits if h["input_id"] == "C-2")
    code, out, err = run(store, "watch", "decide", "customers", "C-2", party.rsplit("/", 1)[-1], "not-same",
                         "--note", "our C-2 is a different firm", "--who", "ana")
    assert code == 0, err
    hits, err = report(store, "--since", str(before))
    assert {h["input_id"] for h in hits} == {"C-1"}
    assert "1 hit(s) kept quiet by not-same decisions" in err
    # The watchlist and the decision are in the ledger: a rebuild keeps them.
    build(store, data_files())
    code, out, err = run(store, "watch", "decisions", "--format", "json")
    assert code == 0, err
    kept = json.loads(out)
    assert [(d["counterparty"], d["decision"], d["who"], d["note"]) for d in kept] == [
        ("C-2", "not-same", "ana", "our C-2 is a different firm")]
    code, out, err = run(store, "watch", "list")
    assert "customers: 3 counterparties" in out


# ---- evidence

def test_evidence_record_checked_on_its_version(store: VersionedStore, realdata: Path, tmp_path: Path) -> None:
    record = tmp_path / "evidence.json"
    code, out, err = run(store, "screen", "Huawei Technologies Co., Ltd.", "--country", "CN", "--evidence",
                         str(record), "--format", "csv")
    assert code == 0, err
    kept = json.loads(record.read_text(encoding="utf-8"))
    assert kept["graph"]["version"] == store.manifest()["version"] and kept["answer_for"] == "2026-12-04"
    assert kept["inputs"]["rows"][0]["name"] == "Huawei Technologies Co., Ltd."
    assert any(s["file"] == "data/designations.csv" and len(s["sha256"]) == 64 for s in kept["sources"])
    assert "Entity List since 2019-05-16" in kept["answers"][0]["lists"]
    code, out, err = run(store, "evidence", "check", str(record))
    assert code == 0, err
    assert "the same answer" in out and "the one it was recorded on" in out
    with serving() as server:  # the graph changes: Huawei is on OFAC's Non-SDN CMIC list too
        serve_nonsdn(server, realdata, set())
        assert update(store, server, "ofac-nonsdn")[0] == 0
    code, out, err = run(store, "evidence", "check", str(record))
    assert code == 0 and "the same answer" in out  # on the recorded version: still what was said that day
    code, out, err = run(store, "evidence", "check", str(record), "--current")
    assert code == 1, out + err
    assert "a different answer" in out and "Non-SDN Chinese Military-Industrial Complex" in out


def test_evidence_records_the_typed_identifier_and_checks_with_it(store: VersionedStore, tmp_path: Path) -> None:
    """An identifier decides a match, so the record keeps it and `evidence check` screens with it again."""
    record = tmp_path / "evidence.json"
    code, out, err = run(store, "screen", "Some Shenzhen Trading Co", "--identifier", "USCC 914403001922038216",
                         "--evidence", str(record), "--format", "csv")
    assert code == 0, err
    kept = json.loads(record.read_text(encoding="utf-8"))
    assert kept["inputs"]["rows"][0]["identifiers"] == ["USCC 914403001922038216"]
    assert kept["answers"][0]["party"].endswith("/company/huawei"), kept["answers"]
    code, out, err = run(store, "evidence", "check", str(record))
    assert code == 0 and "the same answer" in out, out + err


# ---- serve: the "what changed" page and its JSON feed

def test_serve_shows_what_changed_and_the_feed(store: VersionedStore, realdata: Path) -> None:
    from tests.serving import serving as serve_store

    update_older_then_newer(store, realdata)
    with serve_store(store.path) as served:
        status, headers, body = served.get("/changes.json")
        assert status == 200 and headers["content-type"].startswith("application/json")
        feed = json.loads(body)
        kinds = [e["event"] for e in feed["events"]]
        assert kinds.count("listed") == 12 and kinds.count("ended") == 8
        assert feed["updates"][0]["sources"][0]["name"] == "ofac-nonsdn"
        status, _, body = served.get("/changes")
        page = body.decode("utf-8")
        assert status == 200 and "What changed" in page and "12 listed" in page and "8 ended" in page
        assert "cons_prim.csv" in page and str(store.path) not in page
        status, _, body = served.get("/changes.json?source=csl")
        assert status == 200 and json.loads(body)["events"] == []
        status, _, _ = served.get("/changes.json?version=%3Cscript%3E")
        assert status == 400


# ---- the Federal Register

def test_federal_register_search_of_followed_agencies(store: VersionedStore, realdata: Path) -> None:
    page = (realdata / "federal-register/search/search-commerce-department-rule-notice-newest-page1.json").read_bytes()
    with serving() as server:
        server.put("/fr/documents.json", page)  # a real results page (2 Commerce documents) for every search
        server.put("/fr/documents", b'{"count": 0, "results": []}')  # its next page: the end of the results
        url = ["--url", f"federal-register={server.url('/fr')}"]
        code, out, err = run(store, "update", "federal-register", *url)
        assert code == 0, err
        assert "federal-register: fetched:" in out and "2 agencies searched since 2026-11-27" in out
        searched = [p for p, _, _ in server.log if p == "/fr/documents.json"]
        assert len(searched) == 2  # one search per followed agency
        code, out, err = run(store, "update", "federal-register", *url)
        assert code == 0, err
        assert "federal-register: unchanged" in out and "searched since 2026-12-04" in out
    query = "SELECT ?n WHERE { ?r eli:id_local ?n FILTER(?n IN ('2026-19274', '2026-19273')) }"
    code, out, _ = run(store, "sparql", query, "--format", "csv")
    assert sorted(out.split()[1:]) == ["2026-19273", "2026-19274"]


def test_a_second_update_at_once_refuses(store: VersionedStore) -> None:
    import fcntl

    lock = store.path / "monitor" / ".update.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("tradekg update, pid 4242\n")
        held.flush()
        code, _, err = run(store, "update", "csl")
    assert code == 2 and "another update" in err and "pid 4242" in err
