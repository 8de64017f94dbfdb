"""Crash safety (issues 6, 11): kill `load`, `build`, a replaying `build`, `rollback` and `push` with SIGKILL.

Every test runs the real command (`python -m kg ...`) in a subprocess. A normal
run is timed first (and watched: when a new version directory appears, when
``current`` moves; for push, when a staging graph appears, when the target
changes), then the command is killed at many random moments, most of them
around its write phase. After each kill the store (or the server's target
graph) must hold exactly the graph from before the command or exactly the one
after it, never anything between and never an error, and a later write must
still work (leftover version directories and the dead writer's lock must not
block it). Each test prints how many kill points it tried, where they landed
and how many found a bad state (run with ``-s`` to see it).

``TRADEKG_CRASH_POINTS`` (default 20 per command) and ``TRADEKG_CRASH_SEED``
change how many kill points are tried and where.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.graph.remote import Auth, Endpoint, RemoteBackend
from kg.graph.store import VersionedStore
from kg.pipeline.build import build, data_files, load, user_files
from kg.pipeline.push import STAGING_PREFIX, push
from tests.conftest import MINI, REPO, mini_files
from tests.crashpoints import (
    OUTCOME,
    POINTS,
    Fingerprint,
    Plan,
    copy_store,
    crash_command,
    current_target,
    fingerprint,
    how_it_differs,
    kg_command,
    kill_at,
    kill_plans,
    leftovers,
    measure,
    name_state,
    say,
    store_fingerprint,
    version_dirs,
)
from tests.servers import OxigraphServer

pytestmark = pytest.mark.slow

KILL_POINTS = int(os.environ.get("TRADEKG_CRASH_POINTS", "20"))
SEED = int(os.environ.get("TRADEKG_CRASH_SEED") or time.time_ns() % 1_000_000)
NEW_DESIGNATION = ("id,party,list,rule,start_date,license_policy,source,confidence\n"
                   "d-affco,affco,list-a,r-late,2022-05-01,case-by-case,fixture,confirmed\n")
FOLLOW_COMPANY = ("id,name,aliases,country,wikidata,parent,affiliate_of,homepage,source,confidence,note\n"
                  "followco,Follow Up Ltd.,,DE,,,,,fixture,confirmed,\n")
# The same designation as a row of the curated designations table, for `build`.
DESIGNATION_ROW = "d-affco,affco,list-a,r-late,,,2022-05-01,,,case-by-case,,fixture,confirmed,\n"

# pyoxigraph, rdflib and the kg code are used from two worker threads: one at a time.
KG = threading.Lock()


@dataclass
class World:
    root: Path
    data_after: Path  # mini plus one designation, for `build`
    new_csv: Path  # the same designation as a file, for `load`
    follow_csv: Path  # a company loaded after each kill
    before: Path  # a store built from mini
    states: dict[str, Fingerprint]  # before, load-after, build-after, and each "+follow"


def _load(store: Path, csv: Path) -> None:
    load(VersionedStore(store), user_files([csv]))  # named as the command line names it


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("crash")
    data_after = root / "data-after"
    shutil.copytree(MINI, data_after)
    with open(data_after / "designations.csv", "a", encoding="utf-8") as table:
        table.write(DESIGNATION_ROW)
    new_csv = root / "designations-2022.csv"
    new_csv.write_text(NEW_DESIGNATION, encoding="utf-8")
    follow_csv = root / "companies-follow.csv"
    follow_csv.write_text(FOLLOW_COMPANY, encoding="utf-8")
    before = root / "before"
    build(VersionedStore(before), mini_files())
    load_after = copy_store(before, root / "load-after")
    _load(load_after, new_csv)
    build_after = copy_store(before, root / "build-after")
    build(VersionedStore(build_after), data_files(data_after))
    states = {"before": store_fingerprint(before), "load-after": store_fingerprint(load_after),
              "build-after": store_fingerprint(build_after)}
    for name, store in (("before", before), ("load-after", load_after), ("build-after", build_after)):
        followed = copy_store(store, root / f"{name}+follow")
        _load(followed, follow_csv)
        states[f"{name}+follow"] = store_fingerprint(followed)
    assert states["before"] != states["load-after"] and states["before"] != states["build-after"]
    return World(root, data_after, new_csv, follow_csv, before, states)


@dataclass
class Trial:
    plan: Plan
    phase: str  # where the kill landed
    state: str  # before / after / a bad state
    problem: str | None = None  # a bad state, an error, or a later write that failed


def _summary(name: str, trials: list[Trial], extra: str = "") -> str:
    phases = Counter(t.phase for t in trials)
    bad = [t for t in trials if t.problem]
    lines = [f"[crash] {name}: {len(trials)} kill points (seed {SEED}); "
             + ", ".join(f"{phase}: {n}" for phase, n in sorted(phases.items()))
             + f"; bad states: {len(bad)}{extra}"]
    lines += [f"[crash]   {t.plan.describe()} ({t.phase}): {t.problem}" for t in bad]
    return "\n".join(lines)


def _run_store_trials(world: World, tmp: Path, command: str, args: Callable[[Path], list[str]],
                      after: str) -> list[Trial]:
    """Kill ``tradekg COMMAND`` at random moments; check each store, then write to it again."""
    env = {**os.environ, "TRADEKG_LOCK_WAIT": "10"}
    probe_store = copy_store(world.before, tmp / "measured")
    initial, initial_current = version_dirs(probe_store), current_target(probe_store)

    def probe() -> int:
        if current_target(probe_store) != initial_current:
            return 2
        return 1 if version_dirs(probe_store) - initial else 0

    window = measure(kg_command(*args(probe_store)), probe, REPO, env)
    assert store_fingerprint(probe_store) == world.states[after], "a normal run gives the expected graph"
    plans = kill_plans(window, KILL_POINTS, random.Random(f"{SEED}-{command}"))
    known = {"before": world.states["before"], "after": world.states[after]}

    def trial(index: int, plan: Plan) -> Trial:
        store = copy_store(world.before, tmp / f"kill-{index}" / "store")
        existing = version_dirs(store)
        killed = kill_at(kg_command(*args(store)), plan, REPO, env, tmp / f"kill-{index}" / "stderr",
                         trigger=lambda: bool(version_dirs(store) - existing))
        with KG:
            try:
                state = name_state(store_fingerprint(store), known) or "between"
            except Exception as exc:
                return Trial(plan, "?", "unreadable", f"the store cannot be read: {exc!r}")
            leftover = version_dirs(store) - existing - {Path(current_target(store) or "").name}
            if killed.returncode is not None:
                phase = "finished first"
                if killed.returncode != 0:
                    return Trial(plan, phase, state, f"exit {killed.returncode}: {killed.stderr.strip()}")
            elif state == "before":
                phase = "killed mid-write" if leftover else "killed before writing"
            else:
                phase = "killed after publishing"
            if state == "between":
                return Trial(plan, phase, state, "neither the graph before nor the one after")
            if killed.returncode == 0 and state != "after":
                return Trial(plan, phase, state, "finished, yet the store holds the old graph")
            try:  # a later load must work: no stale lock, leftovers pruned
                _load(store, world.follow_csv)
            except Exception as exc:
                return Trial(plan, phase, state, f"a later load failed: {exc!r}")
            expected = world.states["before+follow" if state == "before" else f"{after}+follow"]
            if store_fingerprint(store) != expected:
                return Trial(plan, phase, state, "a later load gave the wrong graph")
            if leftovers(store):
                return Trial(plan, phase, state, f"leftover versions not pruned: {sorted(leftovers(store))}")
        shutil.rmtree(store.parent, ignore_errors=True)
        return Trial(plan, phase, state)

    with ThreadPoolExecutor(max_workers=2) as pool:
        trials = list(pool.map(trial, range(len(plans)), plans))
    say(f"\n[crash] {command}: a normal run takes {window.duration:.2f} s; new version seen at "
          f"{window.writing if window.writing is None else round(window.writing, 2)} s, published at "
          f"{window.done if window.done is None else round(window.done, 2)} s")
    return trials


def test_killed_load_leaves_the_old_graph_or_the_new_one(world: World, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKG_LOCK_WAIT", "10")
    trials = _run_store_trials(world, tmp_path, "load",
                               lambda store: ["load", str(world.new_csv), "--store", str(store)], "load-after")
    summary = _summary("tradekg load", trials)
    say(summary)
    assert len(trials) == KILL_POINTS
    assert not [t for t in trials if t.problem], summary


def test_killed_build_leaves_the_old_graph_or_the_new_one(world: World, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKG_LOCK_WAIT", "10")
    trials = _run_store_trials(world, tmp_path, "build",
                               lambda store: ["build", "--data", str(world.data_after), "--store", str(store)],
                               "build-after")
    summary = _summary("tradekg build", trials)
    say(summary)
    assert len(trials) == KILL_POINTS
    assert not [t for t in trials if t.problem], summary


@pytest.mark.parametrize("command", ["load", "build"])
def test_kill_at_each_step_of_the_write(command: str, world: World, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, deterministically: the process kills itself at each named step of a store write.

    Each store starts with a leftover version directory (a killed writer's) and
    a lock file naming a dead process; a later `tradekg load` must still work.
    """
    monkeypatch.setenv("TRADEKG_LOCK_WAIT", "10")
    after = f"{command}-after"
    env = {**os.environ, "TRADEKG_LOCK_WAIT": "10"}
    args = {"load": lambda store: ["load", str(world.new_csv), "--store", str(store)],
            "build": lambda store: ["build", "--data", str(world.data_after), "--store", str(store)]}[command]

    def step(point: str) -> tuple[str, str | None]:
        store = copy_store(world.before, tmp_path / point / "store")
        leftover = store / "versions" / "v-20000101T000000000000-999999"
        leftover.mkdir()
        (leftover / "000001.sst").write_bytes(b"half a file")
        (store / ".lock").write_text("tradekg pid 999999\n")
        killed = kill_at(crash_command(point, *args(store)), 120.0, REPO, env, tmp_path / point / "stderr")
        if killed.returncode is not None:
            return point, f"was not killed at {point} (exit {killed.returncode}): {killed.stderr[-500:]}"
        known = {"before": world.states["before"], "after": world.states[after]}
        with KG:
            found = store_fingerprint(store)
            state = name_state(found, known) or "between"
        if state != OUTCOME[point]:
            detail = f" ({how_it_differs(found, known)})" if state == "between" else ""
            return point, f"killed at {point}, the store holds {state}, not {OUTCOME[point]}{detail}"
        if point == POINTS[0]:  # one later write through the command line; in this process for the others
            later = kill_at(kg_command("load", str(world.follow_csv), "--store", str(store)), 120.0, REPO, env,
                            tmp_path / point / "later")
            if later.returncode != 0:
                return point, f"a later `tradekg load` failed: {later.stderr.strip()}"
        else:
            with KG:
                try:
                    _load(store, world.follow_csv)
                except Exception as exc:
                    return point, f"a later load failed: {exc!r}"
        with KG:
            expected = world.states["before+follow" if state == "before" else f"{after}+follow"]
            if store_fingerprint(store) != expected:
                return point, "a later load gave the wrong graph"
        if leftover.exists() or leftovers(store):
            return point, f"leftover versions not pruned: {sorted(leftovers(store))}"
        return point, None

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(step, POINTS))
    say(f"\n[crash] {command}: killed at {len(results)} named steps ({', '.join(POINTS)}); "
          f"bad: {sum(1 for _, problem in results if problem)}")
    assert not [problem for _, problem in results if problem]


