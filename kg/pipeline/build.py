"""Build, load and validate: CSV files to a validated, derived graph in the store.

``build`` and ``load`` are each one transaction from the store's point of view:
each publishes a new store version only when nothing is wrong (see
``kg.graph.store``). ``build`` derives and checks the shapes in memory and writes a
fresh version in one bulk load; ``load`` starts from a checkpoint of the
current version and derives and checks only what it touches there.
``prepare`` does the same work in memory with pySHACL and writes nothing;
``tradekg validate`` and ``load --endpoint`` use it.

Nothing loaded is lost on a rebuild: every ``load`` and ``import`` is recorded
in the store's ledger (``kg.pipeline.ledger``), and ``build`` replays it on top
of ``data/``, validating as it goes; dropping entries is explicit
(``discard_loads``, ``drop``). Files are named in the graph by
``provenance_name``: relative to the project, or by their name alone.
"""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, Graph

from kg.checks.rawterms import scan
from kg.checks.sparql import validate_store
from kg.checks.validate import Report, ValidationFailed, validate_graph
from kg.errors import TradekgError
from kg.graph.bulkload import bulk_load_in_chunks
from kg.graph.ontology import ontology_graph
from kg.graph.store import VersionedStore, project_root
from kg.graph.terms import graph_to_quads, quads_to_graph
from kg.loaders import ExistingLookup, InputFile, LoadResult, load_files
from kg.loaders.limits import read_input
from kg.loaders.tables import load_catalog
from kg.namespaces import DERIVATION, TKG, bind_prefixes, entity_iri
from kg.pipeline import ledger
from kg.pipeline.derive import derive, rederive_in_store
from kg.pipeline.incremental import commit_delta
from kg.pipeline.loads import load_inputs, rows_summary
from kg.progress import stage
from kg.resources import data_dir


@dataclass
class Outcome:
    rows_per_table: dict[str, int]
    fact_triples: int
    derived_triples: int
    total_triples: int
    report: Report
    # Seconds per step (read, derive, validate, write), for benchmarks/run.py.
    seconds: dict[str, float] = field(default_factory=dict)
    replayed: list[dict] = field(default_factory=list)  # ledger entries replayed by a build
    dropped: list[dict] = field(default_factory=list)  # ledger entries a build was told to drop


def data_files(directory: Path | None = None) -> list[InputFile]:
    directory = directory or data_dir()
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise TradekgError(f"no CSV files in {directory.absolute()}")
    return [InputFile(p, _display(p), source_name=provenance_name(p)) for p in files]


def provenance_name(path: Path, store: Path | None = None) -> str:
    """How the graph names a file: relative to the project, else ``data/NAME`` for the curated data, else NAME.

    Never an absolute local path: a graph (and every export of it) is shared,
    and it must not carry the home folder of whoever built it. The project is
    the folder holding ``.tradekg`` (``kg.graph.store.project_root``).
    """
    path = Path(os.path.abspath(path))
    with contextlib.suppress(OSError):
        if path.parent.resolve() == data_dir().resolve():
            return f"data/{path.name}"
    try:
        return path.relative_to(project_root(store)).as_posix()
    except ValueError:
        return path.name


