"""Limits: a query that runs too long is stopped; a table too long for a terminal is cut with a note.

The slow query is a cross join of 4,000 literals with itself (16 million
pairs, 10 s and more of Oxigraph's time): far longer than any deadline here,
so the tests do not depend on the machine's speed.
"""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Literal

from kg.answers.queries import find_query, run_saved
from kg.answers.render import TABLE_MAX_ROWS, render, render_table, render_to_string
from kg.cli import cli
from kg.errors import TradekgError
from kg.graph.backend import (
    DEFAULT_QUERY_TIMEOUT,
    QUERY_TIMEOUT_ENV,
    EmbeddedBackend,
    QueryTimeout,
    ResultTable,
    abandoned_queries,
    query_timeout_from,
    run_with_deadline,
)
from kg.graph.remote import Auth, Endpoint, RemoteBackend
from kg.graph.store import VersionedStore
from tests.servers import OxigraphServer, oxigraph_server
from tests.test_queries import CASES

EX = "http://example.org/slow/"
SIZE = 4000
# Aggregates everything before its one row: nothing to interrupt between rows.
SLOW_COUNT = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?p ?y . "
              "FILTER(STRLEN(CONCAT(?x, ?y)) > 100) }")
# Streams 16 million rows: the reader stops at the first row after the deadline.
SLOW_ROWS = "SELECT ?x ?y WHERE { ?a ?p ?x . ?b ?p ?y }"
REPO = Path(__file__).parent.parent


def _quads() -> list[ox.Quad]:
    return [ox.Quad(ox.NamedNode(f"{EX}{i}"), ox.NamedNode(f"{EX}p"), ox.Literal(str(i)), ox.DefaultGraph())
            for i in range(SIZE)]


@pytest.fixture(scope="module")
def slow_store(tmp_path_factory: pytest.TempPathFactory) -> VersionedStore:
    store = VersionedStore(tmp_path_factory.mktemp("slow") / "store")
    with store.write(from_current=False) as writable:
        writable.bulk_extend(_quads())
    return store


@pytest.fixture(autouse=True)
def _no_timeout_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(QUERY_TIMEOUT_ENV, raising=False)
    monkeypatch.delenv("TRADEKG_TIMEOUT", raising=False)


def _wait_for_abandoned(before: set[threading.Thread], seconds: float) -> set[threading.Thread]:
    """Wait until the query threads given up since ``before`` have ended; return those still running."""
    deadline = time.monotonic() + seconds
    while (left := set(abandoned_queries()) - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


# ---------------------------------------------------------------------------
# Query timeouts
# ---------------------------------------------------------------------------

def test_timeout_setting_default_environment_and_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_QUERY_TIMEOUT == 120
    assert query_timeout_from(None) == 120
    assert query_timeout_from(2.5) == 2.5
    assert query_timeout_from(0) is None  # 0: no limit
    monkeypatch.setenv(QUERY_TIMEOUT_ENV, "7")
    assert query_timeout_from(None) == 7
    assert query_timeout_from(3) == 3  # the option wins over the environment
    monkeypatch.setenv(QUERY_TIMEOUT_ENV, "soon")
    with pytest.raises(TradekgError, match="not a number of seconds"):
        query_timeout_from(None)
    with pytest.raises(TradekgError, match="positive"):
        query_timeout_from(-1)


def test_run_with_deadline_returns_raises_and_times_out() -> None:
    assert run_with_deadline(lambda cancelled: 42, 5) == 42
    assert run_with_deadline(lambda cancelled: 42, None) == 42
    with pytest.raises(ZeroDivisionError):
        run_with_deadline(lambda cancelled: 1 / 0, 5)
    release = threading.Event()
    before = set(abandoned_queries())
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"did not finish within 0\.2 s.*--query-timeout"):
        run_with_deadline(lambda cancelled: release.wait(30), 0.2)
    assert time.monotonic() - started < 2
    assert len(set(abandoned_queries()) - before) == 1
    release.set()
    assert not _wait_for_abandoned(before, 5)


def test_embedded_query_is_stopped_at_the_deadline(slow_store: VersionedStore) -> None:
    backend = EmbeddedBackend(slow_store.open_read(), timeout=0.5)
    before = set(abandoned_queries())
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        backend.select(SLOW_ROWS)
    assert time.monotonic() - started < 3
    # A query that streams rows stops reading at the first row after the deadline.
    assert not _wait_for_abandoned(before, 10)
    assert backend.ask("ASK { ?s ?p ?o }") is True  # the backend still answers quick queries


def test_short_queries_give_the_same_rows_with_a_deadline(mini_backend: EmbeddedBackend) -> None:
    bounded = EmbeddedBackend(mini_backend.store, timeout=30)
    for name, params in CASES.values():
        assert run_saved(find_query(name), params, bounded).rows == \
            run_saved(find_query(name), params, mini_backend).rows


def _tradekg(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={**os.environ, **(env or {})})
    return done, time.monotonic() - started


def test_cli_stops_an_uninterruptible_query_and_exits_2(slow_store: VersionedStore) -> None:
    """A real process: the aggregate runs inside Oxigraph and ends with the process."""
    store = ["--store", str(slow_store.path)]
    by_option, took = _tradekg("sparql", SLOW_COUNT, *store, "--query-timeout", "1")
    assert by_option.returncode == 2, by_option.stderr
    assert "did not finish within 1 s and was stopped" in by_option.stderr
    assert "Traceback" not in by_option.stderr and by_option.stdout == ""
    # A new Python process takes seconds to start on a loaded CI machine; the count runs for minutes.
    assert took < 25
    by_env, took = _tradekg("sparql", SLOW_COUNT, *store, env={QUERY_TIMEOUT_ENV: "1.5"})
    assert by_env.returncode == 2 and "within 1.5 s" in by_env.stderr
    assert took < 25
    quick, _ = _tradekg("sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", *store, "--format", "csv",
                        "--query-timeout", "30")
    assert quick.returncode == 0 and quick.stdout == f"n\n{SIZE}\n"


