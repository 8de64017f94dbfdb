"""What replaying the ledger costs a rebuild: ``tradekg build`` with loads and an import on top.

For each base graph (the curated ``data/``, and the synthetic graph of
``benchmarks/run.py`` at 100k triples) this script builds a store, loads
1,000 new company rows (``tradekg load``) and imports a 10,000-row
Consolidated Screening List file (``tradekg import csl``; synthetic Entity
List rows, each citing a Federal Register page), then times, with the code
the commands run (``kg.pipeline.build.build``):

* the baseline: a build of the same base data into a store with no ledger;
* the rebuild that replays both ledger entries (the store's ledger is left as
  it was, so every repetition replays the same two entries);

and prints the medians, the replay step alone, and the triple counts.

Usage::

    python benchmarks/replay.py                    # curated and 100k, 3 repetitions
    python benchmarks/replay.py --bases curated --repeat 1
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from kg.graph.store import VersionedStore  # noqa: E402
from kg.pipeline import ledger  # noqa: E402
from kg.pipeline.build import build, data_files, load, user_files  # noqa: E402
from kg.pipeline.incremental import commit_delta  # noqa: E402
from kg.resources import data_dir  # noqa: E402
from kg.sources import csl as importer  # noqa: E402
from kg.sources import csl_import  # noqa: E402

LOADED_ROWS = 1_000
CSL_ROWS = 10_000


def write_companies(path: Path, source: str, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "name", "aliases", "country", "wikidata", "parent", "affiliate_of", "homepage", "source",
                      "confidence", "note"])
        for i in range(rows):
            out.writerow([f"replay-bench-{i}", f"Replay Bench Components {i} GmbH", f"RBC {i}", "DE", "",
                          f"replay-bench-{i - i % 10}" if i % 10 else "", "", "", source, "confirmed", ""])


def write_csl(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(importer.CURRENT_HEADER)
        for i in range(rows):
            cells = dict.fromkeys(importer.CURRENT_HEADER, "")
            cells.update({
                "_id": hashlib.sha1(f"row{i}".encode()).hexdigest(),
                "source": "Entity List (EL) - Bureau of Industry and Security",
                "name": f"Replay Bench Trading {i} Co., Ltd.",
                "addresses": f"{i} Bench Road, Shenzhen, CN",
                "federal_register_notice": f"{84 + i % 5} FR {1000 + i % 700}",
                "start_date": f"20{19 + i % 5}-0{1 + i % 9}-15",
                "license_requirement": "For all items subject to the EAR",
                "license_policy": "Presumption of denial",
                "alt_names": f"RBT {i}",
            })
            out.writerow([cells[c] for c in importer.CURRENT_HEADER])


def import_csl(store: VersionedStore, path: Path) -> None:
    """What `tradekg import csl FILE --as-of 2025-06-01` does, recorded in the ledger."""
    data = path.read_bytes()
    options = {"as_of": "2025-06-01", "partial": False, "strict": False, "end_missing": False}
    with store.locked():
        plan = csl_import.plan(store.open_read(), data, path.name, path.name, options)
        entry = ledger.new_entry(store, csl_import.KIND, [(path.name, data)], options, f"tradekg import csl {path}")
        commit_delta(store, plan.removals, plan.additions, plan.focus,
                     {"command": "import csl", **ledger.manifest_with(store, entry, csl_import.summary(plan))})


def measure(name: str, data: Path, source: str, work: Path, repeat: int, loaded_rows: int = LOADED_ROWS,
            csl_rows: int = CSL_ROWS) -> dict[str, object]:
    files = data_files(data)
    plain = VersionedStore(work / "plain")
    base_times = []
    for _ in range(repeat):
        started = time.perf_counter()
        base = build(plain, files)
        base_times.append(time.perf_counter() - started)
    store = VersionedStore(work / "ledgered")
    build(store, files)
    companies, consolidated = work / "companies-bench.csv", work / "consolidated-bench.csv"
    write_companies(companies, source, loaded_rows)
    write_csl(consolidated, csl_rows)
    started = time.perf_counter()
    load(store, user_files([companies]))
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    import_csl(store, consolidated)
    import_seconds = time.perf_counter() - started
    times, replay = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        outcome = build(store, files)
        times.append(time.perf_counter() - started)
        replay.append(outcome.seconds["replay"])
        assert len(outcome.replayed) == 2
    return {"base": name, "base_triples": base.total_triples, "triples": outcome.total_triples,
            "baseline_build": statistics.median(base_times), "replaying_build": statistics.median(times),
            "replay_step": statistics.median(replay), "load_1000": load_seconds, "import_10000": import_seconds,
            "date": date.today().isoformat()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bases", default="curated,100k", help="curated and/or 100k")
    parser.add_argument("--repeat", type=int, default=3, help="builds per measurement; the median is printed")
    parser.add_argument("--loaded-rows", type=int, default=LOADED_ROWS, help="company rows loaded")
    parser.add_argument("--csl-rows", type=int, default=CSL_ROWS, help="rows of the imported CSL file")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="tradekg-replay-bench-") as tmp:
        for name in args.bases.split(","):
            work = Path(tmp) / name
            work.mkdir()
            if name == "curated":
                data, source = data_dir(), "techradar-standards-article"
            else:
                from run import FIXED_TRIPLES, TRIPLES_PER_COMPANY, generate, parse_size

                data, source = work / "data", "syn"
                generate(data, int((parse_size(name) - FIXED_TRIPLES) / TRIPLES_PER_COMPANY))
            results.append(measure(name, data, source, work, args.repeat, args.loaded_rows, args.csl_rows))
            sys.stderr.write(f"{results[-1]}\n")
    lines = [f"replaying {args.loaded_rows:,} loaded rows and a {args.csl_rows:,}-row CSL import; medians of "
             f"{args.repeat} builds",
             f"{'base':>8} {'base triples':>13} {'with ledger':>12} {'build (no ledger)':>18} "
             f"{'build + replay':>15} {'replay step':>12} {'load':>8} {'import':>11}"]
    for r in results:
        lines.append(f"{r['base']:>8} {r['base_triples']:>13,} {r['triples']:>12,} {r['baseline_build']:>17.2f}s "
                     f"{r['replaying_build']:>14.2f}s {r['replay_step']:>11.2f}s {r['load_1000']:>7.2f}s "
                     f"{r['import_10000']:>10.2f}s")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
