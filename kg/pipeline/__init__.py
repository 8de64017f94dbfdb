"""The write pipeline: build, load, derive, validate and publish, and the ledger that replays it all on rebuild.

``build`` turns the curated tables (and every import the ledger recorded)
into a validated, derived graph in the store; ``incremental`` commits a small
change without rebuilding; ``derive`` runs the CONSTRUCT rules; ``ledger``
records each load and import so a rebuild replays them, and ``history`` lists
and rolls back versions; ``push`` sends the graph to a SPARQL server;
``check`` is a build's verdict on tables, in memory, writing nothing.

May import: basics, graph, loaders, checks, answers.
The one pointer upward is by name: ``ledger.PLUGINS`` lists the modules (the
importers' ledger kinds in ``kg.sources``) that it imports on replay, so a
rebuild finds their replay functions without this room importing them.
"""
