"""Our SHACL shapes, checked by Oxigraph's SPARQL engine instead of pySHACL.

pySHACL walks every focus node in Python: about 0.4 ms per triple on our
shapes, so minutes at a million triples (benchmarks/README.md). The shapes
in ``ontology/shapes.ttl`` use a small set of SHACL Core components
(minCount, maxCount, datatype, pattern, class, in, or, lessThanOrEquals,
minInclusive, maxInclusive, nodeKind). Each (target class, property shape) pair is turned
into one SPARQL SELECT that returns the violating focus nodes and values, run
where the data already is (the on-disk or in-memory Oxigraph store).

The translation is generic (it reads the shapes graph; no shape is written
here), refuses any component it does not know rather than skipping it, and
``tests/test_shaclsparql.py`` checks that it gives the same results as
pySHACL on the shape fixtures, the curated graph and the imported CSL rows.
Results come back as ``kg.validate.Report``, mapped to file:line: column the
same way.

Two things make it fast at a million triples (measured with
``benchmarks/run.py``): "instance of C" (``rdf:type/rdfs:subClassOf*``) is
written as a VALUES list of C and its subclasses, read from the validated
store itself, since a property path inside a NOT EXISTS costs about four
times a plain pattern per row; and the checks run on as many threads as there
are cores, as Oxigraph evaluates queries without holding the GIL.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH, XSD
from rdflib.term import Node

from kg.namespaces import TKG
from kg.ontology import ontology_graph, shapes_graph
from kg.progress import progress
from kg.tables import Catalog, load_catalog
from kg.terms import graph_to_quads, to_oxigraph, to_rdflib
from kg.validate import Report, Violation

_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_SUBCLASSES = """SELECT ?sub ?super WHERE {
  ?sub <http://www.w3.org/2000/01/rdf-schema#subClassOf>+ ?super . FILTER(isIRI(?sub) && isIRI(?super)) }"""

# Class IRI -> the IRIs of its strict subclasses in the validated graph.
Subclasses = Mapping[str, frozenset[str]]
_CASTS = {str(XSD.date), str(XSD.integer), str(XSD.decimal), str(XSD.boolean)}
_KNOWN = {SH.path, SH.name, SH.message, SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.pattern, SH["in"],
          SH["or"], SH.lessThanOrEquals, SH.minInclusive, SH.maxInclusive, SH.nodeKind, RDF.type, SH.description}


class UnsupportedShape(ValueError):
    """The shapes use a SHACL component this translation does not know."""


@dataclass(frozen=True)
class Check:
    target: str  # class IRI
    shape: str  # property or node shape IRI
    path: str | None
    message: str
    query: str


def _n3(term: Node) -> str:
    return str(to_oxigraph(term))


class _Compiler:
    """Writes the SPARQL of the checks for one class hierarchy (that of the validated graph)."""

    def __init__(self, shapes: Graph, subclasses: Subclasses):
        self.shapes = shapes
        self.subclasses = subclasses
        self.fresh = itertools.count()

    def instance(self, var: str, cls: Node) -> str:
        """A pattern matching ``var`` when it is a SHACL instance of ``cls`` (rdf:type/rdfs:subClassOf*)."""
        classes = sorted({str(cls)} | self.subclasses.get(str(cls), frozenset()))
        if len(classes) == 1:
            return f"{var} {_RDF_TYPE} {_n3(cls)} ."
        t = f"?class{next(self.fresh)}"
        return f"VALUES {t} {{ {' '.join(_n3(URIRef(c)) for c in classes)} }} {var} {_RDF_TYPE} {t} ."


def _value_condition(compiler: _Compiler, node: Node, var: str = "?v",
                     inline_cast: bool = False) -> list[tuple[str, str]]:
    """(component, SPARQL condition that is true when ``var`` violates it) for value-level constraints.

    ``inline_cast``: a sh:or member checks a well-formed typed value with its own
    cast (there is no ``?v_cast`` binding for it: the property shape has no
    sh:datatype of its own).
    """
    shapes = compiler.shapes
    conds: list[tuple[str, str]] = []
    datatype = shapes.value(node, SH.datatype)
    if datatype is not None:
        cond = f"(!isLiteral({var}) || datatype({var}) != {_n3(datatype)} || langMatches(lang({var}), \"*\")"
        if str(datatype) in _CASTS and inline_cast:
            cond += f" || COALESCE(datatype({_n3(datatype)}(STR({var}))) != {_n3(datatype)}, true)"
        elif str(datatype) in _CASTS:
            cond += f" || !BOUND({var}_cast)"
        conds.append(("datatype", cond + ")"))
    pattern = shapes.value(node, SH.pattern)
    if pattern is not None:
        conds.append(("pattern", f"(isBlank({var}) || !REGEX(STR({var}), {_n3(Literal(str(pattern)))}))"))
    cls = shapes.value(node, SH["class"])
    if cls is not None:
        conds.append(("class", f"NOT EXISTS {{ {compiler.instance(var, cls)} }}"))
    members = shapes.value(node, SH["in"])
    if members is not None:
        allowed = ", ".join(_n3(m) for m in Collection(shapes, members))
        conds.append(("in", f"({var} NOT IN ({allowed}))"))
    minimum = shapes.value(node, SH.minInclusive)
    if minimum is not None:
        conds.append(("minInclusive", f"!COALESCE({var} >= {_n3(minimum)}, false)"))
    maximum = shapes.value(node, SH.maxInclusive)
    if maximum is not None:
        conds.append(("maxInclusive", f"!COALESCE({var} <= {_n3(maximum)}, false)"))
    kind = shapes.value(node, SH.nodeKind)
    if kind is not None:
        if kind != SH.IRI:
            raise UnsupportedShape(f"sh:nodeKind {kind} is not translated")
        conds.append(("nodeKind", f"!isIRI({var})"))
    alternatives = shapes.value(node, SH["or"])
    if alternatives is not None and shapes.value(node, SH.path) is not None:
        parts = []
        for member in Collection(shapes, alternatives):
            member_conds = _value_condition(compiler, member, var, inline_cast=True)
            if not member_conds or set(shapes.predicates(member)) - {SH["class"], SH.datatype, SH.nodeKind}:
                raise UnsupportedShape(f"sh:or member {member} of a property shape is not translated")
            parts.append("(" + " || ".join(c for _, c in member_conds) + ")")
        conds.append(("or", "(" + " && ".join(parts) + ")"))
    return conds


def _checks_for(compiler: _Compiler, target: URIRef, node_shape: Node) -> list[Check]:
    shapes = compiler.shapes
    checks: list[Check] = []
    focus = compiler.instance("?f", target)
    node_message = str(shapes.value(node_shape, SH.message) or "")
    alternatives = shapes.value(node_shape, SH["or"])
    if alternatives is not None:
        parts = []
        for member in Collection(shapes, alternatives):
            path = shapes.value(member, SH.path)
            minimum = shapes.value(member, SH.minCount)
            if path is None or minimum is None or int(minimum) != 1 or set(shapes.predicates(member)) - {
                    SH.path, SH.minCount}:
                raise UnsupportedShape(f"node-level sh:or member {member} is not translated")
            parts.append(f"NOT EXISTS {{ ?f {_n3(path)} ?x }}")
        query = f"SELECT ?f (?f AS ?v) (\"or\" AS ?c) WHERE {{ {focus} FILTER({' && '.join(parts)}) }}"
        checks.append(Check(str(target), str(node_shape), None, node_message, query))
    for prop in shapes.objects(node_shape, SH.property):
        unknown = set(shapes.predicates(prop)) - _KNOWN
        if unknown:
            raise UnsupportedShape(f"{prop} uses {sorted(map(str, unknown))}")
        path = shapes.value(prop, SH.path)
        if not isinstance(path, URIRef):
            raise UnsupportedShape(f"{prop}: only predicate paths are translated")
        p = _n3(path)
        message = str(shapes.value(prop, SH.message) or "")
        branches = []
        conds = _value_condition(compiler, prop)
        if conds:
            datatype = shapes.value(prop, SH.datatype)
            cast = f"BIND({_n3(datatype)}(STR(?v)) AS ?v_cast)" if datatype is not None and str(
                datatype) in _CASTS else ""
            for component, cond in conds:
                branches.append(f"{{ {focus} ?f {p} ?v . {cast} FILTER({cond}) BIND(\"{component}\" AS ?c) }}")
        other = shapes.value(prop, SH.lessThanOrEquals)
        if other is not None:
            branches.append(f"{{ {focus} ?f {p} ?v . ?f {_n3(other)} ?w . FILTER(!COALESCE(?v <= ?w, false)) "
                            "BIND(\"lessThanOrEquals\" AS ?c) }")
        low, high = shapes.value(prop, SH.minCount), shapes.value(prop, SH.maxCount)
        if low is not None or high is not None:
            having = []
            if low is not None:
                having.append(f"COUNT(DISTINCT ?x) < {int(low)}")
            if high is not None:
                having.append(f"COUNT(DISTINCT ?x) > {int(high)}")
            component = f"IF(?n < {int(low)}, \"minCount\", \"maxCount\")" if low is not None else "\"maxCount\""
            branches.append(f"{{ {{ SELECT ?f (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {focus} OPTIONAL {{ ?f {p} ?x }} }} "
                            f"GROUP BY ?f HAVING ({' || '.join(having)}) }} BIND({component} AS ?c) }}")
        if branches:
            query = "SELECT ?f ?v ?c WHERE { " + " UNION ".join(branches) + " }"
            checks.append(Check(str(target), str(prop), str(path), message, query))
    return checks


def compiled_checks(subclasses: Subclasses | None = None) -> tuple[Check, ...]:
    """Every check of ``ontology/shapes.ttl`` for a class hierarchy (by default, the ontology's)."""
    if subclasses is None:
        subclasses = _subclasses_in(ontology_store())
    return _compiled(tuple(sorted((k, tuple(sorted(v))) for k, v in subclasses.items())))


@lru_cache(maxsize=8)
def _compiled(subclasses: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[Check, ...]:
    shapes = shapes_graph()
    compiler = _Compiler(shapes, {k: frozenset(v) for k, v in subclasses})
    checks: list[Check] = []
    for node_shape in sorted(shapes.subjects(RDF.type, SH.NodeShape), key=str):
        for target in shapes.objects(node_shape, SH.targetClass):
            assert isinstance(target, URIRef)
            checks += _checks_for(compiler, target, node_shape)
    return tuple(checks)


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


def _first(store: ox.Store, subject: ox.NamedNode | ox.BlankNode, predicate: URIRef) -> str | None:
    for quad in store.quads_for_pattern(subject, ox.NamedNode(str(predicate)), None, ox.DefaultGraph()):
        return quad.object.value
    return None


def validate_store(store: ox.Store, catalog: Catalog | None = None,
                   focus_nodes: Iterable[str] | None = None) -> Report:
    """Validate the default graph of ``store`` (optionally only ``focus_nodes``) against our shapes."""
    catalog = catalog or load_catalog()
    wanted = set(focus_nodes) if focus_nodes is not None else None
    violations: list[Violation] = []
    seen: set[tuple[str, str, str | None, str]] = set()
    checks = compiled_checks(_subclasses_in(store))

    def run(check: Check) -> list[ox.QuerySolution]:
        return list(store.query(check.query))

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        answers = list(progress(zip(checks, pool.map(run, checks), strict=True), "validating", len(checks)))
    for check, solutions in answers:
        for solution in solutions:
            focus = solution["f"]
            if wanted is not None and focus.value not in wanted:
                continue
            value = solution["v"]
            key = (focus.value, check.shape, str(value) if value is not None else None, solution["c"].value)
            if key in seen:
                continue
            seen.add(key)
            table = catalog.by_class(check.target)
            file = _first(store, focus, TKG.sourceFile)
            line = _first(store, focus, TKG.sourceLine)
            violations.append(Violation(
                message=check.message or "violates a shape",
                severity="Violation",
                focus=focus.value,
                path=check.path,
                value=str(to_rdflib(value)) if value is not None and solution["c"].value not in (
                    "minCount", "maxCount") else None,
                file=file,
                line=int(line) if line is not None else None,
                column=table.column_for_predicate(check.path) if table is not None and check.path else None,
            ))
    if wanted is not None:
        checked = len(wanted)
    else:
        # The data's nodes, as pySHACL's report counts them: the ontology's classes and concepts are not checked.
        ontology = {str(s) for s in ontology_graph().subjects(RDF.type, None)}
        checked = len({q.subject.value for q in store.quads_for_pattern(None, ox.NamedNode(str(RDF.type)), None,
                                                                        ox.DefaultGraph())} - ontology)
    from_rows = [v for v in violations if v.file is not None]
    hidden = len(violations) - len(from_rows) if from_rows else 0
    return Report(conforms=not violations, violations=from_rows or violations, nodes_checked=checked,
                  hidden_derived=hidden)
