"""The graph itself: the versioned on-disk store, the query backends (embedded and remote), RDF terms, the ontology."""
