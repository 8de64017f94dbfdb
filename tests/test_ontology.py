"""The ontology parses, and every term we use is defined, labelled and explained."""

from __future__ import annotations

import re
from pathlib import Path

from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import OWL, SKOS

from kg.graph.ontology import concept_notations, ontology_graph, shapes_graph
from kg.loaders.tables import load_catalog
from kg.namespaces import TKG
from kg.resources import queries_dir

REPO = Path(__file__).parent.parent


def _defined(graph: Graph, term: URIRef) -> bool:
    return (term, RDFS.label, None) in graph and (term, SKOS.definition, None) in graph


def test_every_class_and_property_has_label_and_definition() -> None:
    graph = ontology_graph()
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    terms = {s for kind in kinds for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef)}
    assert len(terms) > 60
    missing = sorted(str(t) for t in terms if not _defined(graph, t))
    assert missing == []


def test_every_table_class_and_column_predicate_is_in_the_ontology() -> None:
    graph = ontology_graph()
    for table in load_catalog().tables.values():
        assert _defined(graph, URIRef(table.class_iri)), table.class_iri
        for column in table.columns.values():
            if column.predicate:
                assert _defined(graph, URIRef(column.predicate)), f"{table.name}.{column.name}: {column.predicate}"


def test_every_tkg_term_used_in_code_and_queries_exists() -> None:
    graph = ontology_graph()
    texts = [p.read_text(encoding="utf-8") for p in (REPO / "kg").rglob("*.py")]
    texts += [p.read_text(encoding="utf-8") for p in queries_dir().rglob("*.rq")]
    used = set()
    for text in texts:
        used |= set(re.findall(r"\btkg:([A-Za-z]\w*)", text))
        used |= set(re.findall(r"\bTKG\.([A-Za-z]\w*)", text))
    assert used
    undefined = sorted(u for u in used if not _defined(graph, TKG[u]))
    assert undefined == []


def test_every_concept_scheme_a_column_names_exists_with_notations() -> None:
    notations = concept_notations()
    for table in load_catalog().tables.values():
        for column in table.columns.values():
            if column.type == "concept":
                assert notations.get(column.scheme), f"{table.name}.{column.name}: scheme {column.scheme} is empty"
    for scheme in ("effect-kind", "reach"):
        assert notations[scheme]


def test_every_table_class_has_a_node_shape_and_every_column_a_named_property_shape() -> None:
    shapes = shapes_graph()
    sh = URIRef("http://www.w3.org/ns/shacl#")
    target_class = URIRef(f"{sh}targetClass")
    name = URIRef(f"{sh}name")
    message = URIRef(f"{sh}message")
    names = {str(o) for o in shapes.objects(None, name)}
    for table in load_catalog().tables.values():
        assert (None, target_class, URIRef(table.class_iri)) in shapes, table.name
        for column in table.columns.values():
            if column.type != "id":
                assert column.name in names, f"{table.name}.{column.name} has no property shape"
    # Named property shapes carry their own message; the anonymous members of
    # an sh:or share the message of the node shape that holds the sh:or.
    constraint_shapes = {s for s in shapes.subjects(URIRef(f"{sh}path"), None) if isinstance(s, URIRef)}
    assert len(constraint_shapes) > 100
    assert [str(s) for s in constraint_shapes if (s, message, None) not in shapes] == []
