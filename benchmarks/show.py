"""What the legal reach and exposure sections cost `tradekg show` (issue 10).

Builds the synthetic graph of ``run.py`` at each size, then prints medians for
one firm with listed parents and children: the lookup ``show`` now runs
(queries/lookup/firm-reach.rq), the whole ``describe`` with it, and, as the
baseline in the same run, ``describe`` as it was (no reach sections) and the
saved ``rules-affecting-firm`` query, which reads the same effects.

Usage::

    python benchmarks/show.py                 # 10k,100k
    python benchmarks/show.py --sizes 1m
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

TRIPLES_PER_COMPANY = 27.6
FIXED_TRIPLES = 2600


def measure(size: int, workdir: Path, repeat: int) -> dict[str, float | int | str]:
    from rdflib import URIRef
    from run import _median, generate  # the same generator and median as run.py

    import kg.answers.show as show
    from kg.answers.queries import find_query, today, with_today
    from kg.graph.backend import EmbeddedBackend
    from kg.graph.store import VersionedStore
    from kg.loaders import InputFile
    from kg.namespaces import entity_iri
    from kg.pipeline.build import build
    from kg.resources import lookup_query

    companies = max(50, int((size - FIXED_TRIPLES) / TRIPLES_PER_COMPANY))
    data = workdir / "data"
    generate(data, companies)
    store = VersionedStore(workdir / "store")
    build(store, [InputFile(p, p.name) for p in sorted(data.glob("*.csv"))])
    backend = EmbeddedBackend(store.open_read())
    # A child of the group head c0: it has legal reach and exposure.
    child = backend.select(
        "SELECT ?c WHERE { ?c <https://schema.org/parentOrganization> ?p } ORDER BY ?c LIMIT 1",
        {"p": URIRef(entity_iri("company", "c0"))}).rows[0]["c"]
    assert isinstance(child, URIRef)
    triples = len(backend.store)
    reach = show.firm_reach(backend, child)
    saved = find_query("rules-affecting-firm")
    bound = with_today(saved, {"firm": child})
    out: dict[str, float | int | str] = {
        "triples": triples, "firm": str(child), "lines": len(reach),
        "exposure lines": sum(r.exposure for r in reach),
        "firm-reach lookup, ms": 1000 * _median(
            lambda: backend.select(lookup_query("firm-reach"), {"entity": child, "today": today()}), repeat),
        "show with reach, ms": 1000 * _median(lambda: show.describe(backend, str(child)), repeat),
        "rules-affecting-firm saved query (baseline), ms": 1000 * _median(
            lambda: backend.select(saved.text, bound), repeat),
    }
    with mock.patch.object(show, "firm_reach", lambda backend, firm: []):
        out["show without reach (baseline), ms"] = 1000 * _median(
            lambda: show.describe(backend, str(child)), repeat)
    return out


def main(argv: list[str] | None = None) -> int:
    from run import parse_size

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    for text in args.sizes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            figures = measure(parse_size(text), Path(tmp), args.repeat)
        sys.stdout.write(f"## {text}\n")
        for name, value in figures.items():
            sys.stdout.write(f"  {name}: {value:.2f}\n" if isinstance(value, float) else f"  {name}: {value}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
