"""Two `tradekg load --endpoint` at the same moment (issue 11): both commit, the later derives again on both.

Both loads are real processes against the real Oxigraph server the suite
starts. Each is paused (``tests/crashpoints.py``, point
``pause-before-remote-update``) after it has read the graph and derived its
change, until both have; then both send their update at once. The second
load's rows depend on the first's: a company whose parent the first load
designates, so a load that derived without the other's rows would leave the
company without the rule effects reaching it through its parent. The server
must end with exactly the graph two loads in a row give locally.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from kg.graph.remote import Endpoint, RemoteBackend
from kg.graph.store import VersionedStore
from kg.pipeline.build import build, load, user_files
from kg.pipeline.push import push
from tests.conftest import REPO, mini_files
from tests.crashpoints import child_env, crash_command, fingerprint, store_fingerprint
from tests.servers import oxigraph_server

DESIGNATION = ("id,party,list,rule,start_date,license_policy,source,confidence\n"
               "d-otherco-2022,otherco,list-a,r-late,2022-05-01,case-by-case,fixture,confirmed\n")
SUBSIDIARY = ("id,name,aliases,country,wikidata,parent,affiliate_of,homepage,source,confidence,note\n"
              "othersub,Other Sub Ltd.,,DE,,otherco,,,fixture,confirmed,\n")


def test_two_remote_loads_at_once_lose_no_derived_effect(tmp_path: Path) -> None:
    first, second = tmp_path / "designations-new.csv", tmp_path / "companies-new.csv"
    first.write_text(DESIGNATION, encoding="utf-8")
    second.write_text(SUBSIDIARY, encoding="utf-8")
    base = VersionedStore(tmp_path / "base")
    build(base, mini_files())
    expected_store = VersionedStore(tmp_path / "expected")
    build(expected_store, mini_files())
    load(expected_store, user_files([first]))
    load(expected_store, user_files([second]))
    expected = store_fingerprint(expected_store.path)
    # Either order gives the same graph; a load that missed the other's rows does not.
    partial_store = VersionedStore(tmp_path / "partial")
    build(partial_store, mini_files())
    load(partial_store, user_files([second]))
    assert store_fingerprint(partial_store.path) != expected

    with oxigraph_server(tmp_path / "ox") as server:
        endpoint = Endpoint(server.query_url)
        push(base, endpoint)
        go = tmp_path / "go"
        env = child_env(TRADEKG_TEST_GO=str(go))
        procs = [subprocess.Popen(crash_command("pause-before-remote-update", "load", str(f), "--endpoint",
                                                server.query_url),
                                  cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for f in (first, second)]
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("go.*.ready"))) < 2:
            failed = [p for p in procs if p.poll() is not None]
            if failed:
                pytest.fail(f"a load ended before planning: {failed[0].stderr.read().decode()}")  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the loads never both planned their update"
            time.sleep(0.02)
        go.touch()  # both planned on the same graph: now they race
        results = [(p.wait(timeout=120), p.stdout.read().decode(), p.stderr.read().decode())  # type: ignore[union-attr]
                   for p in procs]
        for code, out, err in results:
            assert code == 0, f"exit {code}: {out}\n{err}"
        served = fingerprint(RemoteBackend(endpoint).all_triples())
    assert served == expected, "the server's graph is not what two loads in a row give"
    noticed = [err for _, _, err in results if "the graph changed under this load: 1 other load(s)" in err]
    assert noticed, [err for _, _, err in results]
