"""SHACL shapes checked by Oxigraph's SPARQL engine, and only the ones it checks exactly.

pySHACL walks every focus node in Python: about 0.4 ms per triple on our
shapes, so minutes at a million triples (benchmarks/README.md). Here each
constraint of a shape becomes one SPARQL SELECT that returns the violating
focus nodes and values, run where the data already is (the in-memory store
of a build, or the small store of a load).

``plan`` reads any shapes graph and splits its shapes (the ones with a
target, declared or implicit) in two. A shape goes to the SPARQL side only
when every part of it is implemented here exactly as SHACL defines it:

* targets: ``sh:targetClass``, implicit class targets, ``sh:targetNode``,
  ``sh:targetSubjectsOf``, ``sh:targetObjectsOf``;
* paths: every SHACL path form (predicate, inverse, sequence, alternative,
  zero-or-more, one-or-more, zero-or-one), written as SPARQL property paths;
* components: class, datatype, nodeKind, minCount, maxCount, the four
  ranges, minLength, maxLength, pattern (with one sh:flags), languageIn,
  uniqueLang, in, hasValue, equals, disjoint, lessThan, lessThanOrEquals,
  closed (node shapes, with ignoredProperties), property, and not, and, or,
  xone, node over member shapes that are plain conditions on one node
  (value constraints, and property members with minCount 1 or value
  constraints); every value of a parameter is its own constraint;
  ``sh:deactivated`` and ``sh:severity`` as SHACL says.

Anything else (SPARQL targets and constraints, qualified value shapes,
recursive shapes, a parameter value the translation cannot write exactly,
such as an ``sh:in`` member Oxigraph would store in another form) sends the
whole shape to the complete engine (``kg.checks.complete``) with the reason,
which the user sees. Nothing is skipped.

Datatype checks see the literal as written: Oxigraph keeps ill-formed
literals as they are, and each distinct literal of the datatype is checked
for well-formedness by rdflib (what pySHACL does); literals the store would
rewrite are found before the data goes in (``kg.checks.rawterms``) and the
shapes that read them go to the complete engine.

Two things keep it fast at a million triples (``benchmarks/run.py``):
"instance of C" (``rdf:type/rdfs:subClassOf*``) is written as a VALUES list
of C and its subclasses, read from the validated store itself, since a
property path inside a NOT EXISTS costs about four times a plain pattern per
row; and the checks run on as many threads as there are cores, as Oxigraph
evaluates queries without holding the GIL.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH, XSD
from rdflib.term import Node

from kg.checks.rawterms import RawTerms, canonical
from kg.checks.read import raw_term
from kg.checks.results import Result, Results
from kg.checks.validate import Report, Violation
from kg.graph.ontology import ontology_graph, shapes_graph
from kg.graph.terms import graph_to_quads, to_oxigraph
from kg.loaders.tables import Catalog, load_catalog
from kg.namespaces import TKG
from kg.progress import progress

_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_SUBCLASSES = """SELECT ?sub ?super WHERE {
  ?sub <http://www.w3.org/2000/01/rdf-schema#subClassOf>+ ?super . FILTER(isIRI(?sub) && isIRI(?super)) }"""

# Class IRI -> the IRIs of its strict subclasses in the validated graph.
Subclasses = Mapping[str, frozenset[str]]

_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
# sh: predicates of a shape that are not constraints (or are read with the one they go with).
_INERT = {SH.name, SH.description, SH.message, SH.severity, SH.order, SH.group, SH.defaultValue, SH.deactivated,
          SH.path, SH.ignoredProperties, SH.flags, SH.qualifiedMinCount, SH.qualifiedMaxCount,
          SH.qualifiedValueShapesDisjoint, *_TARGETS}
# Datatypes a member shape (inside sh:or, sh:not...) can check, well-formedness included, in SPARQL.
_CASTABLE = {XSD.integer, XSD.decimal, XSD.boolean, XSD.date, XSD.dateTime, XSD.double, XSD.float}
_KINDS = {
    SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "!isLiteral({v})", SH.BlankNodeOrLiteral: "!isIRI({v})", SH.IRIOrLiteral: "!isBlank({v})",
}
_RANGES = {SH.minInclusive: ">=", SH.minExclusive: ">", SH.maxInclusive: "<=", SH.maxExclusive: "<"}
_MAX_DEPTH = 8
# Components that compare a literal's lexical form or its identity as a term.
_LEXICAL = {SH.pattern, SH.minLength, SH.maxLength, SH["in"], SH.hasValue, SH.equals, SH.disjoint, SH["not"],
            SH["and"], SH["or"], SH.xone, SH.node, SH.qualifiedValueShape}


class _Both(set):
    """A set that also adds to a second one (the predicates a shape reads, and those it compares by form)."""

    def __init__(self, first: set[str], second: set[str]):
        super().__init__()
        self.first, self.second = first, second

    def add(self, item: str) -> None:
        self.first.add(item)
        self.second.add(item)

    def __ior__(self, other):  # type: ignore[no-untyped-def,override]
        self.first |= other
        self.second |= other
        return self


class UnsupportedShape(ValueError):
    """A part of a shape the SPARQL translation does not implement exactly (the reason is the message)."""


def _cc(name: str) -> URIRef:
    return SH[f"{name}ConstraintComponent"]


@dataclass(frozen=True)
class Part:
    """One constraint of a check's query: its component and parameter value (two sh:class are two)."""

    component: URIRef
    param: str
    with_value: bool = True
    bound: tuple[str, int] | None = None  # a count constraint: ("<", minCount) or (">", maxCount)


@dataclass(frozen=True)
class Check:
    """One SPARQL query checking the constraints (``parts``) of one shape on its focus nodes.

    The query returns one row per violation: ?f, ?v, and ?c, the index of the
    part violated (-1: a count, in ?n, that breaks one of the count parts);
    ?p (sh:closed) gives the result path, ?k tells apart results of the same
    value (sh:uniqueLang's language, sh:lessThan's other value).
    """

    shape: Node  # the shape whose constraints these are (sh:sourceShape)
    path: Node | None  # the path node in the shapes graph; None on a node shape
    severity: URIRef
    messages: tuple[Literal, ...]
    query: str
    parts: tuple[Part, ...]
    # A datatype check's second half: the ill-formed literals of ``datatype`` among
    # the value nodes, found by ``rows`` (%s: a VALUES list of them). ``query`` then
    # lists the distinct literals of the datatype among the value nodes (not run when
    # the path is one predicate: one scan of its objects serves every such check).
    datatype: URIRef | None = None
    rows: str | None = None


def _project(query: str, index: int) -> str:
    """``query`` (a SELECT) also projecting ``index AS ?c``."""
    head, rest = query.split(" WHERE ", 1)
    return f"{head} ({index} AS ?c) WHERE {rest}"


@dataclass
class Plan:
    checks: list[Check] = field(default_factory=list)
    # Top-level shapes for the complete engine, and why.
    handed_off: dict[Node, str] = field(default_factory=dict)
    # Top-level shape -> the checks compiled for it, and the predicates they read ("*": any).
    by_root: dict[Node, list[Check]] = field(default_factory=dict)
    reads: dict[Node, set[str]] = field(default_factory=dict)
    # ... and the predicates whose literals' lexical forms a check compares (sh:pattern, sh:in...).
    lexical: dict[Node, set[str]] = field(default_factory=dict)
    # True when every check reads only a focus node's own triples and its objects' types
    # (what a load's neighbourhood holds: kg.pipeline.incremental).
    local: bool = True

    def without(self, roots: Iterable[Node], why: str) -> None:
        for root in roots:
            self.handed_off[root] = why
            self.by_root.pop(root, None)
        self.checks = [c for checks in self.by_root.values() for c in checks]


def _n3(term: Node) -> str:
    return str(to_oxigraph(term))


def _truthy(value: Node, shape: Node, what: str) -> bool:
    """Whether a boolean parameter is on: SHACL names the literal ``true``; ``"1"^^xsd:boolean`` is not it."""
    if not isinstance(value, Literal) or value.datatype != XSD.boolean or value.ill_typed:
        raise UnsupportedShape(f"{what} {value.n3()} is not a boolean")
    return str(value) == "true"


class _Compiler:
    """Writes the SPARQL of one shapes graph's checks for one class hierarchy (that of the validated graph)."""

    def __init__(self, shapes: Graph, subclasses: Subclasses):
        self.shapes = shapes
        self.subclasses = subclasses
        self.fresh = itertools.count()
        # Parameters of constraint components the shapes declare (however the component is typed).
        self.parameters = {p for _, decl in shapes.subject_objects(SH.parameter) for p in shapes.objects(decl, SH.path)}

    def var(self, name: str = "x") -> str:
        return f"?{name}{next(self.fresh)}"

    def values(self, node: Node, predicate: URIRef) -> list[Node]:
        return sorted(self.shapes.objects(node, predicate), key=str)

    def one(self, node: Node, predicate: URIRef) -> Node | None:
        found = self.values(node, predicate)
        if len(found) > 1:
            raise UnsupportedShape(f"{len(found)} values of {predicate.n3()}")
        return found[0] if found else None

    def members(self, head: Node, what: str) -> list[Node]:
        try:
            items = list(Collection(self.shapes, head))
        except Exception as error:
            raise UnsupportedShape(f"{what} is not a well-formed RDF list") from error
        if head != RDF.nil and not items:
            raise UnsupportedShape(f"{what} is not a well-formed RDF list")
        return items

    def instance(self, var: str, cls: Node) -> str:
        """A pattern matching ``var`` when it is a SHACL instance of ``cls`` (rdf:type/rdfs:subClassOf*)."""
        classes = sorted({str(cls)} | self.subclasses.get(str(cls), frozenset()))
        if len(classes) == 1:
            return f"{var} {_RDF_TYPE} {_n3(cls)} ."
        t = self.var("class")
        return f"VALUES {t} {{ {' '.join(_n3(URIRef(c)) for c in classes)} }} {var} {_RDF_TYPE} {t} ."

    # ---- paths ------------------------------------------------------------------------------

    def path(self, node: Node, reads: set[str], depth: int = 0) -> tuple[str, bool]:
        """(SPARQL property path, whether it is a plain predicate or alternative of predicates)."""
        if depth > _MAX_DEPTH:
            raise UnsupportedShape("a path nested too deeply")
        if isinstance(node, URIRef):
            reads.add(str(node))
            return _n3(node), True
        if not isinstance(node, BNode):
            raise UnsupportedShape(f"sh:path {node.n3()} is not a path")
        if self.shapes.value(node, RDF.first) is not None:
            parts = [self.path(m, reads, depth + 1)[0] for m in self.members(node, "a sequence path")]
            if len(parts) < 2:
                raise UnsupportedShape("a sequence path of fewer than two members")
            return "(" + "/".join(parts) + ")", False
        keys = set(self.shapes.predicates(node))
        if len(keys) != 1:
            raise UnsupportedShape("a blank-node path with other than one path predicate")
        key = keys.pop()
        inner = self.one(node, key)
        if key == SH.alternativePath:
            parts = [self.path(m, reads, depth + 1) for m in self.members(inner, "an alternative path")]
            if not parts:
                raise UnsupportedShape("an empty alternative path")
            return "(" + "|".join(p for p, _ in parts) + ")", all(simple for _, simple in parts)
        marks = {SH.inversePath: "^", SH.zeroOrMorePath: "*", SH.oneOrMorePath: "+", SH.zeroOrOnePath: "?"}
        if key not in marks:
            raise UnsupportedShape(f"path form {key.n3()}")
        text, _ = self.path(inner, reads, depth + 1)
        if key == SH.inversePath:
            return f"^({text})", False
        return f"({text}){marks[key]}", False

    # ---- targets -----------------------------------------------------------------------------

    def focus(self, root: Node, reads: set[str], plan: Plan) -> str:
        """A pattern binding ?f to each focus node of ``root``."""
        if self.values(root, SH.target):
            raise UnsupportedShape("sh:target (a SPARQL-based target)")
        parts: list[str] = []
        classes = self.values(root, SH.targetClass)
        if (root, RDF.type, RDFS.Class) in self.shapes:
            classes.append(root)
        for cls in classes:
            if not isinstance(cls, URIRef):
                raise UnsupportedShape(f"sh:targetClass {cls.n3()} is not an IRI")
            parts.append(self.instance("?f", cls))
        nodes = self.values(root, SH.targetNode)
        if nodes:
            parts.append(f"VALUES ?f {{ {' '.join(self._term(n, 'sh:targetNode') for n in nodes)} }}")
        for predicate, pattern in ((SH.targetSubjectsOf, "?f {p} ?any"), (SH.targetObjectsOf, "?any {p} ?f")):
            for p in self.values(root, predicate):
                if not isinstance(p, URIRef):
                    raise UnsupportedShape(f"{predicate.n3()} {p.n3()} is not an IRI")
                reads.add(str(p))
                if predicate == SH.targetObjectsOf:
                    plan.local = False
                parts.append(f"{{ SELECT DISTINCT ?f WHERE {{ {pattern.format(p=_n3(p))} }} }}")
        if len(parts) == 1:
            return parts[0]
        return "{ SELECT DISTINCT ?f WHERE { " + " UNION ".join(f"{{ {p} }}" for p in parts) + " } }"

    def _term(self, term: Node, what: str) -> str:
        """A term of the shapes as SPARQL, refused when Oxigraph would read it as another term."""
        if isinstance(term, BNode):
            raise UnsupportedShape(f"{what} is a blank node")
        if isinstance(term, Literal) and (term.datatype or term.language):
            ox_term = to_oxigraph(term)
            if canonical([ox_term])[ox_term] != ox_term:  # type: ignore[list-item,index]
                raise UnsupportedShape(f"{what} {term.n3()} is a literal Oxigraph stores in another form")
        return _n3(term)

    # ---- shapes ------------------------------------------------------------------------------

    def shape(self, shape: Node, focus: str, reads: set[str], plan: Plan, root: Node) -> list[Check]:
        """The checks of ``shape`` on the focus nodes ``focus`` binds to ?f."""
        shapes = self.shapes
        deactivated = self.one(shape, SH.deactivated)
        if deactivated is not None and _truthy(deactivated, shape, "sh:deactivated"):
            return []
        severity = self.one(shape, SH.severity) or SH.Violation
        if not isinstance(severity, URIRef):
            raise UnsupportedShape(f"sh:severity {severity.n3()} is not an IRI")
        messages = tuple(m for m in self.values(shape, SH.message) if isinstance(m, Literal))
        path_node = self.one(shape, SH.path)
        used = {p for p in shapes.predicates(shape) if str(p).startswith(str(SH))} - _INERT
        if used & {SH.target}:
            raise UnsupportedShape("sh:target (a SPARQL-based target)")
        custom = set(shapes.predicates(shape)) & self.parameters
        if custom:
            raise UnsupportedShape(f"parameters of a SPARQL-based constraint component: "
                                   f"{', '.join(sorted(p.n3() for p in custom))}")
        own: set[str] = set()
        if used & _LEXICAL:
            # every predicate read for this shape, its members' included, counts as compared by form
            reads = _Both(reads, plan.lexical.setdefault(root, set()))
        if path_node is not None:
            path, simple = self.path(path_node, own)
            reads |= own
            if not simple:
                plan.local = False
            values = f"?f {path} ?v ."
        else:
            path, values = None, "BIND(?f AS ?v)"
        checks: list[Check] = []
        parts: list[Part] = []
        subs: list[str] = []  # subqueries, each projecting ?c: the index of its part
        conds: list[tuple[int, str]] = []  # (part, condition true when ?v violates it)
        counts: list[int] = []
        param = ""

        def add(component: str, query: str, with_value: bool = True, datatype: URIRef | None = None,
                rows: str | None = None) -> None:
            if datatype is not None:
                checks.append(Check(shape, path_node, severity, messages, query,
                                    (Part(_cc(component), param, True),), datatype=datatype, rows=rows))
                return
            subs.append(_project(query, len(parts)))
            parts.append(Part(_cc(component), param, with_value))

        def per_value(component: str, cond: str) -> None:
            conds.append((len(parts), cond))
            parts.append(Part(_cc(component), param, True))

        for predicate in sorted(used, key=str):
            for value in self.values(shape, predicate):
                param = f"{predicate.n3()} {value.n3()}"
                if predicate == SH.property:
                    if self.one(value, SH.path) is None:
                        raise UnsupportedShape(f"sh:property {value.n3()} has no sh:path")
                    if path_node is not None:
                        # SHACL reports a nested property's results once per outer focus node that
                        # reaches the value; the translation does not keep that multiset.
                        raise UnsupportedShape("sh:property under a property shape")
                    checks += self.shape(value, focus, reads, plan, root)
                elif predicate == SH["class"]:
                    per_value("Class", self.condition_class("?v", value, negate=True))
                elif predicate == SH.datatype:
                    if not isinstance(value, URIRef):
                        raise UnsupportedShape(f"sh:datatype {value.n3()} is not an IRI")
                    per_value("Datatype", f"!({self.datatype_shape('?v', value)})")
                    if value not in (XSD.string, RDF.langString):
                        add("Datatype",
                            f"SELECT DISTINCT ?v WHERE {{ {focus} {values} "
                            f"FILTER(isLiteral(?v) && datatype(?v) = {_n3(value)}) }}",
                            datatype=value, rows="SELECT ?f ?v WHERE { VALUES ?v { %s } " + focus + " " + (
                                values if path is not None else "FILTER(sameTerm(?f, ?v))") + " }")
                elif predicate in (SH.minCount, SH.maxCount):
                    if path is None:
                        raise UnsupportedShape(f"{predicate.n3()} on a node shape")
                    n = self._integer(value, predicate)
                    if predicate == SH.minCount and n == 0:
                        continue
                    op = "<" if predicate == SH.minCount else ">"
                    name = "MinCount" if predicate == SH.minCount else "MaxCount"
                    counts.append(len(parts))
                    parts.append(Part(_cc(name), param, False, (op, n)))
                elif predicate == SH.closed:
                    if not _truthy(value, shape, "sh:closed"):
                        continue
                    if path is not None:
                        raise UnsupportedShape("sh:closed on a property shape")
                    allowed = {p for ps in shapes.objects(shape, SH.property) for p in shapes.objects(ps, SH.path)
                               if isinstance(p, URIRef)}
                    for ignored in self.values(shape, SH.ignoredProperties):
                        allowed |= set(self.members(ignored, "sh:ignoredProperties"))
                    listed = ", ".join(self._term(p, "sh:ignoredProperties member") for p in sorted(allowed, key=str))
                    add("Closed", f"SELECT ?f ?v ?p WHERE {{ {focus} ?f ?p ?v . FILTER(?p NOT IN ({listed})) }}")
                elif predicate == SH.uniqueLang:
                    if not _truthy(value, shape, "sh:uniqueLang"):
                        continue
                    if path is None:
                        raise UnsupportedShape("sh:uniqueLang on a node shape")
                    add("UniqueLang", f"SELECT DISTINCT ?f ?k WHERE {{ {focus} ?f {path} ?a . ?f {path} ?b . "
                                      "FILTER(isLiteral(?a) && isLiteral(?b) && lang(?a) != \"\" && "
                                      "lang(?a) = lang(?b) && !sameTerm(?a, ?b)) BIND(lang(?a) AS ?k) }",
                        with_value=False)
                elif predicate == SH.hasValue:
                    term = self._term(value, "sh:hasValue")
                    if path is None:
                        per_value("HasValue", f"!sameTerm(?v, {term})")
                    else:
                        add("HasValue", f"SELECT ?f WHERE {{ {focus} FILTER NOT EXISTS {{ ?f {path} {term} }} }}",
                            with_value=False)
                elif predicate in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
                    if not isinstance(value, URIRef):
                        raise UnsupportedShape(f"{predicate.n3()} {value.n3()} is not an IRI")
                    reads.add(str(value))
                    other = _n3(value)
                    if predicate == SH.equals:
                        add("Equals", f"SELECT ?f ?v WHERE {{ {{ {focus} {values} "
                                      f"FILTER NOT EXISTS {{ ?f {other} ?v }} }}"
                                      f" UNION {{ {focus} ?f {other} ?v . FILTER NOT EXISTS "
                                      f"{{ {values.replace('?v', '?w')} FILTER(sameTerm(?w, ?v)) }} }} }}")
                    elif predicate == SH.disjoint:
                        add("Disjoint", f"SELECT ?f ?v WHERE {{ {focus} {values} ?f {other} ?w . "
                                        "FILTER(sameTerm(?v, ?w)) }")
                    else:
                        if path is None:
                            raise UnsupportedShape(f"{predicate.n3()} on a node shape")
                        op = "<" if predicate == SH.lessThan else "<="
                        name = "LessThan" if predicate == SH.lessThan else "LessThanOrEquals"
                        add(name, f"SELECT ?f ?v (?w AS ?k) WHERE {{ {focus} {values} ?f {other} ?w . "
                                  f"FILTER(!COALESCE(?v {op} ?w, false)) }}")
                elif predicate == SH.qualifiedValueShape:
                    if path is None:
                        raise UnsupportedShape("sh:qualifiedValueShape on a node shape")
                    if len(self.values(shape, predicate)) > 1:
                        raise UnsupportedShape("two values of sh:qualifiedValueShape")
                    plan.local = False
                    q = self.var("q")
                    cond = self.member(q, value, reads, 1)
                    disjoint = self.one(shape, SH.qualifiedValueShapesDisjoint)
                    if disjoint is not None and _truthy(disjoint, shape, "sh:qualifiedValueShapesDisjoint"):
                        siblings = {sib for parent in shapes.subjects(SH.property, shape)
                                    for other in shapes.objects(parent, SH.property) if other != shape
                                    for sib in shapes.objects(other, SH.qualifiedValueShape)}
                        for sib in sorted(siblings, key=str):
                            cond = f"({cond} && !({self.member(q, sib, reads, 1)}))"
                    for bound, name, op in ((SH.qualifiedMinCount, "QualifiedMinCount", "<"),
                                            (SH.qualifiedMaxCount, "QualifiedMaxCount", ">")):
                        limit = self.one(shape, bound)
                        if limit is None:
                            continue
                        n = self._integer(limit, bound)
                        add(name, f"SELECT ?f WHERE {{ {{ SELECT ?f (COUNT(DISTINCT {q}) AS ?n) WHERE {{ {focus} "
                                  f"OPTIONAL {{ ?f {path} {q} . FILTER({cond}) }} }} GROUP BY ?f "
                                  f"HAVING (COUNT(DISTINCT {q}) {op} {n}) }} }}", with_value=False)
                elif predicate in (SH["not"], SH["and"], SH["or"], SH.xone, SH.node):
                    if path is not None and not simple:
                        plan.local = False
                    if path is not None or predicate == SH.node:
                        # member conditions on a property's values read the values' own triples
                        plan.local = plan.local and not self._reads_triples(value, predicate)
                    per_value(self._logical_name(predicate), f"!({self.logical('?v', predicate, value, reads, 0)})")
                else:
                    cond = self.value_condition("?v", predicate, value, shape)
                    if cond is None:
                        raise UnsupportedShape(f"{predicate.n3()}")
                    component, text = cond
                    per_value(component, f"!({text})")
        if conds:
            which = " ".join(str(i) for i, _ in conds)
            test = " || ".join(f"(?c = {i} && ({cond}))" for i, cond in conds)
            subs.append(f"SELECT ?f ?v ?c WHERE {{ {focus} {values} VALUES ?c {{ {which} }} FILTER({test}) }}")
        if counts:
            having = " || ".join(f"COUNT(DISTINCT ?x) {parts[i].bound[0]} {parts[i].bound[1]}"  # type: ignore[index]
                                 for i in counts)
            subs.append(f"SELECT ?f ?n (-1 AS ?c) WHERE {{ {{ SELECT ?f (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {focus} "
                        f"OPTIONAL {{ ?f {path} ?x }} }} GROUP BY ?f HAVING ({having}) }} }}")
        if subs:
            query = "SELECT * WHERE { " + " UNION ".join(f"{{ {sub} }}" for sub in subs) + " }"
            checks.append(Check(shape, path_node, severity, messages, query, tuple(parts)))
        return checks

    @staticmethod
    def _logical_name(predicate: URIRef) -> str:
        return {SH["not"]: "Not", SH["and"]: "And", SH["or"]: "Or", SH.xone: "Xone", SH.node: "Node"}[predicate]

    def _reads_triples(self, value: Node, predicate: URIRef) -> bool:
        """Whether the member shapes of a logical constraint look at triples of the node they judge."""
        members = [value] if predicate in (SH["not"], SH.node) else self.members(value, predicate.n3())
        stack, seen = list(members), set()
        while stack:
            m = stack.pop()
            if m in seen:
                continue
            seen.add(m)
            if self.one(m, SH.path) is not None or self.values(m, SH.property) or self.values(m, SH.closed):
                return True
            for p in (SH["not"], SH.node):
                stack += self.values(m, p)
            for p in (SH["and"], SH["or"], SH.xone):
                for head in self.values(m, p):
                    stack += self.members(head, p.n3())
        return False

    def _integer(self, value: Node, predicate: URIRef) -> int:
        if not isinstance(value, Literal) or value.datatype != XSD.integer or value.ill_typed:
            raise UnsupportedShape(f"{predicate.n3()} {value.n3()} is not an xsd:integer")
        return int(value.toPython())

    # ---- conditions on one node (true when it satisfies the constraint; never an error) ---------

    def condition_class(self, var: str, cls: Node, negate: bool = False) -> str:
        if not isinstance(cls, URIRef):
            raise UnsupportedShape(f"sh:class {cls.n3()} is not an IRI")
        return f"{'NOT ' if negate else ''}EXISTS {{ {self.instance(var, cls)} }}"

    def datatype_shape(self, var: str, datatype: Node) -> str:
        """True when ``var`` is a literal of ``datatype`` (its lexical form is checked apart)."""
        if datatype == RDF.langString:
            return f"isLiteral({var}) && lang({var}) != \"\""
        return f"isLiteral({var}) && datatype({var}) = {_n3(datatype)} && lang({var}) = \"\""

    def value_condition(self, var: str, predicate: URIRef, value: Node, shape: Node) -> tuple[str, str] | None:
        """(component, condition true when ``var`` satisfies it) for constraints on one value."""
        if predicate == SH.nodeKind:
            if value not in _KINDS:
                raise UnsupportedShape(f"sh:nodeKind {value.n3()}")
            return "NodeKind", _KINDS[value].format(v=var)  # type: ignore[index]
        if predicate in _RANGES:
            if not isinstance(value, Literal):
                raise UnsupportedShape(f"{predicate.n3()} {value.n3()} is not a literal")
            name = str(predicate).rsplit("#", 1)[-1]
            return name[0].upper() + name[1:], f"COALESCE({var} {_RANGES[predicate]} {_n3(value)}, false)"
        if predicate in (SH.minLength, SH.maxLength):
            n = self._integer(value, predicate)
            op = ">=" if predicate == SH.minLength else "<="
            return ("MinLength" if predicate == SH.minLength else "MaxLength",
                    f"(!isBlank({var}) && STRLEN(STR({var})) {op} {n})")
        if predicate == SH.pattern:
            flags = self.one(shape, SH.flags)
            args = _n3(Literal(str(value))) + (f", {_n3(Literal(str(flags)))}" if flags is not None else "")
            return "Pattern", f"(!isBlank({var}) && COALESCE(REGEX(STR({var}), {args}), false))"
        if predicate == SH.languageIn:
            tags = [m for m in self.members(value, "sh:languageIn")]
            if any(not isinstance(t, Literal) or t.datatype or t.language for t in tags):
                raise UnsupportedShape("sh:languageIn member that is not a plain string")
            tests = " || ".join(f"langMatches(lang({var}), {_n3(Literal(str(t)))})" for t in tags) or "false"
            return "LanguageIn", f"(isLiteral({var}) && ({tests}))"
        if predicate == SH["in"]:
            members = [self._term(m, "sh:in member") for m in self.members(value, "sh:in")]
            return "In", " || ".join(f"sameTerm({var}, {m})" for m in members) or "false"
        return None

    def member(self, var: str, shape: Node, reads: set[str], depth: int) -> str:
        """A condition true when the node ``var`` conforms to the (member) shape ``shape``."""
        if depth > _MAX_DEPTH:
            raise UnsupportedShape("shapes nested too deeply, or recursive")
        if isinstance(shape, Literal):
            raise UnsupportedShape(f"member shape {shape.n3()} is a literal")
        deactivated = self.one(shape, SH.deactivated)
        if deactivated is not None and _truthy(deactivated, shape, "sh:deactivated"):
            return "true"
        path_node = self.one(shape, SH.path)
        if path_node is not None:
            path, _ = self.path(path_node, reads)
            return self.property_member(var, shape, path, reads, depth)
        parts: list[str] = []
        used = {p for p in self.shapes.predicates(shape) if str(p).startswith(str(SH))} - _INERT
        if set(self.shapes.predicates(shape)) & self.parameters:
            raise UnsupportedShape("a member shape uses a SPARQL-based constraint component")
        for predicate in sorted(used, key=str):
            for value in self.values(shape, predicate):
                if predicate == SH["class"]:
                    parts.append(self.condition_class(var, value))
                elif predicate == SH.datatype:
                    parts.append(self.member_datatype(var, value))
                elif predicate == SH.hasValue:
                    parts.append(f"sameTerm({var}, {self._term(value, 'sh:hasValue')})")
                elif predicate == SH.property:
                    sub = self.one(value, SH.path)
                    if sub is None:
                        raise UnsupportedShape(f"sh:property {value.n3()} has no sh:path")
                    path, _ = self.path(sub, reads)
                    parts.append(self.property_member(var, value, path, reads, depth + 1))
                elif predicate in (SH["not"], SH["and"], SH["or"], SH.xone, SH.node):
                    parts.append(self.logical(var, predicate, value, reads, depth + 1))
                else:
                    cond = self.value_condition(var, predicate, value, shape)
                    if cond is None:
                        raise UnsupportedShape(f"{predicate.n3()} in a member shape")
                    parts.append(f"({cond[1]})")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def member_datatype(self, var: str, datatype: Node) -> str:
        if datatype in (XSD.string, RDF.langString):
            return f"({self.datatype_shape(var, datatype)})"
        if not isinstance(datatype, URIRef):
            raise UnsupportedShape(f"sh:datatype {datatype.n3()} is not an IRI")
        if _unchecked(datatype):  # rdflib (and so pySHACL) takes any lexical form of it
            return f"({self.datatype_shape(var, datatype)})"
        if datatype not in _CASTABLE:
            raise UnsupportedShape(f"sh:datatype {datatype.n3()} in a member shape")
        d = _n3(datatype)
        return f"({self.datatype_shape(var, datatype)} && COALESCE(datatype({d}(STR({var}))) = {d}, false))"

    def property_member(self, var: str, shape: Node, path: str, reads: set[str], depth: int) -> str:
        """``var`` conforms to a property shape: its counts hold and every value satisfies the rest."""
        parts: list[str] = []
        used = {p for p in self.shapes.predicates(shape) if str(p).startswith(str(SH))} - _INERT
        x = self.var()
        for predicate in sorted(used, key=str):
            for value in self.values(shape, predicate):
                if predicate in (SH.minCount, SH.maxCount):
                    n = self._integer(value, predicate)
                    if n > 3:
                        raise UnsupportedShape(f"{predicate.n3()} above 3 in a member shape")
                    if predicate == SH.minCount and n == 0:
                        continue
                    # n (minCount) or n + 1 (maxCount) distinct values
                    k = n if predicate == SH.minCount else n + 1
                    xs = [self.var() for _ in range(k)]
                    pattern = " ".join(f"{var} {path} {v} ." for v in xs)
                    distinct = " && ".join(f"!sameTerm({a}, {b})" for a, b in itertools.combinations(xs, 2))
                    test = f"{{ {pattern} {f'FILTER({distinct})' if distinct else ''} }}"
                    parts.append(("EXISTS " if predicate == SH.minCount else "NOT EXISTS ") + test)
                elif predicate in (SH.property, SH.closed, SH.uniqueLang, SH.equals, SH.disjoint,
                                   SH.lessThan, SH.lessThanOrEquals, SH.qualifiedValueShape):
                    raise UnsupportedShape(f"{predicate.n3()} in a member property shape")
                elif predicate == SH.hasValue:
                    parts.append(f"EXISTS {{ {var} {path} {self._term(value, 'sh:hasValue')} }}")
                else:
                    inner = self.member(x, self._only(shape, predicate, value), reads, depth + 1)
                    parts.append(f"NOT EXISTS {{ {var} {path} {x} . FILTER(!({inner})) }}")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def _only(self, shape: Node, predicate: URIRef, value: Node) -> Node:
        """A blank shape holding one constraint of ``shape`` (and the flags a pattern goes with)."""
        node = BNode()
        self.shapes.add((node, predicate, value))
        if predicate == SH.pattern:
            for flags in self.shapes.objects(shape, SH.flags):
                self.shapes.add((node, SH.flags, flags))
        return node

    def logical(self, var: str, predicate: URIRef, value: Node, reads: set[str], depth: int) -> str:
        """True when ``var`` satisfies sh:not / sh:and / sh:or / sh:xone / sh:node ``value``."""
        if predicate == SH["not"]:
            return f"!({self.member(var, value, reads, depth + 1)})"
        if predicate == SH.node:
            return self.member(var, value, reads, depth + 1)
        conds = [self.member(var, m, reads, depth + 1) for m in self.members(value, predicate.n3())]
        if predicate == SH["and"]:
            return "(" + " && ".join(conds) + ")" if conds else "true"
        if predicate == SH["or"]:
            return "(" + " || ".join(conds) + ")" if conds else "false"
        return "(" + " + ".join(f"IF({c}, 1, 0)" for c in conds) + " = 1)" if conds else "false"


def roots(shapes: Graph) -> list[Node]:
    """The shapes with a target, declared or implicit (a shape that is also an rdfs:Class)."""
    found: set[Node] = set()
    for predicate in (*_TARGETS, SH.target):
        found |= set(shapes.subjects(predicate, None))
    for kind in (SH.NodeShape, SH.PropertyShape):
        found |= {s for s in shapes.subjects(RDF.type, kind) if (s, RDF.type, RDFS.Class) in shapes}
    return sorted(found, key=lambda n: (isinstance(n, BNode), str(n)))


def plan(shapes: Graph, subclasses: Subclasses, raw: RawTerms | None = None) -> Plan:
    """Split the shapes with targets into SPARQL checks and shapes for the complete engine."""
    compiler = _Compiler(_copy(shapes), subclasses)
    result = Plan()
    for root in roots(shapes):
        reads: set[str] = set()
        try:
            deactivated = compiler.one(root, SH.deactivated)
            if deactivated is not None and _truthy(deactivated, root, "sh:deactivated"):
                continue
            if (root, RDF.type, RDFS.Class) not in shapes and (root, RDF.type, URIRef(
                    "http://www.w3.org/2002/07/owl#Class")) in shapes:
                raise UnsupportedShape("an owl:Class that is a shape (is it an implicit class target?)")
            focus = compiler.focus(root, reads, result)
            checks = compiler.shape(root, focus, reads, result, root)
        except UnsupportedShape as why:
            result.handed_off[root] = "not translated to SPARQL: " + re.sub(
                r"<http://www\.w3\.org/ns/shacl#(\w+)>", r"sh:\1", str(why))
            continue
        result.by_root[root] = checks
        result.reads[root] = reads
    if raw:
        changed, retyped = raw.predicates, raw.retyped
        result.without([r for r, reads in result.reads.items() if r in result.by_root and (
            reads & retyped or result.lexical.get(r, set()) & changed)],
            "reads literals the store keeps in another form than the data's (such as \"5\"^^xsd:int, "
            "\"1.0\"^^xsd:decimal); checked on the terms as written")
    result.checks = [c for checks in result.by_root.values() for c in checks]
    return result


@lru_cache(maxsize=256)
def _unchecked(datatype: URIRef) -> bool:
    """Whether rdflib has no lexical check for ``datatype`` (``ill_typed`` is None for any form)."""
    return Literal("\u0000 not a value \u0000", datatype=datatype).ill_typed is None


def _copy(shapes: Graph) -> Graph:
    copy = Graph()
    for triple in shapes:
        copy.add(triple)
    return copy


def compiled_checks(subclasses: Subclasses | None = None) -> tuple[Check, ...]:
    """Every check of ``ontology/shapes.ttl`` for a class hierarchy (by default, the ontology's)."""
    if subclasses is None:
        subclasses = _subclasses_in(ontology_store())
    return _project_plan(tuple(sorted((k, tuple(sorted(v))) for k, v in subclasses.items()))).checks_tuple


@dataclass
class _Cached:
    plan: Plan
    checks_tuple: tuple[Check, ...]


@lru_cache(maxsize=8)
def _project_plan(subclasses: tuple[tuple[str, tuple[str, ...]], ...]) -> _Cached:
    made = plan(shapes_graph(), {k: frozenset(v) for k, v in subclasses})
    return _Cached(made, tuple(made.checks))


@lru_cache(maxsize=1)
def ontology_store() -> ox.Store:
    store = ox.Store()
    store.extend(graph_to_quads(ontology_graph()))
    return store


def _subclasses_in(store: ox.Store) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for solution in store.query(_SUBCLASSES):
        found.setdefault(solution["super"].value, set()).add(solution["sub"].value)
    return {k: frozenset(v) for k, v in found.items()}


def _subclass_key(store: ox.Store) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((k, tuple(sorted(v))) for k, v in _subclasses_in(store).items()))


