"""The graph itself: the versioned on-disk store, the query backends (embedded and remote), RDF terms, the ontology.

``store`` keeps versions of an embedded Oxigraph store and publishes each
atomically; ``backend`` runs SPARQL on it and ``remote`` on a SPARQL server,
behind one interface; ``terms`` converts between rdflib and Oxigraph;
``ontology`` reads the ontology and shapes files; ``sparqltext`` prepares the
text of a query (default prefixes, VALUES bindings, readable parse errors).

May import: basics.
"""
