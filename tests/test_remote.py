"""The same answers from a real SPARQL server: Oxigraph started here, on 127.0.0.1.

Every saved query runs on the embedded store and through ``--endpoint`` and
must give the same rows, in the same order, with the same term types. Push,
load and every failure are exercised against real sockets, never a mock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg.answers.queries import find_query, run_saved, saved_queries
from kg.answers.render import render_to_string
from kg.cli import cli
from kg.errors import NotFound
from kg.graph.backend import EmbeddedBackend, QueryRejected, with_values
from kg.graph.remote import Auth, Endpoint, RemoteBackend, RemoteError
from kg.graph.store import VersionedStore
from kg.loaders import InputFile
from kg.pipeline.build import ValidationFailed, load
from kg.pipeline.push import STAGING_PREFIX, load_remote, push
from tests.conftest import MINI
from tests.servers import OxigraphServer, oxigraph_server, scripted_server, silent_server
from tests.test_queries import CASES, EXPECTED

pytestmark = pytest.mark.slow

CURATED_GRAPH = "https://example.org/tradekg/curated"
MINI_GRAPH = "https://example.org/tradekg/mini"

# The README's questions on the curated graph: one or more calls per saved query.
CURATED_CASES: dict[str, tuple[str, dict[str, str]]] = {
    "rules-affecting-firm": ("rules-affecting-firm", {"firm": "Huawei"}),
    "rules-affecting-firm-bolivia": ("rules-affecting-firm", {
        "firm": "Huawei Technologies (Bolivia) S.R.L.", "as_of": "2021-01-01"}),
    "firms-affected-by-rule": ("firms-affected-by-rule", {"rule": "84 FR 22961"}),
    "designations": ("designations", {"list": "Entity List", "as_of": "2022-09-09"}),
    "designations-all": ("designations", {}),
    "firm-timeline": ("firm-timeline", {"firm": "Huawei"}),
    "rules-by-official": ("rules-by-official", {"person": "Alan Estevez"}),
    "exceptions-for-firm": ("exceptions-for-firm", {"firm": "Huawei"}),
    "agencies-acting-on-firm": ("agencies-acting-on-firm", {"firm": "Huawei"}),
}

_ENV = ("TRADEKG_ENDPOINT", "TRADEKG_GRAPH", "TRADEKG_TIMEOUT", "TRADEKG_USER", "TRADEKG_PASSWORD",
        "TRADEKG_TOKEN", "TRADEKG_STORE_ENDPOINT", "TRADEKG_UPDATE_ENDPOINT")


@pytest.fixture(autouse=True)
def _no_remote_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mini_store: VersionedStore,
           curated_store: VersionedStore) -> Iterator[OxigraphServer]:
    """One Oxigraph server for the module: mini in the default graph and in a named one, curated named."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as started:
        endpoint = Endpoint(started.query_url, auth=Auth())
        push(mini_store, endpoint)
        push(mini_store, Endpoint(started.query_url, graph=MINI_GRAPH, auth=Auth()))
        push(curated_store, Endpoint(started.query_url, graph=CURATED_GRAPH, auth=Auth()))
        yield started


def _remote(server: OxigraphServer, graph: str | None = None, **options: object) -> RemoteBackend:
    return RemoteBackend(Endpoint(server.query_url, graph=graph, auth=Auth(), **options))  # type: ignore[arg-type]


def test_every_saved_query_has_a_curated_case() -> None:
    assert {name for name, _ in CURATED_CASES.values()} == set(saved_queries())


