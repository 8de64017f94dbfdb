"""Small changes to a large store: validate what changed, write a new version cheaply.

Rebuilding and re-validating the whole graph for every ``load`` costs minutes
at a million triples. A change here is a list of triples to remove and to add
plus the nodes it touches. Only those nodes are validated, against a small
data graph: their triples after the change and the types of every node they
point at (what ``sh:class`` needs), checked with the shapes compiled to SPARQL
(``kg.checks.sparql``) in a throw-away in-memory store. The new version starts as
a RocksDB checkpoint of the current one (hard links), gets the change and
re-derives the rule effects inside the store: only for the parties a load
names and those below them in the ownership chain when the change is local
(new nodes only), otherwise all of them. The new effects are validated too,
and the version is published atomically, or discarded if anything fails:
still all or nothing.

Shapes only look at a focus node's own outgoing triples and its objects'
types (no inverse paths, no SPARQL constraints in ``ontology/shapes.ttl``),
so validating the changed nodes and their one-hop neighbourhood gives the
verdict a full validation would give on them; ``tests/test_incremental.py``
checks verdicts and the resulting graph against a full build.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from kg.answers.queries import derivation_rules
from kg.checks.rawterms import RawTerms, scan_quads
from kg.checks.sparql import plan_for, validate_store
from kg.checks.validate import Report, ValidationFailed
from kg.graph.sparqltext import with_rows
from kg.graph.store import VersionedStore
from kg.namespaces import SCHEMA, TKG
from kg.pipeline.derive import derived_subjects, predicates_read_by_rules, rederive_in_store, run_rule
from kg.resources import lookup_query

_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SUBCLASS_OF = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")


@dataclass
class DeltaOutcome:
    added: int
    removed: int
    derived_triples: int
    total_triples: int
    report: Report
    written: bool


def neighbourhood_quads(source: ox.Store, focus: Iterable[str], removals: Iterable[ox.Quad],
                        additions: Iterable[ox.Quad], unheld: Collection[str] = ()) -> set[ox.Quad]:
    """The focus nodes' triples after the change, plus the types of what they point at.

    ``unheld``: focus nodes ``source`` holds no triple about (the plan read
    them), whose triples are all in ``additions``: not read again (a 13,000-row
    CSL import has 86,000 focus nodes, nearly all new; a read is about 0.1 ms on disk).
    """
    focus = set(focus)
    removed = set(removals)
    quads: set[ox.Quad] = set()
    for iri in focus:
        if iri in unheld:
            continue
        node = ox.NamedNode(iri)
        held = source.quads_for_pattern(node, None, None, ox.DefaultGraph())
        quads.update(held if not removed else (q for q in held if q not in removed))
    added = list(additions)
    quads |= {q for q in added if q.subject.value in focus}
    targets = {q.object for q in quads if isinstance(q.object, ox.NamedNode) and q.object.value not in focus}
    added_types: dict[Any, set[ox.Quad]] = {}
    for q in added:
        if q.predicate == _RDF_TYPE:
            added_types.setdefault(q.subject, set()).add(q)
    for target in targets:
        quads |= set(source.quads_for_pattern(target, _RDF_TYPE, None, ox.DefaultGraph()))
        quads |= added_types.get(target, set())
    return quads


def validate_delta(source: ox.Store, focus: Iterable[str], removals: Iterable[ox.Quad],
                   additions: Iterable[ox.Quad], shapes: Graph | None = None,
                   unheld: Collection[str] = (), scan_raw: bool = True) -> Report:
    """Validate the focus nodes as they will be after the change.

    The neighbourhood goes into a small in-memory Oxigraph store and is checked
    with the shapes compiled to SPARQL (``kg.checks.sparql``, tested to give
    pySHACL's verdicts); pySHACL's own focus-node mode spends ~15 ms per node
    matching targets, 2 s for a 20-row load.

    ``unheld``: focus nodes ``source`` holds nothing about (``neighbourhood_quads``).
    ``scan_raw=False``: ``additions`` are the rules' output, whose literals the
    store itself made, so not scanned for literals a store would rewrite.
    """
    focus = sorted(set(focus))
    removals, additions = list(removals), list(additions)
    raw = scan_quads(additions if scan_raw else [])
    if _checks_whole_graph(source, shapes, raw):
        removed = set(removals)
        whole = ox.Store()
        whole.extend(q for q in source.quads_for_pattern(None, None, None, ox.DefaultGraph()) if q not in removed)
        whole.extend(additions)
        return validate_store(whole, shapes=shapes, raw=raw)
    if not focus:
        return Report(conforms=True, nodes_checked=0)
    data = ox.Store()
    data.extend(neighbourhood_quads(source, focus, removals, additions, unheld))
    # the class hierarchy, so sh:class and sh:targetClass see instances of subclasses as a full check would
    data.extend(source.quads_for_pattern(None, _SUBCLASS_OF, None, ox.DefaultGraph()))
    return validate_store(data, focus_nodes=focus, shapes=shapes, raw=raw)


def _checks_whole_graph(source: ox.Store, shapes: Graph | None, raw: RawTerms) -> bool:
    """Whether the change must be checked on the whole graph as changed, not on the nodes it touches:
    a user's shapes (or the checks of ``raw`` literals) that look past a node's own triples (inverse
    paths, targetObjectsOf, sh:node on values...) or that the complete engine checks (``plan_for``)."""
    if shapes is None and not raw:
        return False
    plan = plan_for(source, shapes, raw)
    return not plan.local or plan.handed_off


def commit_delta(store: VersionedStore, removals: list[ox.Quad], additions: list[ox.Quad],
                 focus: Iterable[str], manifest: dict[str, Any], publish: bool = True,
                 shapes: Graph | None = None, unheld: Collection[str] = ()) -> DeltaOutcome:
    """Validate the change on the nodes it touches, then write it as a new version.

    Raises ``ValidationFailed`` (nothing written) when a touched node or a newly
    derived rule effect does not conform. A change that removes and adds
    nothing writes nothing. The writer lock is held from the first read, so a
    change that had to wait for another writer is checked against its result.
    With ``publish=False`` (``tradekg validate FILES``) everything is done,
    derivation and the check of the new rule effects included, in a version
    that is then thrown away: the verdict is the one a real load would get.
    """
    with store.locked():
        if publish:
            _carry_ledger(store, manifest)
        return _commit_delta(store, removals, additions, focus, manifest, publish, shapes, unheld)


def _carry_ledger(store: VersionedStore, manifest: dict[str, Any]) -> None:
    """Keep the ledger in the new version; a change the ledger cannot replay is named as such.

    A command that records itself (``load``, ``import csl``; see
    ``kg.pipeline.ledger``) puts the ledger, with its own entry, in
    ``manifest``. One that does not (an importer not yet registered with the
    ledger) still keeps the entries before it, and is listed under
    ``unrecorded``: ``build`` then refuses to drop it silently.
    """
    if not store.exists():
        return
    prior = store.manifest()
    unrecorded = list(prior.get("unrecorded", []))
    if "ledger" not in prior and prior.get("command") not in (None, "build"):
        unrecorded.append({"command": prior.get("command"), "at": prior.get("written_at")})
    if "ledger" not in manifest:
        manifest["ledger"] = list(prior.get("ledger", []))
        unrecorded.append({"command": manifest.get("command", "?"),
                           "at": datetime.now(UTC).isoformat(timespec="seconds")})
    if unrecorded:
        manifest["unrecorded"] = unrecorded


def _commit_delta(store: VersionedStore, removals: list[ox.Quad], additions: list[ox.Quad],
                  focus: Iterable[str], manifest: dict[str, Any], publish: bool,
                  shapes: Graph | None = None, unheld: Collection[str] = ()) -> DeltaOutcome:
    reader = store.open_read()
    if in_memory(reader, additions):
        return _commit_in_memory(store, reader, removals, additions, focus, manifest, publish, shapes)
    report = validate_delta(reader, focus, removals, additions, shapes, unheld)
    if not report.conforms:
        raise ValidationFailed(report)
    if not removals and not additions:
        return DeltaOutcome(0, 0, 0, len(reader), report, written=False)
    parties = affected_parties(reader, removals, additions, unheld)
    before = derived_subjects(reader) if parties is None else set()
    with store.write(from_current=True, manifest=manifest, publish=publish) as target:
        for quad in removals:
            target.remove(quad)
        # Oxigraph's bulk loader, without a transaction: this version is thrown away if anything below fails
        # (10,000 CSL rows: 660,000 triples in 1.7 s rather than 5 s).
        target.bulk_extend(additions)
        if parties is None:
            derived = rederive_in_store(target)
            new_effects = {s.value for s in derived_subjects(target) - before if isinstance(s, ox.NamedNode)}
        else:
            derived, new_effects, produced = rederive_parties(target, parties)
        if new_effects:
            # Re-derived for some parties, an effect's triples are all in what the rules produced
            # (its old triples were removed first): checked from those, not read back from disk.
            effects_report = (validate_delta(target, new_effects, [], produced, shapes, unheld=new_effects,
                                             scan_raw=False)
                              if parties is not None else validate_delta(target, new_effects, [], [], shapes))
            if not effects_report.conforms:
                raise ValidationFailed(effects_report)
            report.nodes_checked += effects_report.nodes_checked
        total = len(target)
        if publish:
            # One sorted run per index, as `build` leaves it: the change's own files, and the
            # tombstones of what it removed, would otherwise be merged into every seek of every
            # later query (firms-affected-by-rule at 1.3M triples after a 20-row load: 1.42 s
            # of CPU; compacted, 1.14 s). Compaction costs 1.4 s at that size, once per version.
            target.optimize()
        # For `tradekg history`: what this version changed (the manifest is written after this block).
        manifest.update({"added": len(additions), "removed": len(removals), "derived": derived, "triples": total})
    return DeltaOutcome(len(additions), len(removals), derived, total, report, written=publish)


# An import that adds at least this many triples, and more than the graph holds, is derived in memory
# and written whole (_commit_in_memory).
IN_MEMORY_MIN_ADDITIONS = 100_000


def in_memory(reader: ox.Store, additions: list[ox.Quad]) -> bool:
    """Whether a change is committed as ``build`` writes a graph (``_commit_in_memory``): when it adds
    more than the graph holds (counting the graph takes 0.25 s at 1M triples: only for a large change)."""
    return len(additions) >= IN_MEMORY_MIN_ADDITIONS and len(reader) <= len(additions)


def _commit_in_memory(store: VersionedStore, reader: ox.Store, removals: list[ox.Quad], additions: list[ox.Quad],
                      focus: Iterable[str], manifest: dict[str, Any], publish: bool,
                      shapes: Graph | None) -> DeltaOutcome:
    """The change as ``build`` makes a graph: derived and checked in memory, then written as a new version.

    For an import larger than the graph it goes into (a user's first CSL or
    SDN import into the curated graph): copying the graph into memory costs
    less than the lookups on disk that the rules and the checks of 86,000
    nodes make one by one (a 13,000-row CSL import: the rules bound to
    11,000 parties on disk 10-12 s, the whole graph in memory 5 s). One
    check after the derivation, with the whole graph at hand, gives the
    verdicts on the change's nodes and on the effects derived from it that
    ``validate_delta`` gives in two (one before deriving, one after).
    """
    raw = scan_quads(additions)
    graph = ox.Store()
    removed = set(removals)
    held = reader.quads_for_pattern(None, None, None, ox.DefaultGraph())
    graph.bulk_extend(held if not removed else (q for q in held if q not in removed))
    graph.bulk_extend(additions)
    before = derived_subjects(graph)
    old_derived = {q for subject in before for q in graph.quads_for_pattern(subject, None, None, ox.DefaultGraph())}
    made: list[ox.Quad] = []
    derived = rederive_in_store(graph, made)
    new_derived = set(made)
    new_effects = {s.value for s in derived_subjects(graph) - before if isinstance(s, ox.NamedNode)}
    if _checks_whole_graph(graph, shapes, raw):
        report = validate_store(graph, shapes=shapes, raw=raw)
    else:
        report = validate_store(graph, focus_nodes=sorted(set(focus) | new_effects), shapes=shapes, raw=raw)
    if not report.conforms:
        raise ValidationFailed(report)
    total = len(graph)
    manifest.update({"added": len(additions), "removed": len(removals), "derived": derived, "triples": total})
    if publish:  # (`tradekg validate FILES` has its verdict: nothing to write and throw away)
        # The current version's checkpoint, changed by what differs: the rules' output and the change
        # go in by bulk load, without a transaction (this version is thrown away if anything fails).
        # Writing the whole graph from a dump instead cost 7 s for the 13,000-row CSL file, this 3 s.
        with store.write(from_current=True, manifest=manifest) as target:
            for quad in (*removals, *(old_derived - new_derived)):
                target.remove(quad)
            target.bulk_extend(additions)
            target.bulk_extend((new_derived - old_derived) | (new_derived & removed))
            target.optimize()  # compacted, as every version is
    return DeltaOutcome(len(additions), len(removals), derived, total, report, written=publish)


def _nodes(*terms: object) -> frozenset[ox.NamedNode]:
    """IRIs as Oxigraph terms: compared as they come, without making a Python string of each of the
    million predicates of a large import."""
    return frozenset(ox.NamedNode(str(t)) for t in terms)


# Additions that can change the rule effects of parties they do not name:
# they send a change down the slow path (re-derive everything).
_WIDE = _nodes(TKG.changesTermsOf, TKG.coversList, TKG.includesAffiliates, TKG.ownerList, TKG.suspendsRule,
               TKG.consequenceOfList, TKG.restrictsByItself)
# A new ownership record changes what reaches the firm it owns (tkg:ownedEntity)
# and, through it, the firms below; its owner's own effects stay as they were.
_PARTY_LINKS = _nodes(TKG.designatedParty, TKG.coversParty, TKG.namedParty, TKG.ownedEntity)
_CHAIN = _nodes(SCHEMA.parentOrganization, TKG.affiliateOf)
_PARTY_CLASSES = _nodes(TKG.Company, TKG.Person, TKG.Vessel, TKG.Aircraft)


def affected_parties(source: ox.Store, removals: list[ox.Quad], additions: list[ox.Quad],
                     unheld: Collection[str] = ()) -> set[str] | None:
    """The parties whose rule effects a change can alter, or None when that is not local.

    Only a triple whose predicate a derivation rule reads can change a derived
    fact (``predicates_read_by_rules``): a source record's file and line, a
    remark or an alias, added or removed, changes none. Of the others, each
    added or removed triple alters the effects of

    * the party it links a designation, authorization, naming or ownership
      record to (tkg:designatedParty, tkg:coversParty, tkg:namedParty,
      tkg:ownedEntity), or the party it is about (a type, a parent, an affiliation);
    * otherwise, the parties its subject links to that way, before or after
      the change (an entry that ends: its party), or the subject itself if it
      is a party;
    * and, for all of those, every firm below them in the ownership chain
      (parents, affiliations, ownership records).

    A change to a list's terms, a list-wide authorization or rule, a suspension
    (``_WIDE``), or to a node the graph already holds that links to no party
    (a rule's dates, a list) can reach any party: None (re-derive everything).
    A new node that links to no party and that nothing refers to alters nothing.
    ``unheld``: nodes the graph holds nothing about (``SourcePlan.unheld``), not read.
    """
    read = _read_nodes()
    parties: set[str] = set()
    unresolved: set[ox.NamedNode | ox.BlankNode] = set()
    for q in (*removals, *additions):
        predicate = q.predicate
        if predicate not in read:
            continue
        if predicate in _WIDE:
            return None
        if predicate in _PARTY_LINKS:
            parties.add(q.object.value)
        elif predicate in _CHAIN or (predicate == _RDF_TYPE and q.object in _PARTY_CLASSES):
            parties.add(q.subject.value)
        else:
            unresolved.add(q.subject)
    if unresolved:
        added_links: dict[object, set[str]] = {}
        added_parties: set[object] = set()
        for q in additions:
            if q.predicate in _PARTY_LINKS:
                added_links.setdefault(q.subject, set()).add(q.object.value)
            elif q.predicate == _RDF_TYPE and q.object in _PARTY_CLASSES:
                added_parties.add(q.subject)
        for subject in unresolved:
            linked = set(added_links.get(subject, ()))
            if subject.value not in unheld:  # (an unheld node has no links nor type in the graph)
                for link in _PARTY_LINKS:
                    linked |= {q.object.value
                               for q in source.quads_for_pattern(subject, link, None, ox.DefaultGraph())}
            if subject in added_parties or (subject.value not in unheld and any(
                    q.object in _PARTY_CLASSES
                    for q in source.quads_for_pattern(subject, _RDF_TYPE, None, ox.DefaultGraph()))):
                linked.add(subject.value)
            if linked:
                parties |= linked
            elif _held(source, subject):
                return None
    if not parties:
        return parties
    # One query for all of them: a query per party cost 6 s for the 9,000 parties of an OFAC SDN import.
    query = with_rows(lookup_query("descendants"), "ancestor", parties)
    below = {str(solution["descendant"].value) for solution in source.query(query)}  # type: ignore[union-attr]
    return parties | below


@functools.lru_cache(maxsize=1)
def _read_nodes() -> frozenset[ox.NamedNode]:
    """``predicates_read_by_rules`` as Oxigraph terms."""
    return _nodes(*predicates_read_by_rules())


def _held(source: ox.Store, node: ox.NamedNode | ox.BlankNode) -> bool:
    """Whether the graph before the change has ``node``, as a subject or as what a triple points at."""
    return (next(iter(source.quads_for_pattern(node, None, None, ox.DefaultGraph())), None) is not None
            or next(iter(source.quads_for_pattern(None, None, node, ox.DefaultGraph())), None) is not None)


def rederive_parties(store: ox.Store, parties: set[str]) -> tuple[int, set[str], list[ox.Quad]]:
    """Re-derive the rule effects of ``parties`` only; return (triples, effect IRIs, the triples) derived.

    Each rule is run with its party variable (the one it writes as
    ``tkg:effectParty``) bound to the affected parties, in the usual order,
    so rule 60 sees the parents' effects the earlier rules just wrote.
    """
    effect_party = ox.NamedNode(str(TKG.effectParty))
    for party in parties:
        for quad in list(store.quads_for_pattern(None, effect_party, ox.NamedNode(party), ox.DefaultGraph())):
            for old in list(store.quads_for_pattern(quad.subject, None, None, ox.DefaultGraph())):
                store.remove(old)
    count, effects, everything = 0, set(), []
    if not parties:
        return 0, effects, everything
    for rule in derivation_rules():
        # Each party's effects depend only on earlier rules' output and its own chain, so the rule
        # can run on the parties a chunk at a time (see run_rule); the version being written is
        # thrown away if anything fails, so its output goes in by bulk load, without a transaction.
        produced = run_rule(store, rule.text, bulk=True, parties=parties)
        count += len(produced)
        effects |= {q.subject.value for q in produced if q.predicate == _RDF_TYPE}
        everything += produced
    return count, effects, everything


