"""Keeping the graph current and saying what changed: ``update``, ``changes``, ``watch``, evidence.

Screening lists change every week and publish no deltas. This package closes
the loop a compliance desk lives in:

* ``kg.monitor.update`` fetches the sources of record from their published
  locations (politely: conditional requests, retries with backoff) and imports
  each through the importers' own entry points and the ledger, one source at a
  time, so a source that fails leaves the graph as it was for that source;
* ``kg.monitor.state`` reads a version of the graph into a small snapshot of
  its list entries, reach and rule statuses (kept beside the store, so a
  version's snapshot outlives the version itself);
* ``kg.monitor.changes`` compares snapshots into events (listed, ended, entry
  changed, newly reached, no longer reached, rule status changed), each with
  its cause: the Federal Register document when the graph knows it, else the
  source file and the day it was taken in;
* ``kg.monitor.watch`` keeps counterparty files and analysts' decisions in the
  ledger, and reports only new or changed hits;
* ``kg.monitor.evidence`` writes a dated record of a screening and checks it
  again later.

Nothing here writes graph facts of its own: imports go through the
importers, and watchlists and decisions are ledger entries whose replay adds
nothing to the graph (a customer list never reaches a shared or pushed graph).

May import: basics, graph, loaders, checks, answers, pipeline, sources.
"""
