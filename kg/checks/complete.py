"""The complete engine: pySHACL, for exactly the shapes the SPARQL translation hands it.

Why pySHACL. Measured on the W3C SHACL core suite (98 tests) and on our
shapes at 100k and 1M triples (``benchmarks/shacl_engines.py``): pySHACL
agrees with 97 core tests, and runs every SHACL-SPARQL test;
pyshacl-turbo 0.6.5 agreed with 95 (it misses an ``sh:or`` of datatypes) at
7x pySHACL's speed; rudof (pyrudof 0.3.35) with 88 and shacl-rust 0.2.12
with 76. The complete engine only sees the shapes the translation does not
implement (usually none; a user's unusual addition at most), so being right
on every test matters more than speed, and pySHACL is already a dependency.

The handed-off shapes are validated alone: every other shape keeps its
constraints (a handed-off shape may refer to it through ``sh:node``) but
loses its targets, so nothing is checked twice. The data graph is the
store's default graph with its literals restored as written
(``kg.checks.rawterms``).

A shape pySHACL would pass over without a word (a term that is not in the
SHACL vocabulary, a JavaScript constraint, a constraint component with no
SPARQL validator) is refused (``ShapesRefused``) before anything runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from kg.checks.rawterms import RawTerms
from kg.checks.read import raw_graph
from kg.checks.results import Result
from kg.errors import TradekgError

_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)

# Every term of the SHACL vocabulary (https://www.w3.org/ns/shacl.ttl) pySHACL reads or may meet.
_NAMES = (
    "AbstractResult AndConstraintComponent BlankNode BlankNodeOrIRI BlankNodeOrLiteral "
    "ClassConstraintComponent ClosedConstraintComponent ConstraintComponent DatatypeConstraintComponent "
    "DisjointConstraintComponent EqualsConstraintComponent HasValueConstraintComponent IRI IRIOrLiteral "
    "InConstraintComponent Info LanguageInConstraintComponent LessThanConstraintComponent "
    "LessThanOrEqualsConstraintComponent Literal MaxCountConstraintComponent MaxExclusiveConstraintComponent "
    "MaxInclusiveConstraintComponent MaxLengthConstraintComponent MinCountConstraintComponent "
    "MinExclusiveConstraintComponent MinInclusiveConstraintComponent MinLengthConstraintComponent "
    "NodeConstraintComponent NodeKind NodeKindConstraintComponent NodeShape NotConstraintComponent "
    "OrConstraintComponent Parameter Parameterizable PatternConstraintComponent PrefixDeclaration "
    "PropertyConstraintComponent PropertyGroup PropertyShape QualifiedMaxCountConstraintComponent "
    "QualifiedMinCountConstraintComponent ResultAnnotation Severity Shape SPARQLAskExecutable SPARQLAskValidator "
    "SPARQLConstraint SPARQLConstraintComponent SPARQLConstructExecutable SPARQLExecutable SPARQLSelectExecutable "
    "SPARQLSelectValidator SPARQLTarget SPARQLTargetType SPARQLUpdateExecutable Target TargetType "
    "UniqueLangConstraintComponent ValidationReport ValidationResult Validator Violation Warning "
    "XoneConstraintComponent alternativePath and annotationProperty annotationValue annotationVarName ask class "
    "closed condition conforms construct datatype deactivated declare defaultValue description detail disjoint "
    "entailment equals filterShape flags focusNode group hasValue ignoredProperties in inversePath languageIn "
    "lessThan lessThanOrEquals maxCount maxExclusive maxInclusive maxLength message minCount minExclusive "
    "minInclusive minLength name namespace node nodeKind nodeValidator not oneOrMorePath optional or order "
    "parameter path pattern prefix prefixes property propertyValidator qualifiedMaxCount qualifiedMinCount "
    "qualifiedValueShape qualifiedValueShapesDisjoint result resultAnnotation resultMessage resultPath "
    "resultSeverity returnType rule select severity shapesGraph shapesGraphWellFormed sourceConstraint "
    "sourceConstraintComponent sourceShape sparql suggestedShapesGraph target targetClass targetNode "
    "targetObjectsOf targetSubjectsOf uniqueLang update validator value xone zeroOrMorePath zeroOrOnePath "
    # SHACL Advanced Features pySHACL reads with advanced=True.
    "this TripleRule SPARQLRule SPARQLFunction JSConstraint order subject object predicate "
    "intersection union filterShape nodes expression SPARQLTarget"
)
SHACL_TERMS = {SH[t] for t in _NAMES.split()}
_JS = {SH.js, SH.jsFunctionName, SH.jsLibrary, SH.JSConstraint, SH.JSConstraintComponent}


class ShapesRefused(TradekgError):
    """A shape neither engine checks as written; nothing was validated or written (exit code 2)."""


def refusals(shapes: Graph, roots: Iterable[Node]) -> list[str]:
    """Why the complete engine cannot be trusted with ``roots`` (empty: it can)."""
    problems: list[str] = []
    components_without_validator = {
        c for c in set(shapes.subjects(SH.parameter, None))
        if not any((c, p, None) in shapes for p in (SH.validator, SH.nodeValidator, SH.propertyValidator))}
    parameters = {p: c for c in components_without_validator for decl in shapes.objects(c, SH.parameter)
                  for p in shapes.objects(decl, SH.path)}
    for root in roots:
        for shape in _reachable(shapes, root):
            name = _name(root) + ("" if shape == root else f" (through {_name(shape)})")
            for predicate in set(shapes.predicates(shape)):
                if str(predicate).startswith(str(SH)) and (predicate not in SHACL_TERMS or predicate in _JS):
                    problems.append(f"shape {name} uses {predicate.n3()}, which "
                                    + ("is a JavaScript constraint (SHACL-JS is not run)" if predicate in _JS
                                       else "is not a term of the SHACL vocabulary"))
                if predicate in parameters:
                    problems.append(f"shape {name} uses {predicate.n3()}, a parameter of constraint component "
                                    f"{_name(parameters[predicate])}, which has no SPARQL validator")
    return problems


def _name(node: Node) -> str:
    return node.n3() if not isinstance(node, BNode) else "[blank node]"


def _reachable(shapes: Graph, root: Node) -> list[Node]:
    """``root`` and every shape it refers to (sh:property, sh:node, logical and qualified members)."""
    seen: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node in seen or isinstance(node, Literal):
            continue
        seen.append(node)
        for p in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape):
            stack += list(shapes.objects(node, p))
        for p in (SH["and"], SH["or"], SH.xone):
            for head in shapes.objects(node, p):
                stack += [m for m in shapes.items(head)]
    return seen


def only(shapes: Graph, roots: Iterable[Node]) -> Graph:
    """A copy of ``shapes`` in which only ``roots`` keep their targets."""
    keep = set(roots)
    copy = Graph()
    for prefix, namespace in shapes.namespaces():
        copy.bind(prefix, namespace, override=True)
    for s, p, o in shapes:
        if s not in keep and (p in _TARGETS or (p == RDF.type and o == RDFS.Class and (
                (s, RDF.type, SH.NodeShape) in shapes or (s, RDF.type, SH.PropertyShape) in shapes))):
            continue
        copy.add((s, p, o))
    return copy


def check_with_complete_engine(store: ox.Store, shapes: Graph, roots: list[Node], raw: RawTerms | None,
                               focus_nodes: Iterable[str] | None = None, data: Graph | None = None) -> list[Result]:
    """Validate the data in ``store`` (or ``data``, as written) against ``roots`` of ``shapes`` with pySHACL."""
    problems = refusals(shapes, roots)
    if problems:
        raise ShapesRefused("refused, nothing was written:\n  " + "\n  ".join(problems))
    if data is None:
        data = raw_graph(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
        if raw:
            raw.restore(data)
    # pySHACL resolves a prefix a SPARQL constraint uses but does not declare through the data
    # graph's bindings: give it the shapes files' own.
    for prefix, namespace in shapes.namespaces():
        data.bind(prefix, namespace, override=False)
    try:
        return validate_with_pyshacl(data, only(shapes, roots), focus_nodes)
    except ShapesRefused as error:
        names = ", ".join(_name(r) for r in roots)
        raise ShapesRefused(f"refused, nothing was written: shape(s) {names}, which the SPARQL translation does "
                            f"not check, go to pySHACL, which cannot check them: {error}") from None


def validate_with_pyshacl(data: Graph, shapes: Graph, focus_nodes: Iterable[str] | None = None) -> list[Result]:
    from pyshacl import validate

    logging.getLogger("pyshacl").setLevel(logging.ERROR)
    try:
        _, report, _ = validate(data, shacl_graph=shapes, inference="none", advanced=True, abort_on_first=False,
                                allow_infos=True, allow_warnings=True)
    except Exception as error:
        raise ShapesRefused(str(error)) from error
    if not isinstance(report, Graph):  # pySHACL's ValidationFailure: shapes it will not run
        raise ShapesRefused(str(getattr(report, "message", report)))
    wanted = {URIRef(n) for n in focus_nodes} if focus_nodes is not None else None
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(node, SH.focusNode)
        if wanted is not None and focus not in wanted:
            continue
        path = report.value(node, SH.resultPath)
        results.append(Result(
            focus=focus,
            component=report.value(node, SH.sourceConstraintComponent),
            shape=report.value(node, SH.sourceShape),
            path=path,
            value=report.value(node, SH.value),
            severity=report.value(node, SH.resultSeverity) or SH.Violation,
            messages=tuple(m for m in report.objects(node, SH.resultMessage) if isinstance(m, Literal)),
            structure=report if isinstance(path, BNode) else None,
        ))
    return results
