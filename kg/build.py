"""Build, load and validate: CSV files to a validated, derived graph in the store.

``build`` and ``load`` are each one transaction from the store's point of view:
each publishes a new store version only when nothing is wrong (see
``kg.store``). ``build`` derives and checks the shapes in memory and writes a
fresh version in one bulk load; ``load`` starts from a checkpoint of the
current version and derives and checks only what it touches there.
``prepare`` does the same work in memory with pySHACL and writes nothing;
``tradekg validate`` and ``load --endpoint`` use it.
"""

from __future__ import annotations

import contextlib
import gc
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, Graph

from kg.checks.rawterms import scan
from kg.derive import derive, rederive_in_store
from kg.errors import TradekgError
from kg.incremental import commit_delta
from kg.loaders import ExistingLookup, InputFile, LoadResult, load_files
from kg.namespaces import DERIVATION, TKG, bind_prefixes, entity_iri
from kg.ontology import ontology_graph
from kg.progress import stage
from kg.resources import data_dir
from kg.shaclsparql import validate_store
from kg.store import VersionedStore
from kg.tables import load_catalog
from kg.terms import graph_to_quads, quads_to_graph
from kg.validate import Report, ValidationFailed, validate_graph


@dataclass
class Outcome:
    rows_per_table: dict[str, int]
    fact_triples: int
    derived_triples: int
    total_triples: int
    report: Report
    # Seconds per step (read, derive, validate, write), for benchmarks/run.py.
    seconds: dict[str, float] = field(default_factory=dict)


def data_files(directory: Path | None = None) -> list[InputFile]:
    directory = directory or data_dir()
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise TradekgError(f"no CSV files in {directory}")
    return [InputFile(p, _display(p)) for p in files]


def _display(path: Path) -> str:
    """Name files as a user would type them: relative to where they run tradekg."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def user_files(paths: Iterable[Path], table: str | None = None) -> list[InputFile]:
    """The files a user named; a symlink is named with its target in every message.

    A link is followed (as ``cat`` would) but never silently: errors and the
    recorded ``tkg:sourceFile`` say ``link -> target``, so a row is traced to
    the file it really came from.
    """
    files = []
    for raw in paths:
        path = Path(raw)
        display = _display(path)
        if path.is_symlink():
            display = f"{display} -> {path.resolve()}"
        files.append(InputFile(path, display, table))
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


def build(store: VersionedStore, files: list[InputFile], shapes: Graph | None = None) -> Outcome:
    """Replace the store's graph with the one built from ``files``.

    The graph is built, derived and checked in an in-memory Oxigraph store
    (``kg.derive.rederive_in_store``; ``kg.shaclsparql``, which gives
    SHACL's verdicts), then written to a new store version in one bulk load
    and published. Queries in memory are about three times faster than on
    RocksDB, so at a million triples this takes under half the time of doing
    the same work in the on-disk version (``benchmarks/run.py``); a graph
    that does not conform never touches the disk. ``shapes`` replaces the
    project's shapes (``tradekg build --shapes``: the project's and the user's). The writer lock is taken
    only for the write: a build reads nothing from the store.
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = now - clock
        clock = now

    with _gc_paused():
        stage("reading the CSV files")
        loaded = load_files(files)
        manifest = {"command": "build", "files": [f.display for f in files], "rows_per_table": loaded.rows_per_table}
        fact_triples = len(loaded.triples)
        raw = scan(loaded.triples)  # literals the store would keep in another form (kg.checks.rawterms)
        work = ox.Store()
        work.bulk_extend(graph_to_quads(ontology_graph()))
        work.bulk_load(loaded.ntriples(), format=ox.RdfFormat.N_TRIPLES)
        rows_per_table = loaded.rows_per_table
        del loaded  # the rdflib terms are the largest thing in memory after the store
        lap("read")
        stage("deriving the rule effects")
        derived = rederive_in_store(work)
        lap("derive")
        report = validate_store(work, shapes=shapes, raw=raw)
        lap("validate")
        if not report.conforms:
            raise ValidationFailed(report)
        total = len(work)
        stage(f"writing {total:,} triples to the store")
        with tempfile.TemporaryDirectory(prefix="tradekg-build-") as tmp:
            dump = Path(tmp) / "graph.nq"
            work.dump(dump, format=ox.RdfFormat.N_QUADS)
            del work
            with store.write(from_current=False, manifest=manifest) as target:
                target.bulk_load(path=dump, format=ox.RdfFormat.N_QUADS)
        lap("write")
    return Outcome(rows_per_table, fact_triples, derived, total, report, seconds)


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
    """Add the facts of ``files`` to the store, all or nothing.

    A load only adds new nodes, so only they (and the types of what they
    reference) are validated, and the new version is a checkpoint of the
    current one plus the new triples, re-derived in place (``kg.incremental``):
    a 20-row load into a million-triple store takes about a second instead of
    a full rebuild and re-validation. The writer lock is held from the first
    read: a load that waits for another one checks against what it wrote.
    ``dry_run`` does all of it but publishes nothing (``tradekg validate FILES``).
    """
    store.current_version()  # no graph yet: say so before the lock creates the directory
    with store.locked():
        loaded = load_files(files, existing=_existing_lookup(store), stored_ids=_stored_ids(store))
        previous = store.manifest()
        delta = commit_delta(store, [], loaded.quads(), {str(n) for n in loaded.new_nodes}, {
            "command": "load",
            "files": list(previous.get("files", [])) + [f.display for f in files],
            "rows_per_table": loaded.rows_per_table,
        }, publish=not dry_run, shapes=shapes)
    return Outcome(loaded.rows_per_table, len(loaded.triples), delta.derived_triples, delta.total_triples, delta.report)
