"""Concurrency (issue 6): two writers on one store, and readers while a writer works.

Real `tradekg` processes (`python -m kg ...`) on one store: a second `load`
waits for the first, or (when ``TRADEKG_LOCK_WAIT`` runs out) refuses with a
message naming the writer, and the store ends with exactly the facts of the
loads that reported success. Readers, in this process and as `tradekg query`
processes, see the graph before a load or after it, never a partial one and
never an error.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.pipeline.build import build, load, user_files
from tests.conftest import REPO, mini_files
from tests.crashpoints import (
    Fingerprint,
    copy_store,
    crash_command,
    fingerprint,
    kg_command,
    leftovers,
    name_state,
    say,
    store_fingerprint,
    version_dirs,
)

pytestmark = pytest.mark.slow

DESIGNATION = ("id,party,list,rule,start_date,license_policy,source,confidence\n"
               "d-affco,affco,list-a,r-late,2022-05-01,case-by-case,fixture,confirmed\n")
COMPANY = ("id,name,aliases,country,wikidata,parent,affiliate_of,homepage,source,confidence,note\n"
           "newco,New Co Ltd.,,DE,,,,,fixture,confirmed,\n")
TIMEOUT = 120.0


@dataclass
class Stores:
    root: Path
    a: Path  # designations-a.csv
    b: Path  # companies-b.csv
    before: Path
    states: dict[str, Fingerprint]  # before, A, B, A+B


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    root = tmp_path_factory.mktemp("concurrency")
    a, b = root / "designations-a.csv", root / "companies-b.csv"
    a.write_text(DESIGNATION, encoding="utf-8")
    b.write_text(COMPANY, encoding="utf-8")
    before = root / "before"
    build(VersionedStore(before), mini_files())
    states = {"before": store_fingerprint(before)}
    for name, files in (("A", [a]), ("B", [b]), ("A+B", [a, b]), ("B+A", [b, a])):
        store = copy_store(before, root / name)
        for csv in files:
            load(VersionedStore(store), user_files([csv]))
        states[name] = store_fingerprint(store)
    assert states.pop("B+A") == states["A+B"], "two loads give the same graph in either order"
    assert len(set(states.values())) == 4
    return Stores(root, a, b, before, states)


def _env(wait: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRADEKG_STORE"}
    env["TRADEKG_LOCK_WAIT"] = wait
    return env


def _start_load(csv: Path, store: Path, wait: str) -> subprocess.Popen[str]:
    return subprocess.Popen(kg_command("load", str(csv), "--store", str(store)), cwd=REPO, env=_env(wait),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out, err


@contextmanager
def _held_lock(store: Path) -> Iterator[None]:
    """Hold the store's writer lock as a writer does: through the store's own lock."""
    with VersionedStore(store).locked(wait_seconds=0):
        yield


def _waiting_for_lock(proc: subprocess.Popen[str], store: Path) -> bool:
    """Whether the process has the store's lock file open (it then waits in ``flock``)."""
    lock = str((store / ".lock").resolve())
    fds = Path(f"/proc/{proc.pid}/fd")
    try:
        return any(os.readlink(fd) == lock for fd in fds.iterdir())
    except OSError:  # the process ended, or an fd closed while we looked
        return False


def _poll(condition, what: str, timeout: float = TIMEOUT) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_second_load_waits_for_the_first(stores: Stores, tmp_path: Path) -> None:
    """Two loads arrive while the store is being written: both wait, then both land, one after the other."""
    store = copy_store(stores.before, tmp_path / "store")
    with _held_lock(store):
        first, second = _start_load(stores.a, store, "60"), _start_load(stores.b, store, "60")
        _poll(lambda: _waiting_for_lock(first, store) and _waiting_for_lock(second, store),
              "both loads wait for the lock")
        assert first.poll() is None and second.poll() is None
        assert store_fingerprint(store) == stores.states["before"]
    results = [_finish(first), _finish(second)]
    for code, out, err in results:
        assert code == 0, err
        assert "loaded 1 rows" in out
    assert store_fingerprint(store) == stores.states["A+B"]
    assert not leftovers(store)  # versions before the current one are kept for rollback; no half-written one