def plan_for(store: ox.Store, shapes: Graph | None = None, raw: RawTerms | None = None) -> Plan:
    """The plan of ``shapes`` (by default the project's, cached) for the class hierarchy in ``store``."""
    key = _subclass_key(store)
    if shapes is None and not raw:
        return _project_plan(key).plan
    return plan(shapes if shapes is not None else shapes_graph(), {k: frozenset(v) for k, v in key}, raw)


_ILL_TYPED: dict[tuple[str, str], bool] = {}


# Lexical forms certainly well formed (rdflib agrees), checked without building an rdflib term.
_SURELY_WELL_FORMED = {
    str(XSD.integer): re.compile(r"[+-]?[0-9]+"),
    str(XSD.decimal): re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"),
    str(XSD.boolean): re.compile(r"true|false|1|0"),
    str(XSD.date): re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"),
}


def _ill_typed(literal: ox.Literal, datatype: URIRef) -> bool:
    surely = _SURELY_WELL_FORMED.get(str(datatype))
    if surely is not None and surely.fullmatch(literal.value):
        return False
    key = (literal.value, str(datatype))
    if key not in _ILL_TYPED:
        if len(_ILL_TYPED) > 200_000:
            _ILL_TYPED.clear()
        _ILL_TYPED[key] = bool(Literal(literal.value, datatype=datatype).ill_typed)
    return _ILL_TYPED[key]


