"""The N-Triples text a build bulk-loads says exactly what the loader's terms say.

``kg.pipeline.build.build`` writes the loaded triples as N-Triples for Oxigraph's bulk
loader (``kg.graph.terms.triples_to_ntriples``) instead of converting each term;
these tests hold it to the term-by-term conversion on arbitrary text.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from kg.graph.terms import triples_to_ntriples, triples_to_quads

SUBJECT = URIRef("https://w3id.org/tradekg/id/company/fz")
NAME = URIRef("https://schema.org/name")

literals = st.one_of(
    st.text(max_size=200).map(Literal),
    st.text(max_size=50).map(lambda t: Literal(t, datatype=XSD.string)),
    st.dates().map(lambda d: Literal(d.isoformat(), datatype=XSD.date)),
    st.integers().map(lambda i: Literal(i, datatype=XSD.integer)),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(lambda d: Literal(d, datatype=XSD.decimal)),
    st.booleans().map(Literal),
    st.sampled_from(["en", "de", "zh-Hans"]).flatmap(lambda lang: st.text(max_size=20).map(
        lambda t: Literal(t, lang=lang))),
)


def _parsed(triples: list) -> set[ox.Quad]:
    store = ox.Store()
    store.bulk_load(triples_to_ntriples(triples), format=ox.RdfFormat.N_TRIPLES)
    return set(store)


def _stored(triples: list) -> set[ox.Quad]:
    """The term-by-term conversion, stored (Oxigraph stores numbers and dates by value: 0.000 is 0)."""
    store = ox.Store()
    store.extend(triples_to_quads(triples))
    return set(store)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(values=st.lists(literals, min_size=1, max_size=5))
def test_ntriples_text_parses_to_the_same_quads_as_term_conversion(values: list[Literal]) -> None:
    triples = [(SUBJECT, NAME, value) for value in values]
    assert _parsed(triples) == _stored(triples)


def test_quotes_backslashes_and_line_breaks_survive() -> None:
    text = 'a "quoted" \\ back\\slash\nnew line\r\ncarriage\ttab \u2028 \x00 end'
    triples = [(SUBJECT, NAME, Literal(text)), (SUBJECT, NAME, URIRef("https://example.org/x"))]
    quads = _parsed(triples)
    assert {q.object.value for q in quads} == {text, "https://example.org/x"}


@pytest.mark.parametrize("bad", [
    (URIRef("https://example.org/a b"), NAME, Literal("x")),
    (SUBJECT, URIRef("https://example.org/<p>"), Literal("x")),
    (BNode("b1"), NAME, Literal("x")),
])
def test_an_iri_that_n_triples_cannot_hold_is_refused_not_written(bad: tuple) -> None:
    with pytest.raises(ValueError, match="not a valid IRI"):
        triples_to_ntriples([bad])