def test_cli_refuses_a_negative_timeout(runner: CliRunner, slow_store: VersionedStore) -> None:
    result = runner.invoke(cli, ["sparql", "ASK {}", "--store", str(slow_store.path), "--query-timeout", "-1"])
    assert result.exit_code == 2 and "--query-timeout" in result.stderr


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph-slow")) as started:
        store = ox.Store()
        store.bulk_extend(_quads())
        data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        RemoteBackend(Endpoint(started.query_url, auth=Auth())).update(f"INSERT DATA {{ {data.decode()} }}")
        yield started


@pytest.mark.slow
def test_server_query_is_stopped_at_the_deadline(slow_server: OxigraphServer, runner: CliRunner) -> None:
    remote = RemoteBackend(Endpoint(slow_server.query_url, auth=Auth(), retries=0), query_timeout=1)
    assert int(remote.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0]["n"]) == SIZE
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="within 1 s"):
        remote.select(SLOW_COUNT)
    assert time.monotonic() - started < 4
    started = time.monotonic()
    result = runner.invoke(cli, ["sparql", SLOW_COUNT, "--endpoint", slow_server.query_url,
                                 "--query-timeout", "1"])
    assert result.exit_code == 2 and "did not finish within 1 s" in result.stderr
    assert time.monotonic() - started < 4
    # The network timeout (--timeout) still bounds each wait on the server, and says so.
    result = runner.invoke(cli, ["sparql", SLOW_COUNT, "--endpoint", slow_server.query_url,
                                 "--timeout", "1", "--query-timeout", "30"])
    assert result.exit_code == 2 and "did not answer within 1 s" in result.stderr


# ---------------------------------------------------------------------------
# Long tables
# ---------------------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _numbers(count: int) -> ResultTable:
    return ResultTable(["n", "label"], [{"n": Literal(i), "label": Literal(f"=row {i}")} for i in range(count)])


def test_table_on_a_terminal_is_cut_with_a_note() -> None:
    out = Terminal()
    render_table(_numbers(12_545), out, width=80)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 + TABLE_MAX_ROWS + 2
    assert lines[-2] == f"… {12_545 - TABLE_MAX_ROWS:,} more rows; use --format csv or --format json to get all 12,545"
    assert lines[-1] == f"({TABLE_MAX_ROWS} of 12,545 rows shown)"
    assert lines[2].startswith("0 ") and lines[-3].startswith(f"{TABLE_MAX_ROWS - 1} ")


def test_short_tables_and_tables_not_on_a_terminal_are_whole() -> None:
    out = Terminal()
    render_table(_numbers(TABLE_MAX_ROWS), out)
    assert out.getvalue().endswith(f"({TABLE_MAX_ROWS} rows)\n") and "more rows" not in out.getvalue()
    piped = render_to_string(_numbers(5000), "table")
    assert piped.endswith("(5000 rows)\n") and "more rows" not in piped
    capped = io.StringIO()
    render_table(_numbers(50), capped, max_rows=10)
    assert "… 40 more rows" in capped.getvalue()


def test_csv_and_json_stay_complete_on_a_terminal() -> None:
    table = _numbers(5000)
    out = Terminal()
    render(table, "csv", out)
    assert len(out.getvalue().splitlines()) == 5001
    out = Terminal()
    render(table, "json", out)
    assert len(json.loads(out.getvalue())["results"]["bindings"]) == 5000


def test_cli_table_in_a_real_terminal_is_cut(slow_store: VersionedStore) -> None:
    """tradekg writing to a pseudo-terminal: table by default, cut, with the note."""
    primary, secondary = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "kg", "sparql", "SELECT ?s WHERE { ?s ?p ?o }",
                                    "--store", str(slow_store.path)], stdout=secondary, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, cwd=REPO, env={**os.environ, "COLUMNS": "100"})
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    finally:
        os.close(primary)
    text = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    assert f"… {SIZE - TABLE_MAX_ROWS:,} more rows; use --format csv" in text
    assert text.rstrip().endswith(f"({TABLE_MAX_ROWS} of {SIZE:,} rows shown)")
    assert len([line for line in text.splitlines() if line.startswith(EX)]) == TABLE_MAX_ROWS


def test_an_export_is_stopped_at_its_time_limit_and_leaves_no_file(curated_store: VersionedStore,
                                                                   tmp_path: Path) -> None:
    """The picture of the whole curated graph takes Graphviz far longer than one second: the export stops,
    kills its Graphviz and writes nothing (issue 26: exports had no deadline)."""
    picture = tmp_path / "everything.svg"
    done, took = _tradekg("export", "svg", "-o", str(picture), "--store", str(curated_store.path),
                          "--time-limit", "1")
    assert done.returncode == 2, done.stderr
    assert "the export did not finish within 1 s and was stopped" in done.stderr
    assert "Traceback" not in done.stderr and not picture.exists()
    assert not [p for p in tmp_path.iterdir()], "no half-written file beside it"
    assert took < 25
    children = subprocess.run(["pgrep", "-f", "dot -Tsvg"], capture_output=True, text=True).stdout.split()
    assert children == [], "Graphviz was left running"
