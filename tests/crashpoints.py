"""Helpers for the crash and concurrency tests: real tradekg processes, killed; graphs compared.

Run as a script, this is ``tradekg`` with a crash point armed::

    python tests/crashpoints.py POINT ARGS...      # ARGS as for `python -m kg`

and the process SIGKILLs itself at POINT, a named step of a store write:

- ``derived``: the facts and rule effects are in the new version, not yet flushed;
- ``before-publish``: the new version is closed and has its manifest, ``current`` not swapped;
- ``mid-swap``: the temporary ``.current-PID`` symlink exists, ``os.replace`` not yet run;
- ``after-swap``: ``current`` points at the new version, nothing pruned yet;
- ``in-prune``: while deleting a leftover version directory (one file gone).

Two more points pause instead of dying, for the concurrency tests:
``pause-before-publish`` holds the writer lock with the new version ready,
creates the file ``$TRADEKG_TEST_GO.ready`` and waits until ``$TRADEKG_TEST_GO``
exists, then carries on. ``pause-before-remote-update`` does the same in
``load --endpoint`` once its first update is planned (the ready file is
``$TRADEKG_TEST_GO.PID.ready``), so two loads can be made to plan on the same
graph and then race.

Replay and rollback (issue 11) are killed at the same named steps: a build
that replays a ledger and a rollback both write through the same
``VersionedStore.write``.

The random-kill tests (``tests/test_crash.py``) use the rest of the module:
``fingerprint`` (a graph's triples, blank nodes compared up to renaming) and
``kill_at`` (start a command, SIGKILL it after a delay or once its write began).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

POINTS = ("derived", "before-publish", "mid-swap", "after-swap", "in-prune")
# Where each point leaves the store: the graph before the write, or after it.
OUTCOME = {"derived": "before", "before-publish": "before", "mid-swap": "before",
           "after-swap": "after", "in-prune": "after"}
SCRIPT = Path(__file__).resolve()


# --- in the killed process ---------------------------------------------------------------------


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    """Patch the store code so this process kills itself at ``point``."""
    import kg.graph.store
    import kg.pipeline.build
    import kg.pipeline.incremental

    if point == "derived":
        for module, name in ((kg.pipeline.build, "rederive_in_store"), (kg.pipeline.incremental, "rederive_in_store"),
                             (kg.pipeline.incremental, "rederive_parties")):
            original = getattr(module, name)

            def derived_then_die(*args: object, _original: Callable[..., object] = original, **kwargs: object) -> None:
                _original(*args, **kwargs)
                _die()

            setattr(module, name, derived_then_die)
    elif point == "before-publish":
        kg.graph.store.VersionedStore._publish = lambda self, target: _die()  # type: ignore[method-assign]
    elif point in ("mid-swap", "after-swap"):
        original_replace = os.replace

        def replace(src: str, dst: str, *args: object, **kwargs: object) -> None:
            if Path(dst).name != "current":
                return original_replace(src, dst, *args, **kwargs)
            if point == "mid-swap":
                _die()
            original_replace(src, dst, *args, **kwargs)
            _die()

        kg.graph.store.os.replace = replace  # type: ignore[assignment]  # this process only
    elif point == "in-prune":
        original_rmtree = shutil.rmtree

        def rmtree(path: str | Path, *args: object, **kwargs: object) -> None:
            path = Path(path)
            if path.parent.name == "versions" and path.is_dir():
                for child in sorted(path.iterdir())[:1]:
                    child.unlink()
                _die()
            original_rmtree(path, *args, **kwargs)

        kg.graph.store.shutil.rmtree = rmtree  # type: ignore[assignment]
    elif point == "pause-before-publish":
        original_publish = kg.graph.store.VersionedStore._publish
        go = Path(os.environ["TRADEKG_TEST_GO"])

        def paused(self: kg.graph.store.VersionedStore, target: Path) -> None:
            Path(f"{go}.ready").touch()
            deadline = time.monotonic() + 120
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            original_publish(self, target)

        kg.graph.store.VersionedStore._publish = paused  # type: ignore[method-assign]
    elif point == "pause-before-remote-update":
        import kg.pipeline.push

        original_commit = kg.pipeline.push.commit_update
        go = Path(os.environ["TRADEKG_TEST_GO"])
        calls = []

        def paused_commit(*args: object, **kwargs: object) -> str:
            if not calls:
                Path(f"{go}.{os.getpid()}.ready").touch()
                deadline = time.monotonic() + 120
                while not go.exists() and time.monotonic() < deadline:
                    time.sleep(0.01)
            calls.append(1)
            return original_commit(*args, **kwargs)  # type: ignore[arg-type]

        kg.pipeline.push.commit_update = paused_commit  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown crash point {point!r}; one of {', '.join(POINTS)}")


def main() -> None:
    point = sys.argv[1]
    sys.argv = ["tradekg", *sys.argv[2:]]
    arm(point)
    from kg.cli import cli

    cli()
    if point.startswith("pause"):
        return
    raise SystemExit(f"crash point {point!r} was never reached")  # cli() normally exits itself


# --- in the test process -----------------------------------------------------------------------


Fingerprint = tuple[frozenset, str]


def fingerprint(graph) -> Fingerprint:  # type: ignore[no-untyped-def]
    """The graph's triples without blank nodes, exactly, and a digest of the rest up to renaming.

    Blank nodes (the ontology's ``owl:unionOf`` lists) get new labels in every
    build and on every server, so those triples are compared as a graph.
    """
    from rdflib import BNode, Graph
    from rdflib.compare import to_isomorphic

    ground, blank = set(), Graph()
    for triple in graph:
        if any(isinstance(term, BNode) for term in triple):
            blank.add(triple)
        else:
            ground.add(triple)
    return frozenset(ground), str(to_isomorphic(blank).graph_digest())


def store_fingerprint(path: Path) -> Fingerprint:
    from kg.graph.backend import EmbeddedBackend
    from kg.graph.store import VersionedStore

    return fingerprint(EmbeddedBackend(VersionedStore(path).open_read()).all_triples())


def name_state(found: Fingerprint, known: dict[str, Fingerprint]) -> str | None:
    return next((name for name, fp in known.items() if fp == found), None)


def how_it_differs(found: Fingerprint, known: dict[str, Fingerprint]) -> str:
    """For a store that is none of the known states: how far it is from each, with a few triples it lacks."""
    parts = []
    for name, (ground, blank) in known.items():
        missing, extra = ground - found[0], found[0] - ground
        sample = "; ".join(" ".join(str(t) for t in triple) for triple in sorted(missing, key=str)[:3])
        parts.append(f"{name}: {len(missing)} triples missing, {len(extra)} extra, blank nodes "
                     f"{'same' if blank == found[1] else 'differ'}" + (f" (missing e.g. {sample})" if sample else ""))
    return " | ".join(parts)


def say(text: str) -> None:
    """Report a summary line (seen with `pytest -s`, and in the captured output of a failure)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def kg_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kg", *args]


def crash_command(point: str, *args: str) -> list[str]:
    return [sys.executable, str(SCRIPT), point, *args]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TRADEKG_STORE", "TRADEKG_ENDPOINT", "TRADEKG_GRAPH")}
    env.update(extra)
    return env


@dataclass
class Killed:
    returncode: int | None  # None: killed; otherwise it finished first
    stderr: str
    triggered: bool = True  # False: the trigger never fired before the process ended


@dataclass(frozen=True)
class Plan:
    """When to kill: ``seconds`` after the start, or after ``trigger`` (the write began) fired."""

    seconds: float
    after_trigger: bool = False

    def describe(self) -> str:
        return f"{self.seconds:.3f} s after {'the write began' if self.after_trigger else 'the start'}"


def kill_at(command: list[str], plan: Plan | float, cwd: Path, env: dict[str, str], log: Path,
            trigger: Callable[[], bool] | None = None, timeout: float = 120.0) -> Killed:
    """Start ``command``; SIGKILL it as ``plan`` says, unless it has finished by then."""
    plan = plan if isinstance(plan, Plan) else Plan(plan)
    with open(log, "w+b") as err:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err)
        triggered = True
        try:
            if plan.after_trigger and trigger is not None:
                deadline = time.monotonic() + timeout
                while not trigger():
                    if proc.poll() is not None:
                        triggered = False
                        break
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{command}: the write never began within {timeout} s")
                    time.sleep(0.002)
            proc.wait(timeout=plan.seconds)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None and not triggered:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=timeout)
        code = None if proc.returncode == -signal.SIGKILL else proc.returncode
        err.seek(0)
        return Killed(code, err.read().decode("utf-8", "replace"), triggered)


