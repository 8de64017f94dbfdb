"""Exports: RDF files of the store or a subgraph, and pictures of the graph.

``network`` turns the RDF into one networkx view that ``dot`` (Graphviz's
language), ``render`` (SVG/PNG through Graphviz), ``graphtools`` (GraphML,
GEXF) and ``html`` (an offline, self-contained page) all draw; ``rdf`` writes
the triples themselves and ``timeline`` draws a firm's dated events.

May import: basics, graph, loaders, answers.
"""

from __future__ import annotations

RDF_FORMATS = ("turtle", "ntriples", "nquads", "jsonld")
GRAPH_FORMATS = ("graphml", "gexf", "dot")
PICTURE_FORMATS = ("svg", "png", "html")
# Data for other tools: FollowTheMoney entities (ftm), the dataset's VoID and DCAT descriptions.
DATA_FORMATS = ("ftm", "void", "dcat")
FORMATS = RDF_FORMATS + GRAPH_FORMATS + PICTURE_FORMATS + ("timeline",) + DATA_FORMATS

# Short names people type, mapped to the format they mean.
ALIASES = {"ttl": "turtle", "nt": "ntriples", "nq": "nquads", "json-ld": "jsonld", "gv": "dot"}

# A picture with more nodes than this cannot be read: warn and suggest --focus.
PICTURE_NODE_LIMIT = 400
