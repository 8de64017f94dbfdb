"""``tradekg serve`` answers at once from the store on disk, says so, and moves to the in-memory copy (issue 25).

Loading a million triples into memory takes seconds (13 s at 1.3M on the
shared machine); a server that answers only afterwards is down for that
long at every restart. These tests drive the server's own objects in-process,
the on-disk snapshot held still, so that they can look before the switch.
"""

from __future__ import annotations

from starlette.requests import Request

from kg.answers.queries import find_query, run_saved
from kg.graph.store import VersionedStore
from kg.namespaces import entity_iri
from kg.serve.app import Server
from kg.serve.snapshot import LOADING_MARK, Current
from kg.serve.views import search_index

NOTICE = LOADING_MARK.decode()


def _home(server: Server) -> str:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})
    return bytes(server.home(request).body).decode()


def _answer(current: Current) -> list[tuple[str, ...]]:
    table = run_saved(find_query("rules-affecting-firm"), {"firm": entity_iri("company", "huawei")},
                      current.snapshot.backend)
    return [tuple(str(row.get(c, "")) for c in table.variables) for row in table.rows]


def test_the_server_answers_from_disk_while_it_loads_and_says_so(curated_store: VersionedStore) -> None:
    current = Current(curated_store, None, prepare=search_index, from_disk_first=True)  # the watcher not started
    server = Server(current, None, None)
    assert not current.snapshot.in_memory
    assert current.snapshot.triples == len(curated_store.open_read())  # (from the version's manifest)
    assert NOTICE in _home(server)
    from_disk = _answer(current)
    assert len(from_disk) > 20  # Huawei's rules, as `tradekg query` gives them

    assert current.check()  # what the watcher does first: load the copy and switch to it
    assert current.snapshot.in_memory
    assert NOTICE not in _home(server)
    assert _answer(current) == from_disk  # the same rows, in the same order
    assert not current.check()  # nothing new published: no second load


def test_the_watcher_loads_the_copy_at_once(curated_store: VersionedStore) -> None:
    import time

    current = Current(curated_store, None, poll_seconds=60, from_disk_first=True)
    current.start()  # a minute between polls: only the first look, made at once, can load it
    try:
        deadline = time.monotonic() + 30
        while not current.snapshot.in_memory and time.monotonic() < deadline:
            time.sleep(0.05)
        assert current.snapshot.in_memory
    finally:
        current.stop()
