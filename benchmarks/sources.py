"""Benchmark ``tradekg import ofac`` of the whole 2021 SDN list into the curated graph.

Target (issue 13): the 2021 SDN set (8,976 entries, 11,910 aliases, 13,837
addresses) imports into the curated graph in under 60 s and under 1.5 GB,
all or nothing and validated, and the saved queries stay fast on the result.

The script builds the curated graph from data/ (the baseline: ``tradekg
build`` in the same run), then, each in a child process so the memory
figure is the import's own:

* imports the SDN files (read, map, plan, validate, write): wall time and
  peak memory (max RSS);
* imports them again (the same content: nothing to write);

and prints the median time of every saved query on the curated graph and on
the graph with the SDN list, with their row counts.

Usage::

    python benchmarks/sources.py --sdn DIR --repeat 5  # DIR: OFAC's 2021 SDN files (sdn.csv, alt.csv,
                                                       # add.csv, sdn_comments.csv), as OFAC publishes them
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SDN = REPO.parent / "shared" / "realdata" / "ofac" / "sdn-2021"
PARAMETERS = {"firm": ("company", "huawei"), "rule": ("rule", "el-huawei-2019"), "list": ("list", "entity-list"),
              "person": ("person", "alan-estevez")}


def say(line: str = "") -> None:
    """The script's output (the library itself prints only through click)."""
    sys.stdout.write(line + "\n")


def import_child(sdn: str, store_path: str) -> dict[str, Any]:
    """One import, timed step by step, in this (child) process."""
    from datetime import date

    from kg.graph.store import VersionedStore
    from kg.sources import base, ofac

    store = VersionedStore(Path(store_path))
    started = time.perf_counter()
    sets = ofac.read_paths([Path(sdn)])
    read_s = time.perf_counter() - started
    with store.locked():
        reader = store.open_read()
        plan = ofac.plan_import(sets, reader, date(2021, 7, 7))
        del reader
        plan_s = time.perf_counter() - started - read_s
        outcome = base.commit(store, plan)
    return {
        "wall_s": time.perf_counter() - started, "read_s": read_s, "plan_s": plan_s,
        "commit_s": time.perf_counter() - started - read_s - plan_s,
        "added": outcome.added, "derived": outcome.derived_triples, "total": outcome.total_triples,
        "written": outcome.written, "conforms": outcome.report.conforms,
        "nodes_checked": outcome.report.nodes_checked,
        "entries": sum(len(s.entries) for s in sets),
        "aliases": sum(len(s.files["alt"].rows) for s in sets if "alt" in s.files),
        "addresses": sum(len(s.files["add"].rows) for s in sets if "add" in s.files),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def query_medians(store_path: Path, repeat: int) -> dict[str, tuple[float, int]]:
    from rdflib import URIRef

    from kg.answers.queries import saved_queries
    from kg.graph.backend import EmbeddedBackend
    from kg.graph.store import VersionedStore
    from kg.namespaces import entity_iri

    reader = EmbeddedBackend(VersionedStore(store_path).open_read())
    out = {}
    for name, query in saved_queries().items():
        bound = {p.name: URIRef(entity_iri(*PARAMETERS[p.name])) for p in query.parameters if p.name in PARAMETERS}
        rows = len(reader.select(query.text, bound).rows)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            reader.select(query.text, bound)
            times.append(time.perf_counter() - started)
        out[name] = (statistics.median(times), rows)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sdn", type=Path, default=DEFAULT_SDN, help="folder with sdn.csv, alt.csv, add.csv, "
                        "sdn_comments.csv")
    parser.add_argument("--repeat", type=int, default=5, help="runs per saved query; the median is printed")
    parser.add_argument("--child-import", nargs=2, metavar=("SDN", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_import:
        say(json.dumps(import_child(*args.child_import)))
        return 0
    if not args.sdn.is_dir():
        raise SystemExit(f"no SDN files at {args.sdn}; pass --sdn FOLDER")

    from kg.graph.store import VersionedStore
    from kg.pipeline.build import build, data_files

    with tempfile.TemporaryDirectory(prefix="tradekg-bench-sources-") as tmp:
        curated = Path(tmp) / "curated"
        started = time.perf_counter()
        build(VersionedStore(curated), data_files())
        build_s = time.perf_counter() - started
        before = query_medians(curated, args.repeat)
        target = Path(tmp) / "with-sdn"
        shutil.copytree(curated, target, symlinks=True)
        first = _child(["--child-import", str(args.sdn), str(target)])
        again = _child(["--child-import", str(args.sdn), str(target)])
        after = query_medians(target, args.repeat)

    say(f"SDN files: {args.sdn} ({first['entries']:,} entries, {first['aliases']:,} aliases, "
          f"{first['addresses']:,} addresses)\n")
    say("| step | figure |")
    say("|---|---|")
    say(f"| baseline: `tradekg build` of the curated graph, s | {build_s:.1f} |")
    say(f"| import ofac (SDN 2021), wall clock, s | {first['wall_s']:.1f} (target < 60) |")
    say(f"| ... read / map and plan / validate and write, s | {first['read_s']:.1f} / {first['plan_s']:.1f} / "
          f"{first['commit_s']:.1f} |")
    say(f"| ... peak memory of the import process, MB | {first['peak_mb']:.0f} (target < 1536) |")
    say(f"| ... triples added / derived / in the store | {first['added']:,} / {first['derived']:,} / "
          f"{first['total']:,} |")
    say(f"| ... validated nodes, conforms | {first['nodes_checked']:,}, {first['conforms']} |")
    say(f"| same files again (nothing to write), wall clock, s | {again['wall_s']:.1f} "
          f"({'wrote' if again['written'] else 'nothing written'}) |")
    for name in before:
        (b, b_rows), (a, a_rows) = before[name], after[name]
        say(f"| `{name}` median, ms: curated [rows] -> with SDN [rows] | {b * 1000:.1f} [{b_rows}] -> "
              f"{a * 1000:.1f} [{a_rows}] |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
