"""Build, load and validate: CSV files to a validated, derived graph in the store.

``build`` and ``load`` are each one transaction from the store's point of view:
they write a new store version (empty, or a checkpoint of the current one),
derive and check the shapes there, and publish it only when nothing is wrong
(see ``kg.store``). ``prepare`` does the same work in memory with pySHACL and
writes nothing; ``tradekg validate`` and ``load --endpoint`` use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, Graph

from kg.derive import derive, rederive_in_store
from kg.errors import TradekgError
from kg.incremental import DeltaRejected, commit_delta
from kg.loaders import ExistingLookup, InputFile, LoadResult, load_files
from kg.namespaces import DERIVATION, TKG, bind_prefixes
from kg.ontology import ontology_graph
from kg.resources import data_dir
from kg.shaclsparql import validate_store
from kg.store import VersionedStore
from kg.terms import graph_to_quads, quads_to_graph
from kg.validate import Report, validate_graph


class ValidationFailed(TradekgError):
    """The data does not conform to the shapes (exit code 1)."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(f"the graph does not conform: {len(report.violations)} violation(s); nothing was written")


@dataclass
class Outcome:
    rows_per_table: dict[str, int]
    fact_triples: int
    derived_triples: int
    total_triples: int
    report: Report


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
    loaded = load_files(files, existing=existing) if existing else load_files(files)
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


def build(store: VersionedStore, files: list[InputFile]) -> Outcome:
    """Replace the store's graph with the one built from ``files``.

    The facts go straight into the new version; the rule effects are derived
    and the shapes checked there, by Oxigraph (``kg.derive.rederive_in_store``,
    ``kg.shaclsparql``, which gives pySHACL's verdicts and is ~13x faster at
    100k triples), and the version is published only if it conforms.
    """
    loaded = load_files(files)
    manifest = {"command": "build", "files": [f.display for f in files], "rows_per_table": loaded.rows_per_table}
    with store.write(from_current=False, manifest=manifest) as target:
        # bulk_extend skips RocksDB transactions (~40% faster); atomicity comes
        # from the version swap: a failed build discards the whole directory.
        target.bulk_extend(graph_to_quads(ontology_graph()))
        target.bulk_extend(graph_to_quads(loaded.graph))
        derived = rederive_in_store(target)
        report = validate_store(target)
        if not report.conforms:
            raise ValidationFailed(report)
        total = len(target)
    return Outcome(loaded.rows_per_table, len(loaded.graph), derived, total, report)


def load(store: VersionedStore, files: list[InputFile]) -> Outcome:
    """Add the facts of ``files`` to the store, all or nothing.

    A load only adds new nodes, so only they (and the types of what they
    reference) are validated, and the new version is a checkpoint of the
    current one plus the new triples, re-derived in place (``kg.incremental``):
    a 20-row load into a million-triple store takes about a second instead of
    a full rebuild and re-validation. The writer lock is held from the first
    read: a load that waits for another one checks against what it wrote.
    """
    store.current_version()  # no graph yet: say so before the lock creates the directory
    with store.locked():
        loaded = load_files(files, existing=_existing_lookup(store))
        previous = store.manifest()
        try:
            delta = commit_delta(store, [], list(graph_to_quads(loaded.graph)), {str(n) for n in loaded.new_nodes}, {
                "command": "load",
                "files": list(previous.get("files", [])) + [f.display for f in files],
                "rows_per_table": loaded.rows_per_table,
            })
        except DeltaRejected as exc:
            raise ValidationFailed(exc.report) from None
    return Outcome(loaded.rows_per_table, len(loaded.graph), delta.derived_triples, delta.total_triples, delta.report)
