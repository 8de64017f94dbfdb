"""The W3C SHACL test suite: read its manifests, compare a validator's report with the expected one.

Shared by ``tests/test_w3c_shacl.py`` and ``benchmarks/w3c_engines.py``. The
suite lives outside the project (``REPO.parent/"shared"/"conformance"``); a
test is one ``sht:Validate`` entry whose action names a data graph and a
shapes graph and whose result is the expected ``sh:ValidationReport``.

Reports are compared as the suite's notes say: on ``sh:conforms`` and on the
multiset of (focus node, result path, source constraint component), blank
nodes compared by structure (a blank focus node by its outgoing triples, a
blank path by the path expression it spells).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, BNode, Graph, Namespace
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

SUITE = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance" / "w3c-shacl" / "tests"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")


@dataclass(frozen=True)
class SuiteTest:
    name: str  # e.g. core/node/class-001
    file: Path
    data: Path
    shapes: Path
    conforms: bool
    results: Counter  # of (focus, path, component) keys
    failure: bool = False  # the suite expects a failure (sht:Failure): shapes an engine must refuse


def _local(iri: Node) -> Path:
    return Path(str(iri).removeprefix("file://"))


def tests(folder: str = "core") -> list[SuiteTest]:
    """Every test under ``SUITE/folder``, in manifest order."""
    found: list[SuiteTest] = []
    _walk(SUITE / folder / "manifest.ttl", found)
    return found


def _walk(manifest: Path, found: list[SuiteTest]) -> None:
    graph = Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
    for included in graph.objects(None, MF.include):
        path = _local(included)
        if path.name == "manifest.ttl":
            _walk(path, found)
        else:
            _read_test(path, found)
    for entries in graph.objects(None, MF.entries):
        _entries(graph, entries, manifest, found)


def _read_test(path: Path, found: list[SuiteTest]) -> None:
    graph = Graph().parse(path, format="turtle", publicID=path.as_uri())
    for entries in graph.objects(None, MF.entries):
        _entries(graph, entries, path, found)


def _entries(graph: Graph, entries: Node, file: Path, found: list[SuiteTest]) -> None:
    for entry in Collection(graph, entries):
        if (entry, RDF.type, SHT.Validate) not in graph:
            continue
        action = graph.value(entry, MF.action)
        result = graph.value(entry, MF.result)
        data, shapes = graph.value(action, SHT.dataGraph), graph.value(action, SHT.shapesGraph)
        conforms = graph.value(result, SH.conforms)
        name = file.relative_to(SUITE).with_suffix("").as_posix()
        found.append(SuiteTest(name=name, file=file, data=_local(data), shapes=_local(shapes),
                               conforms=bool(conforms.toPython()) if conforms is not None else False,
                               results=report_keys(graph, result), failure=result == SHT.Failure))


def _structure(graph: Graph, node: Node, depth: int = 0) -> str:
    """A blank node as the structure it stands for; an IRI or literal as itself."""
    if not isinstance(node, BNode):
        return node.n3()
    if depth > 6:
        return "[...]"
    if graph.value(node, RDF.first) is not None:
        return "(" + " ".join(_structure(graph, m, depth + 1) for m in Collection(graph, node)) + ")"
    pairs = sorted(f"{p.n3()} {_structure(graph, o, depth + 1)}" for p, o in graph.predicate_objects(node))
    return "[" + " ; ".join(pairs) + "]"


def report_keys(graph: Graph, report: Node) -> Counter:
    """The multiset of (focus, path, component) of a report's results."""
    keys: Counter = Counter()
    for result in graph.objects(report, SH.result):
        focus = graph.value(result, SH.focusNode)
        path = graph.value(result, SH.resultPath)
        component = graph.value(result, SH.sourceConstraintComponent)
        keys[(_structure(graph, focus) if focus is not None else None,
              _structure(graph, path) if path is not None else None,
              str(component) if component is not None else None)] += 1
    return keys


def load(path: Path) -> Graph:
    return Graph().parse(path, format="turtle", publicID=path.as_uri())


# An engine takes (data file, shapes file) and returns the report graph, or
# raises to refuse (counted as "refused", never as agreement).
Engine = Callable[[Path, Path], Graph]


def outcome(test: SuiteTest, report: Graph) -> str:
    """"agree" or "differ: ..." for one engine's report on one test (a refusal is the engine raising)."""
    if test.failure:
        return "differ: the suite expects the engine to refuse these shapes"
    node = next(iter(report.subjects(RDF.type, SH.ValidationReport)), None)
    if node is None:
        return "differ: no sh:ValidationReport"
    conforms = report.value(node, SH.conforms)
    got = bool(conforms.toPython()) if conforms is not None else None
    keys = report_keys(report, node)
    if got != test.conforms:
        return f"differ: conforms {got}, expected {test.conforms}"
    if keys != test.results:
        missing = test.results - keys
        extra = keys - test.results
        return (f"differ: missing {sorted(missing.elements(), key=str)[:3]} "
                f"extra {sorted(extra.elements(), key=str)[:3]}")
    return "agree"
