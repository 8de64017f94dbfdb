"""Derived facts, produced by the saved CONSTRUCT rules in ``queries/derive/``.

Python only runs the rules in order and records which rule produced what;
the logic of "which rules affect which firms" lives in the ``.rq`` files,
where an analyst can read and change it. Each rule sees the facts plus what
the rules before it derived.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from rdflib import RDF, RDFS, Graph, Literal, URIRef

from kg.answers.queries import derivation_rules
from kg.graph.sparqltext import PARTIES_HERE, with_rows
from kg.graph.terms import graph_to_quads, quads_to_graph
from kg.namespaces import DERIVATION, TKG, bind_prefixes
from kg.resources import lookup_query, queries_dir


def derive(facts: Graph) -> Graph:
    """Return the derived triples (not including ``facts``): the rules run in a scratch store."""
    store = ox.Store()
    store.extend(graph_to_quads(facts))
    rederive_in_store(store)
    derived = bind_prefixes(Graph())
    for subject in derived_subjects(store):
        quads_to_graph(store.quads_for_pattern(subject, None, None, ox.DefaultGraph()), derived)
    return derived


def _derivation_node(rule_name: str, title: str, description: str, path: str) -> Graph:
    node = URIRef(f"{DERIVATION}{rule_name}")
    graph = Graph()
    graph.add((node, RDF.type, TKG.Derivation))
    graph.add((node, RDFS.label, Literal(title)))
    graph.add((node, RDFS.comment, Literal(description)))
    graph.add((node, TKG.derivationFile, Literal(path)))
    return graph


def derived_subjects(store: ox.Store) -> set[ox.NamedNode | ox.BlankNode]:
    """The derived nodes in ``store``: rule effects and the derivations that made them."""
    rdf_type = ox.NamedNode(str(RDF.type))
    found: set[ox.NamedNode | ox.BlankNode] = set()
    for cls in (TKG.RuleEffect, TKG.Derivation):
        found |= {q.subject for q in store.quads_for_pattern(None, rdf_type, ox.NamedNode(str(cls)), ox.DefaultGraph())}
    return found


def rederive_in_store(store: ox.Store) -> int:
    """Replace the derived facts in ``store`` by running the rules on it where it is.

    The same rules as ``derive``, in the same order, but inside the (on-disk)
    store: a small load into a large graph does not copy every fact into a
    second store first. Returns the number of derived triples.
    """
    old = derived_subjects(store)
    for subject in old:
        for quad in list(store.quads_for_pattern(subject, None, None, ox.DefaultGraph())):
            store.remove(quad)
    root = queries_dir().parent
    count = 0
    for rule in derivation_rules():
        produced = run_rule(store, rule.text, bulk=True)
        meta = list(graph_to_quads(_derivation_node(rule.name, rule.title, rule.description,
                                                    rule.path.relative_to(root).as_posix())))
        store.bulk_extend(meta)
        count += len(set(produced) | set(meta))
    return count


_REPEAT = re.compile(r"^# repeat: until-fixpoint\s*$", re.MULTILINE)
MAX_ROUNDS = 50


def is_fixpoint_rule(text: str) -> bool:
    """A rule that reads its own output: its header says ``# repeat: until-fixpoint``."""
    return bool(_REPEAT.search(text))


def run_rule(store: ox.Store, text: str, bulk: bool = False) -> list[ox.Quad]:
    """Run one CONSTRUCT rule and add what it derives; return the new quads.

    A rule whose header says ``# repeat: until-fixpoint`` (ownership through
    firms the rule itself reaches) runs again on its own output until a round
    changes nothing (each round's output replaces the last one's), at most
    ``MAX_ROUNDS`` rounds (an ownership chain that long is not in any real
    record; a cycle stops as soon as nothing changes).

    When such a rule marks its party variable (``# parties: ?firm``, see
    ``with_rows``), every round after the first runs only for the firms below
    (``queries/lookup/descendants.rq``) a party whose effects the last round
    changed: a firm reads the rule's earlier output only through the firms
    above it, so the others would derive what they derived last round. The
    rounds end in the same store as whole-graph rounds (rule 70 in a full
    derivation at 1M triples: 8.1 s -> 5.0 s). The marked variable must be
    the one the rule writes as ``tkg:effectParty``; otherwise every round
    runs on the whole graph.
    """
    if not is_fixpoint_rule(text):
        produced = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in store.query(text)]
        (store.bulk_extend if bulk else store.extend)(produced)
        return produced
    # Each round replaces what the earlier rounds derived instead of adding to
    # it: the rule aggregates (the owners' earliest listing, the summed share),
    # so a firm derived in one round from what was known then can get an
    # earlier start in the next, once an owner's own ownership effect exists;
    # kept side by side, the two starts made one effect with two start dates
    # (a 20-row load into the 100k benchmark store failed validation on it).
    marked = {m.group(1) for m in PARTIES_HERE.finditer(text)}
    writes = re.search(r"tkg:effectParty\s+\?(\w+)", text)
    variable = writes.group(1) if writes and marked == {writes.group(1)} else None
    effect_party = ox.NamedNode(str(TKG.effectParty))
    ours: set[ox.Quad] = set()  # what this call put in the store
    party_of: dict[ox.NamedNode | ox.BlankNode, str] = {}  # effect -> its party
    redo: set[str] | None = None  # the parties this round re-derives; None: all of them
    for _ in range(MAX_ROUNDS):
        query = text if redo is None or variable is None else with_rows(text, variable, redo)
        current = {ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in store.query(query)}
        party_of.update((q.subject, q.object.value) for q in current if q.predicate == effect_party)
        scope = ours if redo is None else {q for q in ours if party_of.get(q.subject) in redo}
        stale = scope - current
        fresh = {q for q in current if q not in store}
        if not stale and not fresh:
            break
        for quad in stale:
            store.remove(quad)
        store.extend(fresh)
        ours = (ours - stale) | fresh
        if variable is not None:
            changed = {party_of[q.subject] for q in stale | fresh if q.subject in party_of}
            if not changed:  # effects without a party (not a rule effect): back to whole-graph rounds
                redo = None
                continue
            below = with_rows(lookup_query("descendants"), "ancestor", changed)
            redo = {str(s["descendant"].value) for s in store.query(below)}  # type: ignore[index,union-attr]
            if not redo:
                break
    return list(ours)
