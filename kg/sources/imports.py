"""``import federal-register`` and ``import ofac`` as ledger kinds: replayed from the bytes they read.

The live commands (``kg.cli.sources``) record every file they read and every
API answer they fetched (the JSON bytes, named by the URL they came from), so
a replay never reaches the network and never needs the files again. Each
replay parses the stored bytes under the names the import recorded and plans
the change against the graph rebuilt so far with the same mapper the live
import used (``kg.sources.federal_register.plan_import``,
``kg.sources.ofac.plan_import``), with the options it recorded (``as_of``,
``partial``, ``end_missing`` for OFAC; the Federal Register's options only
say how the documents were fetched).
"""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath
from typing import Any

import pyoxigraph as ox

from kg.errors import TradekgError
from kg.pipeline import ledger
from kg.sources import base, federal_register, ofac

FR_KIND = "import federal-register"
OFAC_KIND = "import ofac"


def _change(plan: base.SourcePlan) -> ledger.Change:
    return ledger.Change(list(plan.removals), list(plan.additions), set(plan.focus), base.summary(plan),
                         set(plan.unheld))


def replay_federal_register(graph: ox.Store, inputs: list[ledger.StoredInput],
                            options: dict[str, Any]) -> ledger.Change:
    files = [federal_register.parse_json(i.data, i.name, i.name) for i in inputs]
    return _change(federal_register.plan_import(files, graph))


def replay_ofac(graph: ox.Store, inputs: list[ledger.StoredInput], options: dict[str, Any]) -> ledger.Change:
    sets = ofac.assemble_sets((PurePosixPath(i.name).name, i.name, i.name, i.data) for i in inputs)
    plan = ofac.plan_import(sets, graph, date.fromisoformat(options["as_of"]), partial=bool(options.get("partial")))
    why = base.refusal(plan, bool(options.get("end_missing")))
    if why:
        raise TradekgError(why)
    return _change(plan)


ledger.register(FR_KIND, replay_federal_register)
ledger.register(OFAC_KIND, replay_ofac)