def run_checks(store: ox.Store, checks: Iterable[Check], focus_nodes: Iterable[str] | None = None,
               label: str = "validating") -> list[Result]:
    """Run ``checks`` on ``store`` (on every core); the results, one per violation."""
    checks = list(checks)
    wanted = set(focus_nodes) if focus_nodes is not None else None
    queries = [c for c in checks if c.datatype is None]
    typed = [c for c in checks if c.datatype is not None]
    by_predicate = _ill_formed(store, {(str(c.path), c.datatype) for c in typed if isinstance(c.path, URIRef)})
    ill: dict[Check, list[str]] = {}
    for c in typed:
        if isinstance(c.path, URIRef):
            found = by_predicate.get((str(c.path), str(c.datatype)), [])
        else:  # a node shape or a longer path: the literals among this check's own value nodes
            found = [str(s["v"]) for s in store.query(c.query)
                     if isinstance(s["v"], ox.Literal) and _ill_typed(s["v"], c.datatype)]  # type: ignore[arg-type]
        if found:
            ill[c] = found
    lexical = list(ill)

    def run(check: Check) -> list[ox.QuerySolution]:
        if check.datatype is None:
            return list(store.query(check.query))
        return list(store.query(check.rows % " ".join(ill[check])))  # type: ignore[operator]

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        todo = queries + lexical
        answers = list(progress(zip(todo, pool.map(run, todo), strict=True), label, len(todo)))
    results: list[Result] = []
    seen: set[tuple] = set()
    for check, solutions in answers:
        for solution in solutions:
            focus = solution["f"]
            if wanted is not None and focus.value not in wanted:
                continue
            index = int(solution["c"].value) if check.datatype is None else 0
            if index >= 0:
                violated = [check.parts[index]]
            else:
                n = int(solution["n"].value)
                violated = [p for p in check.parts if p.bound is not None and (
                    n < p.bound[1] if p.bound[0] == "<" else n > p.bound[1])]
            for part in violated:
                value = _get(solution, "v") if part.with_value else None
                predicate = _get(solution, "p")
                extra = _get(solution, "k")
                key = (focus, check.shape, part.component, part.param, check.path, value, predicate, extra)
                if key in seen:
                    continue
                seen.add(key)
                results.append(Result(
                    focus=raw_term(focus), component=part.component, shape=check.shape,
                    path=URIRef(predicate.value) if predicate is not None else check.path,
                    value=raw_term(value) if value is not None else None,
                    severity=check.severity, messages=check.messages))
    return results