# --- replay and rollback (issue 11) -------------------------------------------------------------


@dataclass
class LedgerWorld:
    loaded: Path  # mini built, then new_csv loaded: a ledger of one entry
    data_plus: Path  # mini plus one company, for a build that replays the ledger on it
    states: dict[str, Fingerprint]  # loaded, replayed (build on data_plus), rolled-back (mini alone)


@pytest.fixture(scope="module")
def ledger_world(world: World, tmp_path_factory: pytest.TempPathFactory) -> LedgerWorld:
    root = tmp_path_factory.mktemp("crash-ledger")
    data_plus = root / "data-plus"
    shutil.copytree(MINI, data_plus)
    with open(data_plus / "companies.csv", "a", encoding="utf-8") as table:
        table.write("laterco,Later Curated Ltd.,,FR,,,,,fixture,confirmed,\n")
    loaded = copy_store(world.root / "load-after", root / "loaded")
    replayed = copy_store(loaded, root / "replayed")
    build(VersionedStore(replayed), data_files(data_plus))
    states = {"loaded": store_fingerprint(loaded), "replayed": store_fingerprint(replayed),
              "rolled-back": world.states["before"]}
    assert states["replayed"] not in (states["loaded"], states["rolled-back"])
    return LedgerWorld(loaded, data_plus, states)