@pytest.mark.parametrize("graph", [None, MINI_GRAPH])
@pytest.mark.parametrize("case", sorted(CASES))
def test_mini_saved_query_same_rows_on_server(case: str, graph: str | None, server: OxigraphServer,
                                              mini_backend: EmbeddedBackend) -> None:
    name, params = CASES[case]
    embedded = run_saved(find_query(name), params, mini_backend)
    remote = run_saved(find_query(name), params, _remote(server, graph))
    assert remote.variables == embedded.variables
    assert remote.rows == embedded.rows  # same terms, same order
    assert render_to_string(remote, "csv") == (EXPECTED / f"{case}.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("case", sorted(CURATED_CASES))
def test_curated_saved_query_same_rows_on_server(case: str, server: OxigraphServer,
                                                 curated_backend: EmbeddedBackend) -> None:
    name, params = CURATED_CASES[case]
    embedded = run_saved(find_query(name), params, curated_backend)
    remote = run_saved(find_query(name), params, _remote(server, CURATED_GRAPH))
    assert embedded.rows, "a case that returns nothing proves little"
    assert remote.variables == embedded.variables
    assert remote.rows == embedded.rows


def test_terms_keep_their_types(server: OxigraphServer) -> None:
    rows = run_saved(find_query("rules-affecting-firm"), {"firm": "parentco"}, _remote(server)).rows
    first = rows[0]
    assert isinstance(first["rule"], URIRef)
    assert isinstance(first["from"], Literal) and first["from"].datatype == URIRef("http://www.w3.org/2001/XMLSchema#date")
    assert first["citation"] == Literal("1 FR 100")  # a plain string, not "..."^^xsd:string


def test_push_then_read_back_is_isomorphic(server: OxigraphServer, curated_backend: EmbeddedBackend,
                                           mini_backend: EmbeddedBackend) -> None:
    assert isomorphic(_remote(server, CURATED_GRAPH).all_triples(), curated_backend.all_triples())
    assert isomorphic(_remote(server).all_triples(), mini_backend.all_triples())
    graphs = _remote(server).select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
    assert not [g for g in graphs.column("g") if str(g).startswith(STAGING_PREFIX)], "staging left behind"


def test_replace_and_add_modes(tmp_path: Path, mini_store: VersionedStore, mini_backend: EmbeddedBackend) -> None:
    graph = "https://example.org/tradekg/modes"
    extra = "https://example.org/other"
    with oxigraph_server(tmp_path / "ox") as srv:
        endpoint = Endpoint(srv.query_url, graph=graph, auth=Auth())
        backend = RemoteBackend(endpoint)
        backend.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <{extra}> <{extra}> <{extra}> }} }}")
        outcome = push(mini_store, endpoint, mode="add", chunk_size=1000)
        assert outcome.chunks > 2
        everything = backend.all_triples()
        assert (URIRef(extra), URIRef(extra), URIRef(extra)) in everything
        assert len(everything) == len(mini_backend.all_triples()) + 1
        outcome = push(mini_store, endpoint, mode="replace")
        assert outcome.server_triples == len(mini_backend.all_triples())
        assert isomorphic(backend.all_triples(), mini_backend.all_triples())


def test_push_that_fails_midway_leaves_the_old_graph(tmp_path: Path, mini_store: VersionedStore,
                                                     curated_store: VersionedStore,
                                                     mini_backend: EmbeddedBackend) -> None:
    """The server dies after two chunks of a new graph: readers still get the whole old one."""
    srv = OxigraphServer(tmp_path / "ox").start()
    try:
        endpoint = Endpoint(srv.query_url, graph=MINI_GRAPH, auth=Auth(), retries=1, backoff=0.05, timeout=5)
        push(mini_store, endpoint)
        sent: list[int] = []

        def stop_after_two(count: int) -> None:
            sent.append(count)
            if len(sent) == 2:
                srv.stop()

        with pytest.raises(RemoteError, match=r"push failed after 1000 of the graph's triples: cannot reach"):
            push(curated_store, endpoint, chunk_size=500, progress=stop_after_two)
        srv.start()
        readers_see = RemoteBackend(endpoint).all_triples()
        assert isomorphic(readers_see, mini_backend.all_triples())
        rows = run_saved(find_query("designations"), {}, RemoteBackend(endpoint)).rows
        assert rows == run_saved(find_query("designations"), {}, mini_backend).rows
    finally:
        srv.stop()


@pytest.mark.parametrize("hostile", ['"} ; DROP ALL ; {', "> <http://evil>", "x' } UNION { ?s ?p ?o", 'a"b\\"c'])
def test_injection_through_parameters_on_server(hostile: str, server: OxigraphServer) -> None:
    backend = _remote(server)
    before = len(backend.all_triples())
    with pytest.raises(NotFound):
        run_saved(find_query("rules-affecting-firm"), {"firm": hostile}, backend)
    assert len(backend.all_triples()) == before