def _ill_formed(store: ox.Store, pairs: set[tuple[str, URIRef]]) -> dict[tuple[str, str], list[str]]:
    """(predicate, datatype) -> the ill-formed literals of the datatype among the predicate's objects.

    One pass over each predicate's distinct literals of those datatypes;
    rdflib judges each lexical form (what pySHACL does). Oxigraph keeps an
    ill-formed literal exactly as written, so this sees the data's own terms.
    """
    found: dict[tuple[str, str], list[str]] = {}
    if not pairs:
        return found
    rows = " ".join(f"({_n3(URIRef(p))} {_n3(d)})" for p, d in sorted(pairs))
    query = (f"SELECT DISTINCT ?p ?v WHERE {{ VALUES (?p ?d) {{ {rows} }} ?s ?p ?v "
             "FILTER(isLiteral(?v) && datatype(?v) = ?d) }")
    for solution in store.query(query):
        literal = solution["v"]
        if _ill_typed(literal, URIRef(literal.datatype.value)):
            found.setdefault((solution["p"].value, literal.datatype.value), []).append(str(literal))
    return found


def _get(solution: ox.QuerySolution, name: str) -> ox.NamedNode | ox.Literal | ox.BlankNode | None:
    try:
        return solution[name]
    except KeyError:
        return None