_LEDGER_COMMANDS = {
    "replay": (lambda lw, store: ["build", "--data", str(lw.data_plus), "--store", str(store)], "replayed"),
    "rollback": (lambda lw, store: ["rollback", "--store", str(store)], "rolled-back"),
}


@pytest.mark.parametrize("command", sorted(_LEDGER_COMMANDS))
def test_killed_replay_or_rollback_leaves_the_version_before_or_after(
        command: str, ledger_world: LedgerWorld, tmp_path: Path) -> None:
    """SIGKILL a build that replays the ledger, and a rollback, at each named step and at random moments.

    After each kill the store holds the version before or the one after,
    never anything between; the ledger is whole (the same command run again
    finishes and gives the graph after), and no leftover version stays.
    """
    make_args, after = _LEDGER_COMMANDS[command]
    # One version kept before the current: each write prunes one, so the in-prune step is reached.
    env = {**os.environ, "TRADEKG_LOCK_WAIT": "10", "TRADEKG_KEEP_VERSIONS": "1"}
    known = {"before": ledger_world.states["loaded"], "after": ledger_world.states[after]}
    points = [p for p in POINTS if not (command == "rollback" and p == "derived")]  # a rollback derives nothing
    probe_store = copy_store(ledger_world.loaded, tmp_path / "measured" / "store")
    initial, initial_current = version_dirs(probe_store), current_target(probe_store)

    def probe() -> int:
        if current_target(probe_store) != initial_current:
            return 2
        return 1 if version_dirs(probe_store) - initial else 0

    window = measure(kg_command(*make_args(ledger_world, probe_store)), probe, REPO, env)
    plans = kill_plans(window, max(4, KILL_POINTS // 2), random.Random(f"{SEED}-{command}"))

    def check(name: str, store: Path, expected: str | None, killed_code: int | None, stderr: str) -> str | None:
        with KG:
            found = store_fingerprint(store)
            state = name_state(found, known) or "between"
        if state == "between":
            return f"{name}: neither the version before nor the one after ({how_it_differs(found, known)})"
        if expected is not None and state != expected:
            return f"{name}: the store holds {state}, not {expected}"
        if killed_code not in (None, 0):
            return f"{name}: exit {killed_code}: {stderr.strip()}"
        if killed_code == 0 and state != "after":
            return f"{name}: finished, yet the store holds the version before"
        if state == "before":  # the command again, to the end: the ledger and lock survived the kill
            again = kill_at(kg_command(*make_args(ledger_world, store)), 120.0, REPO, env, store.parent / "again")
            if again.returncode != 0:
                return f"{name}: running it again failed: {again.stderr.strip()}"
            with KG:
                if store_fingerprint(store) != known["after"]:
                    return f"{name}: running it again gave the wrong graph"
        else:  # the history reads, and a later write works and clears what the kill left
            for later in (["history", "--store", str(store)],
                          ["build", "--data", str(ledger_world.data_plus), "--store", str(store)]):
                done = kill_at(kg_command(*later), 120.0, REPO, env, store.parent / "later")
                if done.returncode != 0:
                    return f"{name}: a later `tradekg {later[0]}` failed: {done.stderr.strip()}"
        if leftovers(store):
            return f"{name}: leftover versions not pruned: {sorted(leftovers(store))}"
        return None

    def named(point: str) -> str | None:
        store = copy_store(ledger_world.loaded, tmp_path / point / "store")
        killed = kill_at(crash_command(point, *make_args(ledger_world, store)), 120.0, REPO, env,
                         tmp_path / point / "stderr")
        if killed.returncode is not None:
            return f"{point}: was not killed (exit {killed.returncode}): {killed.stderr[-500:]}"
        return check(point, store, OUTCOME[point], None, killed.stderr)

    def random_kill(index: int, plan: Plan) -> str | None:
        store = copy_store(ledger_world.loaded, tmp_path / f"kill-{index}" / "store")
        existing = version_dirs(store)
        killed = kill_at(kg_command(*make_args(ledger_world, store)), plan, REPO, env,
                         tmp_path / f"kill-{index}" / "stderr", trigger=lambda: bool(version_dirs(store) - existing))
        return check(f"{plan.describe()}", store, None, killed.returncode, killed.stderr)

    with ThreadPoolExecutor(max_workers=2) as pool:
        problems = list(pool.map(named, points)) + list(pool.map(random_kill, range(len(plans)), plans))
    bad = [p for p in problems if p]
    say(f"\n[crash] {command}: killed at {len(points)} named steps and {len(plans)} random moments "
        f"(seed {SEED}); bad: {len(bad)}")
    assert not bad, bad


# --- push: the server's readers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Two Oxigraph servers: one per worker, so each knows the staging graph it sees is its push's."""
    started: list[OxigraphServer] = []
    try:
        for index in range(2):
            started.append(OxigraphServer(tmp_path_factory.mktemp(f"crash-ox{index}") / "ox").start())
        yield started
    finally:
        for srv in started:
            srv.stop()


def _count(backend: RemoteBackend, graph: str) -> int:
    rows = backend.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").rows
    return int(str(rows[0]["n"]))


def _staging_graphs(backend: RemoteBackend) -> set[str]:
    graphs = backend.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }").column("g")
    return {str(g) for g in graphs if str(g).startswith(STAGING_PREFIX)}


def test_killed_push_leaves_readers_the_old_graph_or_the_new_one(world: World, servers: list[OxigraphServer],
                                                                 tmp_path: Path) -> None:
    """Kill `tradekg push` at random moments; readers of the target graph see the old or the new graph.

    Each kill point pushes into its own named graph that holds the old graph
    (mini); the push brings mini plus a loaded designation, 100 triples per
    request. A reader thread reads every such graph through the server the
    whole time, and each graph is read again after the kill. Two workers, each
    with its own server, take turns with the kill points.
    """
    old_store, new_store = VersionedStore(world.before), VersionedStore(tmp_path / "new")
    copy_store(world.root / "load-after", new_store.path)
    admins = [RemoteBackend(Endpoint(srv.query_url, auth=Auth())) for srv in servers]
    known = {"old": world.states["before"], "new": world.states["load-after"]}
    new_count = len(new_store.open_read())
    env = {**os.environ}

    def target(worker: int, name: str) -> Endpoint:
        return Endpoint(servers[worker].query_url, graph=f"https://example.org/crash/{name}", auth=Auth())

    def args(worker: int, name: str) -> list[str]:
        return ["push", "--endpoint", servers[worker].query_url, "--graph", f"https://example.org/crash/{name}",
                "--chunk-size", "100", "--store", str(new_store.path)]

    # A normal run, watched from the server.
    with KG:
        push(old_store, target(0, "measured"))
    watched = target(0, "measured").graph
    assert watched is not None

    def probe() -> int:
        if _count(admins[0], watched) == new_count:
            return 2
        return 1 if _staging_graphs(admins[0]) else 0

    window = measure(kg_command(*args(0, "measured")), probe, REPO, env)
    plans = kill_plans(window, KILL_POINTS, random.Random(f"{SEED}-push"))

    active: set[tuple[int, str]] = set()
    reads: Counter[str] = Counter()
    reader_problems: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            for worker, name in sorted(active):
                try:
                    graph = RemoteBackend(target(worker, name)).all_triples()
                    with KG:
                        found = name_state(fingerprint(graph), known)
                except Exception as exc:
                    if (worker, name) in active:
                        reader_problems.append(f"graph {name}: read failed: {exc!r}")
                    continue
                if (worker, name) not in active:  # dropped while being read
                    continue
                reads[found or "bad"] += 1
                if found is None:
                    reader_problems.append(f"graph {name}: a reader saw {len(graph)} triples, neither old nor new")
            time.sleep(0.01)

    def trial(worker: int, index: int, plan: Plan) -> Trial:
        name = f"kill-{index}"
        admin = admins[worker]
        with KG:
            push(old_store, target(worker, name))
        active.add((worker, name))
        killed = kill_at(kg_command(*args(worker, name)), plan, REPO, env, tmp_path / f"{name}.stderr",
                         trigger=lambda: bool(_staging_graphs(admin)))
        try:
            with KG:
                state = name_state(fingerprint(RemoteBackend(target(worker, name)).all_triples()), known)
            state = state or "between"
        except Exception as exc:
            return Trial(plan, "?", "unreadable", f"the target graph cannot be read: {exc!r}")
        finally:
            active.discard((worker, name))
        staging = _staging_graphs(admin)
        for graph in staging:  # a killed push cannot clean up; the next kill point starts clean
            admin.update(f"DROP SILENT GRAPH <{graph}>")
        if killed.returncode is not None:
            phase = "finished first"
            if killed.returncode != 0 or state != "new":
                return Trial(plan, phase, state, f"exit {killed.returncode}, {state}: {killed.stderr.strip()}")
        elif state == "old":
            phase = "killed mid-upload" if staging else "killed before uploading"
        else:
            phase = "killed after the switch" + (", before dropping staging" if staging else "")
        if state == "between":
            return Trial(plan, phase, state, "readers see neither the old graph nor the new one")
        return Trial(plan, phase, state)

    def work(worker: int) -> list[Trial]:
        return [trial(worker, index, plan) for index, plan in enumerate(plans) if index % 2 == worker]

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            trials = [t for share in pool.map(work, range(2)) for t in share]
    finally:
        stop.set()
        thread.join(timeout=60)
    # A later push into a graph whose push was killed still works, and cleans up after itself.
    with KG:
        outcome = push(new_store, target(0, "kill-0"))
    assert outcome.server_triples == new_count
    assert not _staging_graphs(admins[0])
    summary = _summary("tradekg push", trials, f"; reads during the pushes: {dict(reads)}")
    say(f"\n[crash] push: a normal run takes {window.duration:.2f} s; staging seen at "
          f"{window.writing if window.writing is None else round(window.writing, 2)} s, target switched at "
          f"{window.done if window.done is None else round(window.done, 2)} s")
    say(summary)
    assert len(trials) == KILL_POINTS
    assert not [t for t in trials if t.problem], summary
    assert not reader_problems, reader_problems[:5]
    assert sum(reads.values()) > 0