def _display(path: Path) -> str:
    """Name files as a user would type them: relative to where they run tradekg."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def user_files(paths: Iterable[Path], table: str | None = None) -> list[InputFile]:
    """The files a user named; a symlink is named with its target in every message.

    A link is followed (as ``cat`` would) but never silently: errors say
    ``link -> target``, so a row is traced to the file it really came from.
    The graph names the file by ``provenance_name`` (no absolute path) and
    its content hash, which is the target's.
    """
    files = []
    for raw in paths:
        path = Path(raw)
        display = _display(path)
        if path.is_symlink():
            display = f"{display} -> {path.resolve()}"
        files.append(InputFile(path, display, table, source_name=provenance_name(path)))
    return files


@dataclass
class Prepared:
    loaded: LoadResult
    combined: Graph
    derived: Graph
    report: Report


def prepare(files: list[InputFile], base: VersionedStore | None = None) -> Prepared:
    """Load ``files`` (on top of ``base``'s facts, if given), derive and validate.

    Nothing is written: ``build``, ``load`` and ``validate`` all start here.
    """
    existing = _existing_lookup(base) if base is not None else None
    loaded = load_files(files, existing=existing, stored_ids=_stored_ids(base)) if existing and base else \
        load_files(files)
    facts = bind_prefixes(Graph())
    if base is not None:
        facts += _current_facts(base)
    facts += loaded.graph
    derived = derive(facts)
    combined = bind_prefixes(Graph())
    combined += facts
    combined += derived
    return Prepared(loaded, combined, derived, validate_graph(combined))


def _existing_lookup(store: VersionedStore) -> ExistingLookup:
    reader = store.open_read()
    rdf_type = ox.NamedNode(str(RDF.type))

    def existing(iris: set[str]) -> set[str]:
        return {
            iri for iri in iris
            if next(iter(reader.quads_for_pattern(ox.NamedNode(iri), rdf_type, None, ox.DefaultGraph())), None)
        }

    return existing


def _stored_ids(store: VersionedStore) -> Callable[[str], set[str]]:
    """table -> the ids of that table's rows in the store (for "did you mean"), read once per table."""
    catalog = load_catalog()
    seen: dict[str, set[str]] = {}

    def ids(table: str) -> set[str]:
        if table not in seen:
            spec = catalog.tables[table]
            prefix = entity_iri(spec.iri_kind, "")
            reader = store.open_read()
            seen[table] = {q.subject.value[len(prefix):] for q in reader.quads_for_pattern(
                None, ox.NamedNode(str(RDF.type)), ox.NamedNode(spec.class_iri), ox.DefaultGraph())
                if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(prefix)}
        return seen[table]

    return ids


def _current_facts(store: VersionedStore) -> Graph:
    """The asserted facts in the store: everything but ontology and derived nodes."""
    reader = store.open_read()
    everything = quads_to_graph(reader.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    ontology = ontology_graph()
    derived_subjects = set(everything.subjects(RDF.type, TKG.RuleEffect))
    derived_subjects |= {s for s in everything.subjects() if str(s).startswith(str(DERIVATION))}
    facts = bind_prefixes(Graph())
    for triple in everything:
        if triple[0] not in derived_subjects and triple not in ontology:
            facts.add(triple)
    return facts


def build(store: VersionedStore, files: list[InputFile], shapes: Graph | None = None, discard_loads: bool = False,
          drop: Iterable[int] = ()) -> Outcome:
    """Replace the store's graph with the one built from ``files`` and the store's ledger replayed on it.

    Every entry of the current version's ledger (each ``load`` and
    ``import``) is replayed in order on top of ``files``, validated as it
    goes; one that no longer fits raises ``ReplayFailed`` naming it and
    nothing is written. ``discard_loads`` drops every entry, ``drop`` the
    entries with those ids; the outcome lists what was dropped.

    The graph is built, derived and checked in an in-memory Oxigraph store
    (``kg.pipeline.derive.rederive_in_store``; ``kg.checks.sparql``, which gives
    SHACL's verdicts), then written to a new store version in one bulk load
    and published. Queries in memory are about three times faster than on
    RocksDB, so at a million triples this takes under half the time of doing
    the same work in the on-disk version (``benchmarks/run.py``); a graph
    that does not conform never touches the disk. ``shapes`` replaces the
    project's shapes (``tradekg build --shapes``: the project's and the user's)
    for the check of the whole graph. The writer lock is held throughout: a
    load that lands while the build runs must be in the ledger the build
    replays, not lost under it.
    """
    with store.locked():
        return _build(store, files, discard_loads, set(drop), shapes)


def _ledger_to_replay(store: VersionedStore, discard_loads: bool,
                      drop: set[int]) -> tuple[list[dict], list[dict]]:
    if not store.exists():
        if drop:
            raise TradekgError(f"there is no store at {store.path} yet, so no ledger entry to drop")
        return [], []
    manifest = store.manifest()
    entries = ledger.entries(manifest)
    if "ledger" not in manifest and manifest.get("command") not in (None, "build") and not discard_loads:
        raise TradekgError(
            f"the store {store.path} holds loads or imports made before tradekg kept a ledger, so a rebuild "
            "cannot replay them; load them again after the build, or pass --discard-loads to drop them")
    if manifest.get("unrecorded") and not discard_loads:
        named = "; ".join(f"{u.get('command')} of {u.get('at')}" for u in manifest["unrecorded"])
        raise TradekgError(
            f"the store {store.path} holds changes its ledger cannot replay ({named}), so a rebuild would lose "
            "them; nothing was written. Pass --discard-loads to rebuild without every load and import (then "
            "import again), or keep this graph")
    unknown = sorted(drop - {e["id"] for e in entries})
    if unknown:
        known = ", ".join(str(e["id"]) for e in entries) or "none"
        raise TradekgError(f"no ledger entry {', '.join(map(str, unknown))} in {store.path} "
                           f"(entries: {known}; see `tradekg history`)")
    dropped = [e for e in entries if discard_loads or e["id"] in drop]
    return [e for e in entries if e not in dropped], dropped


def _build(store: VersionedStore, files: list[InputFile], discard_loads: bool, drop: set[int],
           shapes: Graph | None) -> Outcome:
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = now - clock
        clock = now

    to_replay, dropped = _ledger_to_replay(store, discard_loads, drop)
    with _gc_paused():
        stage("reading the CSV files")
        loaded = load_files(files)
        fact_triples = len(loaded.triples)
        raw = scan(loaded.triples)  # literals the store would keep in another form (kg.checks.rawterms)
        work = ox.Store()
        work.bulk_extend(graph_to_quads(ontology_graph()))
        work.bulk_load(loaded.ntriples(), format=ox.RdfFormat.N_TRIPLES)
        rows_per_table = loaded.rows_per_table
        del loaded  # the rdflib terms are the largest thing in memory after the store
        lap("read")
        replayed = ledger.replay(work, store, to_replay, progress=stage) if to_replay else []
        lap("replay")
        manifest = {"command": "build", "files": [f.source_name or f.display for f in files],
                    "rows_per_table": rows_per_table, "ledger": replayed,
                    "dropped": [e["id"] for e in dropped], "fact_triples": fact_triples}
        stage("deriving the rule effects")
        derived = rederive_in_store(work)
        lap("derive")
        report = validate_store(work, shapes=shapes, raw=raw)
        lap("validate")
        if not report.conforms:
            raise ValidationFailed(report)
        total = len(work)
        manifest["triples"] = total
        stage(f"writing {total:,} triples to the store")
        with tempfile.TemporaryDirectory(prefix="tradekg-build-") as tmp:
            dump = Path(tmp) / "graph.nq"
            work.dump(dump, format=ox.RdfFormat.N_QUADS)
            del work
            with store.write(from_current=False, manifest=manifest) as target:
                bulk_load_in_chunks(target, dump)
        lap("write")
    return Outcome(rows_per_table, fact_triples, derived, total, report, seconds, replayed, dropped)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a build makes millions of terms.

    None of them form cycles, but the collector scans them all again and
    again as they pile up: 30% of the loader's time at a million triples.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(store: VersionedStore, files: list[InputFile], dry_run: bool = False,
         shapes: Graph | None = None) -> Outcome:
    """Add the facts of ``files`` to the store, all or nothing, and record them in its ledger.

    A load only adds new nodes, so only they (and the types of what they
    reference) are validated, and the new version is a checkpoint of the
    current one plus the new triples, re-derived in place (``kg.pipeline.incremental``):
    a 20-row load into a million-triple store takes about a second instead of
    a full rebuild and re-validation. The writer lock is held from the first
    read: a load that waits for another one checks against what it wrote.
    The files are read once; those bytes are what is loaded and what the
    ledger keeps, so ``build`` replays exactly this load.
    ``dry_run`` does all of it but publishes nothing (``tradekg validate FILES``).
    """
    store.current_version()  # no graph yet: say so before the lock creates the directory
    with store.locked():
        items = [(f.display, f.source_name or f.display, read_input(f.path, f.display), f.table) for f in files]
        loaded = load_inputs(store.open_read(), items, stored_ids=_stored_ids(store))
        previous = store.manifest()
        manifest: dict = {
            "command": "load",
            "files": list(previous.get("files", [])) + [name for _, name, _, _ in items],
            "rows_per_table": loaded.rows_per_table,
        }
        if not dry_run:
            entry = ledger.new_entry(store, "load", [(name, data, table) for _, name, data, table in items], {})
            manifest.update(ledger.manifest_with(store, entry, rows_summary(loaded.rows_per_table)))
        delta = commit_delta(store, [], loaded.quads(), {str(n) for n in loaded.new_nodes}, manifest,
                             publish=not dry_run, shapes=shapes)
    return Outcome(loaded.rows_per_table, len(loaded.triples), delta.derived_triples, delta.total_triples, delta.report)