@dataclass
class Window:
    duration: float  # a whole normal run
    writing: float | None  # when the probe first saw the write start
    done: float | None  # when it first saw the result published


def measure(command: list[str], probe: Callable[[], int], cwd: Path, env: dict[str, str],
            timeout: float = 120.0) -> Window:
    """Run ``command`` to the end, polling ``probe`` (0 nothing yet, 1 writing, 2 published)."""
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    marks: dict[int, float] = {}
    while proc.poll() is None:
        phase = probe()
        now = time.monotonic() - started
        for p in range(1, phase + 1):
            marks.setdefault(p, now)
        if now > timeout:
            proc.kill()
            raise AssertionError(f"{command} did not finish in {timeout} s")
        time.sleep(0.005)
    duration = time.monotonic() - started
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait()
    assert proc.returncode == 0, f"{command} failed: {stderr}"
    return Window(duration, marks.get(1), marks.get(2))


def kill_plans(window: Window, count: int, rng) -> list[Plan]:  # type: ignore[no-untyped-def]
    """A quarter of the kill times anywhere in a run, the rest in its write phase.

    The write phase is found again in every run (the caller's trigger: a new
    version directory, a staging graph), since a busy machine shifts it.
    """
    done = window.done if window.done is not None else window.duration
    writing = window.writing if window.writing is not None else max(0.0, done - 0.3)
    anywhere = count // 4
    span = (done - writing) * 1.5 + 0.02
    return ([Plan(rng.uniform(0.0, window.duration * 1.2)) for _ in range(anywhere)]
            + [Plan(rng.uniform(0.0, span), after_trigger=True) for _ in range(count - anywhere)])


def version_dirs(store: Path) -> set[str]:
    versions = store / "versions"
    return {p.name for p in versions.iterdir()} if versions.is_dir() else set()


def leftovers(store: Path) -> set[str]:
    """Version directories a killed writer left: no manifest, not a ``v-`` name, or newer than ``current``.

    Published versions before the current one are kept on purpose (for
    ``tradekg rollback``; ``TRADEKG_KEEP_VERSIONS``), so they are not leftovers.
    """
    from kg.graph.store import read_manifest

    current = Path(current_target(store) or "").name
    found = set()
    for name in version_dirs(store):
        path = store / "versions" / name
        if name == current:
            continue
        if not name.startswith("v-") or read_manifest(path) is None or name > current:
            found.add(name)
    return found


def current_target(store: Path) -> str | None:
    try:
        return os.readlink(store / "current")
    except OSError:
        return None


def copy_store(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


if __name__ == "__main__":
    main()
