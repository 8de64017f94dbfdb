"""build writes the checked graph in chunks (issue 25): every triple arrives, blank nodes keep their identity."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.graph.bulkload import bulk_load_in_chunks


def test_chunked_write_keeps_every_triple_and_each_blank_node_whole(tmp_path: Path) -> None:
    memory = ox.Store()
    p, q = ox.NamedNode("http://example.org/p"), ox.NamedNode("http://example.org/q")
    node = ox.BlankNode()
    quads = [ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), p, ox.Literal(f"v{i} _: not a node"),
                     ox.DefaultGraph()) for i in range(25)]
    quads += [ox.Quad(ox.NamedNode("http://example.org/a"), p, node, ox.DefaultGraph()),
              ox.Quad(node, q, ox.Literal("line one\nline two"), ox.DefaultGraph())]
    memory.extend(quads)
    dump = tmp_path / "graph.nq"
    memory.dump(dump, format=ox.RdfFormat.N_QUADS)

    target = ox.Store(str(tmp_path / "store"))
    bulk_load_in_chunks(target, dump, chunk=4)  # seven chunks and the blank-node lines

    assert len(target) == len(quads)
    answer = list(target.query("SELECT ?v { <http://example.org/a> <http://example.org/p> ?b . "
                               "?b <http://example.org/q> ?v }"))
    assert [s["v"].value for s in answer] == ["line one\nline two"]