def check_store(store: ox.Store, shapes: Graph | None = None, raw: RawTerms | None = None,
                focus_nodes: Iterable[str] | None = None, data: Graph | None = None) -> Results:
    """Validate the default graph of ``store`` against ``shapes`` (the project's by default), completely.

    The translated shapes run here; the others go to the complete engine on
    the same graph with its literals as written (``raw``, or ``data`` when
    the caller has the graph as written already).
    """
    from kg.checks.complete import check_with_complete_engine

    made = plan_for(store, shapes, raw)
    graph = shapes if shapes is not None else shapes_graph()
    results = Results(graph, run_checks(store, made.checks, focus_nodes), dict(made.handed_off))
    if made.handed_off:
        results.results += check_with_complete_engine(store, graph, list(made.handed_off), raw, focus_nodes, data)
    _describe_blanks(store, results)
    return results


def _describe_blanks(store: ox.Store, results: Results) -> None:
    """Copy the data's triples about blank focus nodes and values (and the blank nodes they lead to)."""
    stack = [n for r in results.results for n in (r.focus, r.value) if isinstance(n, BNode)]
    seen: set[Node] = set()
    while stack and len(seen) < 10_000:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for quad in store.quads_for_pattern(ox.BlankNode(str(node)), None, None, ox.DefaultGraph()):
            o = raw_term(quad.object)
            results.blanks.add((node, URIRef(quad.predicate.value), o))
            if isinstance(o, BNode):
                stack.append(o)


