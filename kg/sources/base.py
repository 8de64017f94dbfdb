"""The shape every source importer shares: read, map, diff against the store, commit.

An importer (``kg/sources/<source>.py``) does three things and nothing else:

1. **read** its files into plain records, refusing a malformed file as a
   whole with the file and line (or JSON path) named (``SourceFailed``);
2. **map** the records onto the model with an ``Emitter``: every node it
   mints gets its type, the file and line it came from, its source node and
   a confidence; nodes it does not own (curated rules and parties, the CSL's
   nodes) only get the triples it adds to them, never a rewrite;
3. return a ``SourcePlan``: the exact triples to remove and add, computed by
   ``Emitter.plan`` against the store, the nodes to validate, what it took
   per kind, and the conflicts it found with curated values (reported, not
   overwritten).

``commit`` (one function for every source) refuses a plan that would end
most of a list by mistake, then validates and writes it with
``kg.pipeline.incremental.commit_delta``: all or nothing. Because the plan is a diff,
importing the same content again changes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kg.errors import InputProblem, LoadFailed, TradekgError
from kg.graph.store import VersionedStore
from kg.namespaces import DATA, TKG, concept_iri
from kg.pipeline.incremental import DeltaOutcome, commit_delta

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD = "http://www.w3.org/2001/XMLSchema#"
DEFAULT = ox.DefaultGraph()


class SourceFailed(LoadFailed):
    """A source file that cannot be read as that source: nothing is imported."""


def refuse(file: str, line: int | None, message: str, where: str | None = None) -> SourceFailed:
    """One problem, pinned to a file and a line or a JSON path (``where``)."""
    return SourceFailed([InputProblem(file, line, where, message)])


def iri(term: str) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def text(value: str) -> ox.Literal:
    return ox.Literal(value)


def date_lit(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))


def int_lit(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def url_lit(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "anyURI"))


def concept(scheme: str, notation: str) -> ox.NamedNode:
    return ox.NamedNode(concept_iri(scheme, notation))


def slug(value: str) -> str:
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or short_hash(value)


def short_hash(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:16]


def is_minted(node: str, prefix: str) -> bool:
    """True when ``node`` is a data IRI whose identifier starts with ``prefix`` (e.g. "ofac-")."""
    return node.startswith(str(DATA)) and node[len(str(DATA)):].split("/", 1)[-1].startswith(prefix)


@dataclass
class SourcePlan:
    """What importing some files changes in the store, before anything is written."""

    source: str  # "federal-register", "ofac"
    files: list[str]
    removals: list[ox.Quad] = field(default_factory=list)
    additions: list[ox.Quad] = field(default_factory=list)
    focus: set[str] = field(default_factory=set)
    # Focus nodes the store held no triple about when the plan was read: validation (and the choice
    # of parties to re-derive) need not read them again (kg.pipeline.incremental.commit_delta).
    unheld: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)  # what was read and taken, by kind
    conflicts: list[str] = field(default_factory=list)  # curated value vs the source's: kept, reported
    problems: list[str] = field(default_factory=list)  # records skipped, with file:line and reason
    linked: dict[str, int] = field(default_factory=dict)  # records that landed on existing nodes
    ended_by_list: dict[str, int] = field(default_factory=dict)
    active_by_list: dict[str, int] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def mass_endings(self, share: float = 0.5, at_least: int = 10) -> dict[str, tuple[int, int]]:
        """Lists where these files would end more than ``share`` of the imported entries (a subset?)."""
        return {lst: (n, self.active_by_list.get(lst, 0)) for lst, n in self.ended_by_list.items()
                if n >= at_least and n > share * self.active_by_list.get(lst, 0)}

    def count(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n


@functools.lru_cache(maxsize=4096)
def _predicate(iri: str) -> ox.NamedNode:
    """An Oxigraph IRI for a predicate: importers state a few dozen of them hundreds of thousands of times."""
    return ox.NamedNode(iri)


class Emitter:
    """Collects the triples an importer states, per subject, and diffs them with the store.

    ``owned`` subjects (minted by this importer) are replaced as a whole by
    what this import says; for any other subject only the stated triples are
    added (and the ones listed with ``drop`` removed).
    """

    def __init__(self, store: ox.Store | None, source: ox.NamedNode, confidence: str,
                 source_file: str, source_hash: str | None = None) -> None:
        self.store = store
        self.source = source
        self.confidence = concept("confidence", confidence)
        self.source_hash = text(f"sha256:{source_hash}") if source_hash else None
        self.source_file = first_name(store, source, self.source_hash, source_file)
        self.by_subject: dict[str, set[ox.Quad]] = {}
        self.owned: set[str] = set()
        self.dropped: set[ox.Quad] = set()

    def add(self, s: ox.NamedNode, p: ox.NamedNode | str, o: ox.NamedNode | ox.Literal) -> None:
        predicate = p if isinstance(p, ox.NamedNode) else _predicate(str(p))
        # No graph argument: a quad is in the default graph without one, and pyoxigraph tries
        # every other kind of graph name before DefaultGraph (2 to 4 us a quad; see kg.pipeline.derive).
        self.by_subject.setdefault(s.value, set()).add(ox.Quad(s, predicate, o))

    def drop(self, quad: ox.Quad) -> None:
        self.dropped.add(quad)

    def node(self, s: ox.NamedNode, cls: ox.NamedNode | str, line: int, source_file: str | None = None,
             source: ox.NamedNode | None = None) -> bool:
        """Give a minted node its type and bookkeeping once; False when already done."""
        if s.value in self.owned:
            return False
        self.owned.add(s.value)
        self.add(s, RDF_TYPE, iri(str(cls)))
        self.add(s, TKG.sourceFile, text(source_file or self.source_file))
        self.add(s, TKG.sourceLine, int_lit(max(1, line)))
        if str(cls) == str(TKG.Source) and self.source_hash is not None:
            self.add(s, TKG.sourceHash, self.source_hash)
        if str(cls) != str(TKG.Source):
            self.add(s, "http://purl.org/dc/terms/source", source or self.source)
            self.add(s, TKG.confidence, self.confidence)
        return True

    def stored(self, subject: str) -> set[ox.Quad]:
        if self.store is None:
            return set()
        return set(self.store.quads_for_pattern(ox.NamedNode(subject), None, None, DEFAULT))

    def plan(self, plan: SourcePlan) -> SourcePlan:
        for subject, new in self.by_subject.items():
            old = self.stored(subject)
            if subject in self.owned:
                removals, additions = old - new, new - old
            else:
                removals, additions = {q for q in self.dropped if q.subject.value == subject} & old, new - old
            if removals or additions:
                plan.removals += sorted(removals, key=str)
                plan.additions += sorted(additions, key=str)
                plan.focus.add(subject)
                if not old:
                    plan.unheld.add(subject)
        for quad in self.dropped:  # removals on subjects this import states nothing about
            if quad.subject.value not in self.by_subject and self.store is not None and quad in self.store:
                plan.removals.append(quad)
                plan.focus.add(quad.subject.value)
        return plan


def first_name(store: ox.Store | None, source: ox.NamedNode, source_hash: ox.Literal | None, name: str) -> str:
    """Provenance by content: the name ``source`` was first imported under, when the store holds the same bytes.

    The same content under another name (a copy in another folder, a dated
    download) is then no change; other content is named as given.
    """
    if store is None:
        return name
    if source_hash is not None and ox.Quad(source, iri(TKG.sourceHash), source_hash, DEFAULT) not in store:
        return name
    stored = [q.object.value for q in store.quads_for_pattern(source, iri(TKG.sourceFile), None, DEFAULT)]
    return min(stored) if stored else name


def select(store: ox.Store | None, query: str) -> list[dict[str, Any]]:
    """Rows of a lookup query as {variable: value string}; none without a store."""
    if store is None:
        return []
    solutions = store.query(query)
    names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
    # A solution read as a tuple (its values in projection order): looking each name up costs more.
    return [{n: (t.value if t is not None else None) for n, t in zip(names, solution, strict=True)}
            for solution in solutions]  # type: ignore[union-attr]


def refusal(plan: SourcePlan, end_missing: bool = False) -> str | None:
    """Why this plan is refused (it would end most of a list, and --end-missing was not given), or None."""
    mass = plan.mass_endings()
    if mass and not end_missing:
        lists = "; ".join(f"{n} of {m} entries of <{lst}>" for lst, (n, m) in sorted(mass.items()))
        return (f"these files lack {lists} imported before; nothing was imported. If they are a "
                "subset of the list, pass --partial; if those entries were all removed, pass --end-missing")
    return None


def summary(plan: SourcePlan) -> str:
    """One line for the ledger: what the import took, by kind (remark statements left out)."""
    return "; ".join(f"{n} {kind}" for kind, n in plan.counts.items()
                     if not kind.startswith(("remark statements", "files read"))) or "nothing taken"


def commit(store: VersionedStore, plan: SourcePlan, end_missing: bool = False,
           inputs: list[tuple[str, bytes]] | None = None, options: dict[str, Any] | None = None) -> DeltaOutcome:
    """Refuse a mass ending unless asked, then validate and write the plan (all or nothing).

    With ``inputs`` (name, bytes: every file read or document fetched) the
    change is recorded in the ledger as ``import SOURCE`` with ``options``,
    so ``build`` replays it (``kg.sources.imports``). Call it holding
    the writer lock.
    """
    from kg.pipeline import ledger

    why = refusal(plan, end_missing)
    if why:
        raise TradekgError(why)
    # The manifest's "files" are the files the store was built and loaded from; an import keeps them.
    manifest = {"command": f"import {plan.source}", "imported": plan.files, "counts": plan.counts,
                "files": list(store.manifest().get("files", [])), **plan.manifest}
    if inputs is not None and (plan.removals or plan.additions):
        entry = ledger.new_entry(store, f"import {plan.source}", inputs, options or {})
        manifest.update(ledger.manifest_with(store, entry, summary(plan)))
    return commit_delta(store, plan.removals, plan.additions, plan.focus, manifest, unheld=plan.unheld)


def describe_outcome(plan: SourcePlan, outcome: DeltaOutcome) -> Iterable[str]:
    """The lines every import prints after its counts."""
    if outcome.written:
        yield (f"{outcome.added} triples added, {outcome.removed} removed, {outcome.derived_triples} derived; "
               f"{outcome.total_triples} in the store")
        yield outcome.report.text()
    else:
        yield "nothing changed: the store already holds these files' facts"
