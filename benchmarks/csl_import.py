"""Import a whole Consolidated Screening List into the curated graph, as a user does (issue 25, item 2).

trade.gov's ``consolidated.csv`` has about 13,000 rows from 13 lists. This
script writes a file of that size in the real layout from real rows: every
row of the CSL files given (the real header, every column as trade.gov fills
it: several Federal Register citations per Entity List row, addresses,
aliases, identifiers, programs). A quarter of the rows are Entity List rows,
the rest the other lists' rows in turn. Each real row appears once as it is;
the copies after it get a number in their name, aliases and identifiers (so
each is a party of its own) and cite other pages of the same volumes (so
that copies of Huawei's rows are not all affiliates that the 2019-2020 Huawei
rules added: the real file has about 90 of those, not 3,000).

Then, with the ``tradekg`` command, in a new store:

* ``tradekg build`` of the curated graph;
* ``tradekg import csl FILE`` (target: under 30 s);
* the same command again (nothing new: the daily re-import of an unchanged file);
* the rebuild, which replays the import from the ledger (target: the replay
  under 20 s; run with the code of ``tradekg build``, which times its steps);
* with ``--sdn FOLDER``, ``tradekg import ofac FOLDER`` of OFAC's SDN files
  into another curated store (target: under 20 s);

beside the floor: Oxigraph's bulk load of the graph the import made (the
same triples, from N-Triples, into a new on-disk store).

Usage::

    python benchmarks/csl_import.py --csl consolidated.csv [more.csv ...] [--rows 13000] [--sdn DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ROWS = 13_000
AS_OF = "2025-06-01"


def template_rows(paths: list[Path]) -> list[dict[str, str]]:
    """Every row of the given CSL files (current layout, with ``_id``)."""
    rows: list[dict[str, str]] = []
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows += list(csv.DictReader(handle))
    if not rows or "_id" not in rows[0]:
        raise SystemExit("the CSL files must be in trade.gov's current layout (29 columns, with _id)")
    return rows


def _copy(row: dict[str, str], i: int) -> dict[str, str]:
    """Row ``i``, a copy of a real row: its own id, name, aliases and identifiers, and other pages cited."""
    out = dict(row)
    out["_id"] = hashlib.sha1(f"{row['_id']}-{i}".encode()).hexdigest()
    if out.get("entity_number", "").isdigit():
        out["entity_number"] = str(1_000_000 + i)

    def renamed(name: str) -> str:
        return re.sub("huawei", f"Benchfirm{i}", f"{name} {i}", flags=re.IGNORECASE)

    out["name"] = renamed(row["name"])
    if row.get("alt_names"):
        out["alt_names"] = "; ".join(renamed(alias) for alias in row["alt_names"].split("; "))
    if row.get("ids"):
        identifiers = []
        for identifier in row["ids"].split("; "):
            fields = identifier.split(", ")
            if len(fields) >= 2 and re.search(r"\d", fields[1]):
                fields[1] = f"{fields[1]}-{i}"
            identifiers.append(", ".join(fields))
        out["ids"] = "; ".join(identifiers)
    shift = 7 * (1 + i % 300)  # a few hundred other pages of the same volumes
    out["federal_register_notice"] = re.sub(r"\b(\d+) FR (\d+)\b", lambda m: f"{m[1]} FR {int(m[2]) + shift}",
                                            row.get("federal_register_notice", ""))
    return out


def write_real_layout(path: Path, templates: list[dict[str, str]], rows: int = ROWS) -> None:
    """``rows`` rows in the real layout: a quarter Entity List rows, the other lists' rows in turn."""
    entity_list = [r for r in templates if r["source"].startswith("Entity List")]
    others = [r for r in templates if not r["source"].startswith("Entity List")] or entity_list
    entity_list = entity_list or others
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.DictWriter(handle, list(templates[0]))
        out.writeheader()
        for i in range(rows):
            pool, k = (entity_list, i // 4) if i % 4 == 0 else (others, i - i // 4 - 1)
            row = pool[k % len(pool)]
            out.writerow(row if k < len(pool) else _copy(row, i))


def _tradekg(args: list[str], store: Path) -> tuple[float, str]:
    """Run the ``tradekg`` command of this checkout; its wall time and what it printed."""
    env = {**os.environ, "TRADEKG_STORE": str(store), "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True, env=env, check=False,
                          cwd=REPO)  # this checkout's kg, whatever the directory the script is run from
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"tradekg {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return seconds, done.stdout + done.stderr


def _triples(printed: str) -> int | None:
    found = re.findall(r"(\d+) in the store", printed) or re.findall(r"(\d+) triples", printed)
    return int(found[-1]) if found else None


def measure(files: list[Path], work: Path, rows: int = ROWS, sdn: Path | None = None) -> dict[str, Any]:
    """The figures of the module docstring, in seconds."""
    import pyoxigraph as ox

    sys.path.insert(0, str(REPO))
    from kg.graph.store import VersionedStore
    from kg.pipeline.build import build, data_files
    from kg.resources import data_dir

    work.mkdir(parents=True, exist_ok=True)
    consolidated = work / "consolidated.csv"
    write_real_layout(consolidated, template_rows(files), rows)
    store = work / "store"
    out: dict[str, Any] = {"rows": rows, "bytes": consolidated.stat().st_size}
    out["build_s"], _ = _tradekg(["build"], store)
    out["import_s"], printed = _tradekg(["import", "csl", str(consolidated), "--as-of", AS_OF], store)
    out["triples"] = _triples(printed)
    out["reimport_s"], _ = _tradekg(["import", "csl", str(consolidated), "--as-of", AS_OF], store)
    # The rebuild with the code `tradekg build` runs, which times its steps (the command does not print them).
    started = time.perf_counter()
    rebuilt = build(VersionedStore(store), data_files(data_dir()))
    out["rebuild_s"] = time.perf_counter() - started
    out["rebuild_steps"] = rebuilt.seconds
    out["replay_s"] = rebuilt.seconds["replay"]
    nt = work / "graph.nt"
    VersionedStore(store).open_read().dump(str(nt), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    floor = ox.Store(str(work / "floor"))
    started = time.perf_counter()
    floor.bulk_load(path=nt, format=ox.RdfFormat.N_TRIPLES)
    floor.flush()
    out["floor_s"] = time.perf_counter() - started
    if sdn is not None:
        other = work / "sdn-store"
        _tradekg(["build"], other)
        out["sdn_import_s"], printed = _tradekg(["import", "ofac", str(sdn), "--as-of", "2021-07-07"], other)
        out["sdn_triples"] = _triples(printed)
    return out


def table(r: dict[str, Any]) -> str:
    def s(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f}"

    triples = f"{r['triples']:,}" if r.get("triples") else "?"
    lines = [f"CSL file: {r['rows']:,} rows in the real layout ({r['bytes'] / 1e6:.1f} MB); the graph after the "
             f"import: {triples} triples",
             "", "| figure | tradekg, s | baseline (same run) | target | met |", "|---|---|---|---|---|",
             f"| `tradekg import csl` (map, validate, derive, write) | {s(r['import_s'])} | Oxigraph bulk_load of "
             f"the graph it made: {s(r['floor_s'])} s; `tradekg build` of the curated graph: {s(r['build_s'])} s "
             f"| < 30 s | {'yes' if r['import_s'] < 30 else 'NO'} |",
             f"| the same file again (nothing new) | {s(r['reimport_s'])} | | | |",
             f"| `tradekg build` replaying the import: the replay step (the whole build) | {s(r['replay_s'])} "
             f"({s(r['rebuild_s'])}) | | < 20 s | "
             f"{'—' if r['replay_s'] is None else ('yes' if r['replay_s'] < 20 else 'NO')} |"]
    if "sdn_import_s" in r:
        lines.append(f"| `tradekg import ofac` of the 2021 SDN files | {s(r['sdn_import_s'])} | | < 20 s | "
                     f"{'yes' if r['sdn_import_s'] < 20 else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csl", type=Path, nargs="+", required=True,
                        help="CSL files in the current layout whose rows the benchmark file is made of")
    parser.add_argument("--rows", type=int, default=ROWS, help="rows of the file imported")
    parser.add_argument("--sdn", type=Path, default=None, help="OFAC's SDN files: also time their import")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for run.py)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tradekg-csl-bench-") as tmp:
        result = measure(args.csl, Path(tmp), args.rows, args.sdn)
    sys.stdout.write((json.dumps(result) if args.json else table(result)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
