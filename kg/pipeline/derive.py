"""Derived facts, produced by the saved CONSTRUCT rules in ``queries/derive/``.

Python only runs the rules in order and records which rule produced what;
the logic of "which rules affect which firms" lives in the ``.rq`` files,
where an analyst can read and change it. Each rule sees the facts plus what
the rules before it derived.
"""

from __future__ import annotations

import functools
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


def rederive_in_store(store: ox.Store, made: list[ox.Quad] | None = None) -> int:
    """Replace the derived facts in ``store`` by running the rules on it where it is.

    The same rules as ``derive``, in the same order, but inside the (on-disk)
    store: a small load into a large graph does not copy every fact into a
    second store first. Returns the number of derived triples; ``made``, if
    given, receives them (with the derivations' own nodes).
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
        if made is not None:
            made += produced
            made += meta
    return count


_PREFIX_DECLARATION = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_NAMED = re.compile(r"<([^<>\s]+)>|(?<![\w?$])([A-Za-z][\w-]*)?:([A-Za-z_][\w-]*(?:\.[\w-]+)*)")


@functools.lru_cache(maxsize=1)
def predicates_read_by_rules() -> frozenset[str]:
    """Every IRI the derivation rules' WHERE patterns name (their predicates among them), plus rdf:type.

    A change to triples of other predicates cannot change a derived fact
    (``kg.pipeline.incremental.affected_parties``). Read from the rules' text
    with their prefixes, in about a millisecond (rdflib's parser took 1.5 s, paid
    by every ``load`` and import): a superset of the predicates their patterns
    read, classes and concepts included, which only makes more changes count.
    ``tests/test_incremental.py`` checks it against the predicates in the rules'
    algebra, and that no rule has a variable predicate (which would read every
    predicate).
    """
    found = {str(RDF.type)}
    for rule in derivation_rules():
        prefixes = {name or "": iri for name, iri in _PREFIX_DECLARATION.findall(rule.text)}
        # What the rule reads: its WHERE pattern, not the CONSTRUCT template it writes, nor comment lines.
        code = "\n".join(line for line in rule.text.split("\n") if not line.lstrip().startswith("#"))
        where = re.search(r"\bWHERE\b", code, re.IGNORECASE)
        for iri, prefix, local in _NAMED.findall(code[where.start():] if where else code):
            if iri:
                found.add(iri)
            elif (prefix or "") in prefixes:
                found.add(prefixes[prefix or ""] + local)
    return frozenset(found)


PARTY_CHUNK = 250  # parties a rule is bound to at a time (see run_rule)
_REPEAT = re.compile(r"^# repeat: until-fixpoint\s*$", re.MULTILINE)
MAX_ROUNDS = 50


def is_fixpoint_rule(text: str) -> bool:
    """A rule that reads its own output: its header says ``# repeat: until-fixpoint``."""
    return bool(_REPEAT.search(text))


def run_rule(store: ox.Store, text: str, bulk: bool = False, parties: set[str] | None = None) -> list[ox.Quad]:
    """Run one CONSTRUCT rule and add what it derives; return the new quads.

    ``parties``: derive only for these (the variable the rule writes as
    ``tkg:effectParty`` bound to them; ``kg.pipeline.incremental``). They are
    bound PARTY_CHUNK at a time, all chunks of a round read before any of its
    output is written, so the answer is the one a single binding gives:
    Oxigraph's cost of a VALUES block grows faster than its rows (the ten
    rules bound to 4,000 parties: 13.0 s; to 250 at a time: 0.18 s each).

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
    runs on the whole graph (or on all of ``parties``).
    """
    writes = re.search(r"tkg:effectParty\s+\?(\w+)", text)
    if parties is not None and writes is None:
        raise ValueError("a rule run for some parties must write tkg:effectParty ?variable")

    def evaluate(among: set[str] | None) -> list[ox.Quad]:
        # Quads made without a graph argument are in the default graph: pyoxigraph tries a NamedNode
        # and a BlankNode before it accepts DefaultGraph(), and a failed try costs about 2 us (a rule
        # run over a million triples makes hundreds of thousands of quads).
        if among is None:
            return [ox.Quad(t.subject, t.predicate, t.object) for t in store.query(text)]
        ordered = sorted(among)
        return [ox.Quad(t.subject, t.predicate, t.object)
                for i in range(0, len(ordered), PARTY_CHUNK)
                for t in store.query(with_rows(text, writes.group(1), ordered[i:i + PARTY_CHUNK]))]  # type: ignore[union-attr]

    if not is_fixpoint_rule(text):
        produced = evaluate(parties)
        (store.bulk_extend if bulk else store.extend)(produced)
        return produced
    # Each round replaces what the earlier rounds derived instead of adding to
    # it: the rule aggregates (the owners' earliest listing, the summed share),
    # so a firm derived in one round from what was known then can get an
    # earlier start in the next, once an owner's own ownership effect exists;
    # kept side by side, the two starts made one effect with two start dates
    # (a 20-row load into the 100k benchmark store failed validation on it).
    marked = {m.group(1) for m in PARTIES_HERE.finditer(text)}
    variable = writes.group(1) if writes and marked == {writes.group(1)} else None
    effect_party = ox.NamedNode(str(TKG.effectParty))
    ours: set[ox.Quad] = set()  # what this call put in the store
    party_of: dict[ox.NamedNode | ox.BlankNode, str] = {}  # effect -> its party
    redo: set[str] | None = None  # the parties this round re-derives; None: all of them
    for _ in range(MAX_ROUNDS):
        among = parties if redo is None or variable is None else (redo if parties is None else redo & parties)
        current = set(evaluate(among))
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