def test_values_block_escapes_literals_on_server(server: OxigraphServer) -> None:
    hostile = Literal('"} ; DROP ALL ; { ?s ?p ?o } #\n\u00e9\U0001f600')
    rows = _remote(server).select(with_values("SELECT ?x WHERE { }", {"x": hostile})).rows
    assert rows == [{"x": hostile}]


def test_updates_are_refused_before_sending(server: OxigraphServer) -> None:
    backend = _remote(server)
    before = len(backend.all_triples())
    for update in ("DROP ALL", "INSERT DATA { <http://a> <http://b> <http://c> }", "CLEAR DEFAULT"):
        with pytest.raises(QueryRejected, match="SPARQL update"):
            backend.query_any(update)
    assert len(backend.all_triples()) == before


def test_server_rejection_carries_the_servers_message(server: OxigraphServer) -> None:
    with pytest.raises(RemoteError, match=r"rejected the query \(HTTP 400\): error at 1:\d+"):
        _remote(server).select("SELECT WHERE {")


# --- the command line through --endpoint -------------------------------------------------------


def test_cli_query_through_endpoint_prints_the_same_table(server: OxigraphServer, curated_store: VersionedStore,
                                                          runner: CliRunner) -> None:
    args = ["query", "rules-affecting-firm", "-p", "firm=Huawei", "--format", "table"]
    local = runner.invoke(cli, [*args, "--store", str(curated_store.path)])
    remote = runner.invoke(cli, [*args, "--endpoint", server.query_url, "--graph", CURATED_GRAPH])
    assert remote.exit_code == 0, remote.output
    assert remote.output == local.output
    from_env = runner.invoke(cli, args, env={"TRADEKG_ENDPOINT": server.query_url, "TRADEKG_GRAPH": CURATED_GRAPH})
    assert from_env.output == local.output


def test_cli_show_and_sparql_through_endpoint(server: OxigraphServer, mini_store: VersionedStore,
                                              runner: CliRunner) -> None:
    local = ["--store", str(mini_store.path)]
    remote = ["--endpoint", server.query_url]
    for args in (["show", "Sub Telecom GmbH", "--format", "table"],
                 ["sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/tradekg/ontology#Company> }"],
                 ["sparql", "ASK { ?s a <https://w3id.org/tradekg/ontology#Designation> }"],
                 ["sparql", "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t . "
                            "FILTER(?s = <https://w3id.org/tradekg/id/company/subco>) }"]):
        expected = runner.invoke(cli, [*args, *local])
        got = runner.invoke(cli, [*args, *remote])
        assert got.exit_code == 0, got.output
        assert got.output == expected.output, args
    refused = runner.invoke(cli, ["sparql", "DROP ALL", *remote])
    assert refused.exit_code == 2 and "read" in refused.stderr


def test_cli_push_and_load_through_endpoint(tmp_path: Path, runner: CliRunner) -> None:
    """The README's path: build, push, query the server; then load a new row into it."""
    store = tmp_path / "store"
    assert runner.invoke(cli, ["build", "--data", str(MINI), "--store", str(store)]).exit_code == 0
    new = tmp_path / "designations-2022.csv"
    new.write_text("id,party,list,rule,start_date,license_policy,source,confidence\n"
                   "d-affco,affco,list-a,r-late,2022-05-01,case-by-case,fixture,confirmed\n")
    with oxigraph_server(tmp_path / "ox") as srv:
        pushed = runner.invoke(cli, ["push", "--endpoint", srv.query_url, "--store", str(store),
                                     "--graph", MINI_GRAPH])
        assert pushed.exit_code == 0, pushed.output
        assert "pushed" in pushed.output and "it holds" in pushed.output
        loaded = runner.invoke(cli, ["load", str(new), "--endpoint", srv.query_url, "--graph", MINI_GRAPH])
        assert loaded.exit_code == 0, loaded.output
        assert "1 designations" in loaded.output and "in one update" in loaded.output
        # The same load on the embedded store gives the same answers.
        local = VersionedStore(store)
        load(local, [InputFile(new, new.name)])
        for name, params in CASES.values():
            remote_rows = run_saved(find_query(name), params,
                                    RemoteBackend(Endpoint(srv.query_url, graph=MINI_GRAPH, auth=Auth()))).rows
            assert remote_rows == run_saved(find_query(name), params, EmbeddedBackend(local.open_read())).rows