def validate_store(store: ox.Store, catalog: Catalog | None = None,
                   focus_nodes: Iterable[str] | None = None, shapes: Graph | None = None,
                   raw: RawTerms | None = None) -> Report:
    """Validate the default graph of ``store`` (optionally only ``focus_nodes``) against our shapes.

    ``shapes`` replaces the project's shapes (``kg.checks.files.shapes_with`` adds
    a user's to them); ``raw`` lists the literals the store holds in another
    form than they were written.
    """
    wanted = list(focus_nodes) if focus_nodes is not None else None
    results = check_store(store, shapes, raw, wanted)
    return to_report(store, results, catalog or load_catalog(), wanted)


def to_report(store: ox.Store, results: Results, catalog: Catalog, wanted: list[str] | None = None) -> Report:
    """The project's report: each result traced back to its CSV file, line and column."""
    violations: list[Violation] = []
    for r in results.results:
        focus = to_oxigraph(r.focus)
        file = line = None
        if not isinstance(focus, ox.Literal):
            file = _first(store, focus, TKG.sourceFile)
            line = _first(store, focus, TKG.sourceLine)
        path = str(r.path) if isinstance(r.path, URIRef) else None
        violations.append(Violation(
            message=str(r.messages[0]) if r.messages else _default_message(r),
            severity=str(r.severity).rsplit("#", 1)[-1],
            focus=str(r.focus),
            path=path,
            value=str(r.value) if r.value is not None else None,
            file=file,
            line=int(line) if line is not None else None,
            column=_column(store, catalog, focus, path),
        ))
    if wanted is not None:
        checked = len(wanted)
    else:
        # The data's nodes, as pySHACL's report counts them: the ontology's classes and concepts are not checked.
        ontology = {str(s) for s in ontology_graph().subjects(RDF.type, None)}
        checked = len({q.subject.value for q in store.quads_for_pattern(None, ox.NamedNode(str(RDF.type)), None,
                                                                        ox.DefaultGraph())} - ontology)
    blocking = [v for v in violations if v.severity == "Violation"]
    from_rows = [v for v in violations if v.file is not None]
    hidden = len(violations) - len(from_rows) if from_rows else 0
    return Report(conforms=not blocking, violations=from_rows or violations, nodes_checked=checked,
                  hidden_derived=hidden, handed_off={str(k): v for k, v in results.handed_off.items()})


def _default_message(r: Result) -> str:
    component = str(r.component).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
    return f"violates sh:{component[0].lower()}{component[1:]} of shape {r.shape.n3()}"


def _column(store: ox.Store, catalog: Catalog, focus: object, path: str | None) -> str | None:
    if path is None or isinstance(focus, ox.Literal):
        return None
    for quad in store.quads_for_pattern(focus, ox.NamedNode(str(RDF.type)), None, ox.DefaultGraph()):
        table = catalog.by_class(quad.object.value)
        if table is not None:
            return table.column_for_predicate(path)
    return None


def _first(store: ox.Store, subject: object, predicate: URIRef) -> str | None:
    for quad in store.quads_for_pattern(subject, ox.NamedNode(str(predicate)), None, ox.DefaultGraph()):
        return quad.object.value
    return None