KID = ("id,name,aliases,country,wikidata,parent,affiliate_of,homepage,source,confidence,note\n"
       "kidco,Kid Telecom Ltda,,BR,,affco,,,fixture,confirmed,\n")
SAME_ID = ("id,name,aliases,country,wikidata,parent,affiliate_of,homepage,source,confidence,note\n"
           "newco,Another New Co,,FR,,,,,fixture,confirmed,\n")


@pytest.mark.parametrize("case", ["subsidiary then designation of its parent", "the same identifier twice"])
def test_a_load_that_waited_works_on_what_the_first_one_wrote(case: str, stores: Stores, tmp_path: Path) -> None:
    """The second load checks and derives against the graph the first one published, not the one it saw first.

    The first load is held just before it publishes (lock taken, new version
    ready) until the second has read the store and waits for the lock.
    """
    first_csv, second_csv = tmp_path / "companies-first.csv", tmp_path / "second.csv"
    if case.startswith("subsidiary"):
        first_csv.write_text(KID, encoding="utf-8")
        second_csv = stores.a  # designates affco, kidco's parent: kidco's effects must follow
    else:
        first_csv = stores.b
        second_csv = tmp_path / "companies-again.csv"
        second_csv.write_text(SAME_ID, encoding="utf-8")
    store = copy_store(stores.before, tmp_path / "store")
    go = tmp_path / "go"
    env = {**_env("60"), "TRADEKG_TEST_GO": str(go)}
    first = subprocess.Popen(crash_command("pause-before-publish", "load", str(first_csv), "--store", str(store)),
                             cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    _poll(lambda: Path(f"{go}.ready").exists() or first.poll() is not None, "the first load holds the lock")
    second = _start_load(second_csv, store, "60")
    _poll(lambda: _waiting_for_lock(second, store), "the second load waits for the lock")
    go.touch()
    code, _, err = _finish(first)
    assert code == 0, err
    code, out, err = _finish(second)
    if case.startswith("subsidiary"):
        assert code == 0, err
        sequential = copy_store(stores.before, tmp_path / "sequential")
        for csv in (first_csv, second_csv):
            load(VersionedStore(sequential), user_files([csv]))
        assert store_fingerprint(store) == store_fingerprint(sequential), "the second load lost the first's facts"
    else:
        assert code == 2 and "duplicate identifier 'newco'" in err, (out, err)
        assert store_fingerprint(store) == stores.states["B"]


def test_second_load_refuses_with_a_clear_message_when_the_wait_runs_out(stores: Stores, tmp_path: Path) -> None:
    store = copy_store(stores.before, tmp_path / "store")
    versions = version_dirs(store)
    with _held_lock(store):
        started = time.monotonic()
        code, out, err = _finish(_start_load(stores.a, store, "1"))
        waited = time.monotonic() - started
    assert code == 2, err
    assert f"is being written by tradekg pid {os.getpid()}; try again when it has finished" in err
    assert waited >= 1.0
    assert out == ""
    assert store_fingerprint(store) == stores.states["before"]
    assert version_dirs(store) == versions  # nothing half-written left behind
    code, _, err = _finish(_start_load(stores.a, store, "soon"))
    assert code == 2 and "TRADEKG_LOCK_WAIT must be a number of seconds" in err, err


@pytest.mark.parametrize("wait", ["0", "30"])
def test_racing_loads_end_with_exactly_the_successful_ones(wait: str, stores: Stores, tmp_path: Path) -> None:
    """Two loads started at once, each refused at once (wait 0) or waiting (30): the store matches the exits."""
    outcomes = []
    for attempt in range(1):
        store = copy_store(stores.before, tmp_path / f"store-{attempt}")
        first, second = _start_load(stores.a, store, wait), _start_load(stores.b, store, wait)
        (code_a, _, err_a), (code_b, _, err_b) = _finish(first), _finish(second)
        for code, err in ((code_a, err_a), (code_b, err_b)):
            assert code == 0 or (code == 2 and "is being written by tradekg pid" in err), err
        if wait != "0":
            assert code_a == code_b == 0, (err_a, err_b)
        landed = "+".join(name for name, code in (("A", code_a), ("B", code_b)) if code == 0) or "before"
        assert store_fingerprint(store) == stores.states[landed], f"loads that succeeded: {landed}"
        outcomes.append(landed)
    say(f"\n[concurrency] two loads at once, TRADEKG_LOCK_WAIT={wait}: the store holds {outcomes}")


def test_readers_see_the_old_or_the_new_graph_during_loads(stores: Stores, tmp_path: Path) -> None:
    """Readers in this process and `tradekg query designations` processes, while two loads run."""
    store = copy_store(stores.before, tmp_path / "store")
    order = ["before", "A", "A+B"]
    runner = CliRunner()
    expected: dict[str, str] = {}
    for name in order[:2]:  # a new company alone (B) adds no designation row: A+B answers as A does
        state_store = stores.before if name == "before" else stores.root / name
        result = runner.invoke(cli, ["query", "designations", "--format", "csv", "--store", str(state_store)])
        assert result.exit_code == 0, result.output
        expected[name] = result.stdout
    assert expected["before"] != expected["A"]
    known = {name: stores.states[name] for name in order}
    stop = threading.Event()
    seen: list[str] = []
    answers: list[str] = []
    problems: list[str] = []

    def read_here() -> None:
        while not stop.is_set():
            try:
                found = name_state(fingerprint(EmbeddedBackend(VersionedStore(store).open_read()).all_triples()),
                                   known)
            except Exception as exc:
                problems.append(f"a reader failed: {exc!r}")
                continue
            if found is None:
                problems.append("a reader saw a graph that is neither before nor after a load")
            elif not seen or seen[-1] != found:
                seen.append(found)
            time.sleep(0.02)  # leave the CPU to the loads

    def read_by_query() -> None:
        while not stop.is_set():
            done = subprocess.run(kg_command("query", "designations", "--format", "csv", "--store", str(store)),
                                  cwd=REPO, env=_env("30"), capture_output=True, text=True, timeout=TIMEOUT)
            if done.returncode != 0:
                problems.append(f"tradekg query failed: {done.stderr.strip()}")
            elif done.stdout not in expected.values():
                problems.append(f"tradekg query printed a partial answer:\n{done.stdout}")
            else:
                answers.append("before" if done.stdout == expected["before"] else "after A")

    readers = [threading.Thread(target=read_here, daemon=True), threading.Thread(target=read_by_query, daemon=True)]
    for thread in readers:
        thread.start()
    try:
        _poll(lambda: bool(seen) and bool(answers), "both readers have read once")
        for csv in (stores.a, stores.b):
            code, _, err = _finish(_start_load(csv, store, "30"))
            assert code == 0, err
        count = len(answers)
        _poll(lambda: len(answers) > count, "a query process has read the final graph")
        # The in-process reader may be between reads when the loads end: wait
        # for it to read the final graph rather than stop it before it could.
        _poll(lambda: bool(seen) and seen[-1] == "A+B", "the in-process reader has read the final graph")
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=TIMEOUT)
    say(f"\n[concurrency] readers during two loads: in-process states in order {seen}; "
        f"{len(answers)} `tradekg query` answers: {answers}; problems: {len(problems)}")
    assert not problems, problems[:5]
    assert seen[0] == "before" and seen[-1] == "A+B"
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen), "a reader went back in time"
    assert answers[-1] == "after A"
    assert answers == sorted(answers, key=["before", "after A"].index), "a query went back in time"
