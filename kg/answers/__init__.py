"""Answers to users' questions: saved queries, entity resolution, show, screening (one name or a batch), rendering.

``queries`` reads the saved ``.rq`` files and runs them with checked
parameters; ``resolve`` turns a name a user types into an entity; ``show``
describes an entity; ``screen`` and ``batch`` match names against every name
and alias in the graph; ``render`` prints tables, CSV and JSON. Only reads:
nothing here writes the store.

May import: basics, graph, loaders.
"""