def test_load_to_server_validates_before_writing(tmp_path: Path, mini_store: VersionedStore) -> None:
    bad = tmp_path / "designations-bad.csv"
    bad.write_text("id,party,list,start_date,end_date,source,confidence\n"
                   "d-new,subco,list-a,2022-01-01,2021-01-01,fixture,confirmed\n")
    unknown = tmp_path / "designations-unknown.csv"
    unknown.write_text("id,party,list,start_date,source,confidence\n"
                       "d-new,nobody,list-a,2022-01-01,fixture,confirmed\n")
    with oxigraph_server(tmp_path / "ox") as srv:
        endpoint = Endpoint(srv.query_url, auth=Auth())
        push(mini_store, endpoint)
        before = RemoteBackend(endpoint).all_triples()
        with pytest.raises(ValidationFailed):
            load_remote([InputFile(bad, bad.name)], endpoint)
        from kg.errors import LoadFailed

        with pytest.raises(LoadFailed):
            load_remote([InputFile(unknown, unknown.name)], endpoint)
        assert isomorphic(RemoteBackend(endpoint).all_triples(), before)


# --- faults: real sockets ----------------------------------------------------------------------


def _one_line_error(runner: CliRunner, url: str, *extra: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(cli, ["query", "designations", "--endpoint", url, *extra], env=env)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_stopped_server_is_retried_then_reported(runner: CliRunner) -> None:
    from tests.servers import free_port

    url = f"http://127.0.0.1:{free_port()}/query"
    backend = RemoteBackend(Endpoint(url, auth=Auth(), retries=2, backoff=0.1))
    started = time.monotonic()
    with pytest.raises(RemoteError, match=r"cannot reach the SPARQL server at .*refused.*\(after 3 attempts\)"):
        backend.ask("ASK {}")
    assert time.monotonic() - started >= 0.3  # backoff 0.1 + 0.2
    assert "cannot reach" in _one_line_error(runner, url)


def test_server_that_never_answers_times_out(runner: CliRunner) -> None:
    with silent_server() as port:
        url = f"http://127.0.0.1:{port}/query"
        started = time.monotonic()
        with pytest.raises(RemoteError, match=r"did not answer within 0.5 s"):
            RemoteBackend(Endpoint(url, auth=Auth(), timeout=0.5)).ask("ASK {}")
        assert time.monotonic() - started < 5
        assert "did not answer within 0.3 s" in _one_line_error(runner, url, "--timeout", "0.3")


def test_401_names_the_environment_variables_and_never_the_secret(runner: CliRunner) -> None:
    with scripted_server((401, "text/plain", b"Unauthorized")) as (url, script):
        message = _one_line_error(runner, url)
        assert "HTTP 401" in message and "TRADEKG_USER" in message and "TRADEKG_TOKEN" in message
        message = _one_line_error(runner, url, env={"TRADEKG_TOKEN": "s3cr3t-token"})
        assert "TRADEKG_TOKEN were not accepted" in message or "token in TRADEKG_TOKEN" in message
        assert "s3cr3t" not in message
        message = _one_line_error(runner, url, env={"TRADEKG_USER": "ana", "TRADEKG_PASSWORD": "pa55word"})
        assert "pa55word" not in message
    assert "Bearer s3cr3t-token" in script.seen_auth
    assert "Basic YW5hOnBhNTV3b3Jk" in script.seen_auth  # ana:pa55word


def test_403_is_its_own_error(runner: CliRunner) -> None:
    with scripted_server((403, "text/plain", b"Forbidden")) as (url, _):
        assert "refused access (HTTP 403)" in _one_line_error(runner, url)


def test_html_page_is_not_sparql_results(runner: CliRunner) -> None:
    page = b"<html><body><h1>Welcome to our wiki</h1></body></html>"
    with scripted_server((200, "text/html; charset=utf-8", page)) as (url, _):
        assert "answered with text/html, not SPARQL results" in _one_line_error(runner, url)
    with scripted_server((200, "application/sparql-results+json", b"{not json")) as (url, _):
        assert "not SPARQL results" in _one_line_error(runner, url)


def test_5xx_is_retried_with_backoff_and_bounded() -> None:
    ok = (200, "application/sparql-results+json", b'{"head": {}, "boolean": true}')
    with scripted_server((503, "text/plain", b"busy"), (502, "text/plain", b"busy"), ok) as (url, script):
        assert RemoteBackend(Endpoint(url, auth=Auth(), retries=3, backoff=0.05)).ask("ASK {}") is True
        assert len(script.seen_auth) == 3
    with scripted_server((500, "text/plain", b"out of memory")) as (url, script):
        with pytest.raises(RemoteError, match=r"failed while query \(HTTP 500\): out of memory"):
            RemoteBackend(Endpoint(url, auth=Auth(), retries=2, backoff=0.05)).ask("ASK {}")
        assert len(script.seen_auth) == 3


def test_credentials_never_come_from_the_url_or_both_ways() -> None:
    with pytest.raises(RemoteError, match="remove them from the URL"):
        Endpoint("http://ana:secret@127.0.0.1:1/query", auth=Auth())
    with pytest.raises(RemoteError, match="not both"):
        Auth.from_env({"TRADEKG_USER": "a", "TRADEKG_PASSWORD": "b", "TRADEKG_TOKEN": "c"})
    assert "secret" not in repr(Auth("ana", "secret")) and "tok" not in repr(Auth(token="tok"))


def test_graph_without_endpoint_is_a_usage_error(runner: CliRunner, mini_store: VersionedStore) -> None:
    result = runner.invoke(cli, ["query", "designations", "--store", str(mini_store.path), "--graph", MINI_GRAPH])
    assert result.exit_code == 2 and "pass --endpoint" in result.stderr


def test_push_needs_store_endpoint_for_unknown_layouts(runner: CliRunner, mini_store: VersionedStore) -> None:
    result = runner.invoke(cli, ["push", "--endpoint", "http://127.0.0.1:1/ds/sparql",
                                 "--store", str(mini_store.path)])
    assert result.exit_code == 2 and "--store-endpoint" in result.stderr


def test_remote_backend_repr_has_no_secret() -> None:
    backend = RemoteBackend(Endpoint("http://127.0.0.1:1/query", auth=Auth(token="tok-123")))
    assert "tok-123" not in repr(backend) and "tok-123" not in repr(backend.endpoint)


def test_all_triples_reads_only_the_named_graph(server: OxigraphServer) -> None:
    assert isinstance(_remote(server, MINI_GRAPH).all_triples(), Graph)
    assert len(_remote(server, "https://example.org/nothing-here").all_triples()) == 0


def test_new_user_path_in_real_subprocesses(tmp_path: Path, curated_store: VersionedStore) -> None:
    """README: start Oxigraph, push, run the headline query with --endpoint: the same table as embedded."""
    import subprocess
    import sys

    base = [sys.executable, "-m", "kg"]
    headline = ["query", "rules-affecting-firm", "-p", "firm=Huawei"]
    with oxigraph_server(tmp_path / "ox") as srv:
        pushed = subprocess.run([*base, "push", "--endpoint", srv.query_url, "--store", str(curated_store.path)],
                                capture_output=True, text=True, timeout=120)
        assert pushed.returncode == 0, pushed.stderr
        assert pushed.stderr == ""  # no progress bar when stderr is not a terminal
        remote = subprocess.run([*base, *headline, "--endpoint", srv.query_url],
                                capture_output=True, text=True, timeout=120)
    local = subprocess.run([*base, *headline, "--store", str(curated_store.path)],
                           capture_output=True, text=True, timeout=120)
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and remote.stdout.count("\n") > 5
