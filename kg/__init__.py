"""tradekg: a knowledge graph of technology-trade restrictions.

The package turns curated CSV facts into validated RDF, keeps the graph in an
embedded Oxigraph store and answers saved SPARQL questions about it.
"""

__version__ = "0.1.0"
