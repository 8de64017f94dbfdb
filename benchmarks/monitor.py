"""Time ``tradekg update`` (twice), ``changes`` and ``watch report`` on OFAC's real 2021 SDN files.

The SDN files are served from a local HTTP server (127.0.0.1). OFAC publishes
one edition in the real data, so the "older" edition is that file set with 40
whole entries held back (all their rows in all four files) and the "newer" one
with 25 other entries held back: between them 40 entries are added and 25
removed. The watchlist is 10,000 counterparties: SDN aliases of entries that
did not change, plus the printed names of 30 added and 10 removed entries.

    python benchmarks/monitor.py PATH/TO/realdata/ofac/sdn-2021 [WORKDIR]

``measure`` runs the same steps on any store and returns their times:
``benchmarks/run.py --monitor FOLDER`` runs them on its synthetic graph of
each size, with the curated graph as the baseline (issue 25).
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fileserver import serving

FILES = ("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv")
TRADEKG = str(Path(sys.executable).parent / "tradekg")


def without(data: bytes, numbers: set[int]) -> bytes:
    lines = data.rstrip(b"\x1a").split(b"\r\n")
    kept = [line for line in lines if not line or int(line.split(b",", 1)[0]) not in numbers]
    return b"\r\n".join(kept) + b"\x1a"


def rows(data: bytes) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(data.rstrip(b"\x1a").decode(), newline="")) if r]


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def step(label: str, *args: str, show: int = 1500, cwd: Path | None = None, quiet: bool = False) -> float:
    """Run ``tradekg ARGS`` and return its wall-clock seconds; print what it said unless ``quiet``."""
    start = time.perf_counter()
    done = subprocess.run([TRADEKG, *args], capture_output=True, text=True, cwd=cwd)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{label} failed (exit {done.returncode}): tradekg {' '.join(args)}\n{done.stderr[-2000:]}")
    if not quiet:
        say(f"\n## {label}: {took:.1f} s (exit {done.returncode})\n$ tradekg {' '.join(args)}")
        say(done.stdout[:show] + ("\n..." if len(done.stdout) > show else ""))
        say(done.stderr[-800:])
    return took


def main() -> None:
    folder = Path(sys.argv[1])
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="tradekg-monitor-"))
    os.environ.setdefault("TRADEKG_TODAY", "2026-12-04")
    measure(folder, work, build=True)


def measure(folder: Path, work: Path, build: bool = False, quiet: bool = False) -> dict[str, float]:
    """Time each step in ``work`` (its store: ``work/.tradekg/store``, built first when ``build``)."""
    real = {name: (folder / name).read_bytes() for name in FILES}
    entries = [int(r[0]) for r in rows(real["sdn.csv"])]
    added = set(entries[100::200][:40])
    removed = set(entries[150::200][:25])
    names = {int(r[0]): r[1] for r in rows(real["sdn.csv"])}
    aliases = [(int(r[0]), r[3]) for r in rows(real["alt.csv"]) if int(r[0]) not in added | removed]
    watch = work / "counterparties.csv"
    with watch.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "name"])
        picked = [names[n] for n in sorted(added)[:30]] + [names[n] for n in sorted(removed)[:10]]
        for i, name in enumerate(picked + [a for _, a in aliases][: 10_000 - len(picked)]):
            out.writerow([f"C-{i + 1:05d}", name])
    if not quiet:
        say(f"work dir {work}; {len(entries)} SDN entries; older lacks {len(added)}, newer lacks {len(removed)}")
    times: dict[str, float] = {}

    def timed(key: str, label: str, *args: str, show: int = 1500) -> None:
        times[key] = step(label, *args, show=show, cwd=work, quiet=quiet)

    if build:
        timed("build", "build the curated graph", "build")
    with serving() as server:
        url = ["--url", f"ofac-sdn={server.url('/ofac/')}"]
        for name in FILES:
            server.put(f"/ofac/{name}", without(real[name], added))
        timed("update_first", "update (older edition: first fetch and import)", "update", "ofac-sdn", *url)
        timed("watch_add", "watch add (10,000 counterparties)", "watch", "add", str(watch), "--name", "customers")
        for name in FILES:
            server.put(f"/ofac/{name}", without(real[name], removed))
        timed("update_changed", "update (newer edition)", "update", "ofac-sdn", *url)
        timed("update_same", "update again (nothing new: 304)", "update", "ofac-sdn", *url)
    timed("changes", "changes (of the last update that changed the graph)", "changes", "--format", "table",
          show=6000)
    timed("changes_csv", "changes --format csv", "changes", "--format", "csv", show=600)
    timed("watch_report", "watch report", "watch", "report", "--format", "csv", show=5000)
    timed("watch_report_again", "watch report again", "watch", "report", "--format", "csv")
    timed("sources", "sources", "sources", "--format", "csv")
    return times

if __name__ == "__main__":
    main()
