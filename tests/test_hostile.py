"""Hostile input, on the embedded store and on a real Oxigraph server (issue 6, "Nothing lost, nobody in").

- Every parameter of every saved query meets injection payloads; the graph is
  unchanged after each and the answer is rows or a plain exit-2 refusal.
- Entities whose *names* are payloads are found by name and come back verbatim.
- ``sparql`` refuses every update form, however it is dressed, on both backends
  (on a server, before anything is sent).
- Pictures and graph files of script-bearing labels hold no script element and
  no ``on...`` attribute; CSV cells that a spreadsheet would run are neutralised.
- Paths that are not what the user named (a folder, a symlink into /etc, a
  missing folder or file) end in one plain line and exit 2, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef

from kg.answers.queries import BadParameter, find_query, run_saved, saved_queries
from kg.answers.render import csv_safe, render_to_string
from kg.answers.resolve import Ambiguous, entity_names, normalise
from kg.cli import cli
from kg.errors import NotFound
from kg.graph.backend import EmbeddedBackend, QueryRejected, ResultTable, is_update, update_keyword
from kg.graph.remote import Auth, Endpoint, RemoteBackend
from kg.graph.store import VersionedStore
from kg.pipeline.build import build
from kg.pipeline.push import push
from kg.resources import queries_dir
from tests.conftest import MINI, mini_files
from tests.servers import OxigraphServer, oxigraph_server, scripted_server

pytestmark = pytest.mark.slow

DROP = '"} ; DROP ALL ; {'
SCRIPT = "<script>alert(1)</script>"
SVG_ONLOAD = '"><svg onload=alert(1)>'
CDATA_END = "]]>"
FORMULAS = ('=HYPERLINK("http://evil.example/","x")', "+1+1", "-2+3", "@SUM(A1)")

# What a hostile user types as a parameter value.
PAYLOADS = (
    DROP,
    "> <http://evil>",
    "x' } UNION { ?s ?p ?o",
    'a"b\\"c',
    "'",
    '"',
    '"""',
    "\\",
    "\u0000",
    "}}}} ; CLEAR ALL ; {{{{",
    "\n} INSERT DATA { <http://a> <http://b> <http://c> } #",
    "?firm",
    "# DROP ALL",
    "http://evil> } ; DROP ALL ; { <x",
    "https://w3id.org/tradekg/id/company/parentco> . ?s ?p ?o . <x",
    "urn:x y",
    '2020-01-01"^^<http://evil>',
    "\ufeffDROP ALL",
    "x" * 100_000,
)

# SPARQL updates in every form and disguise. The forms marked "slipped" were not
# recognised by kg.graph.backend.is_update before issue 6 (it asked rdflib whether the
# text parses as an update): the server would have received them.
UPDATES = {
    "insert-data": "INSERT DATA { <http://a> <http://b> <http://c> }",
    "delete-data": "DELETE DATA { <http://a> <http://b> <http://c> }",
    "delete-where": "DELETE WHERE { ?s ?p ?o }",
    "delete-insert-where": "DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
    "insert-where": "INSERT { ?s <http://x> 1 } WHERE { ?s ?p ?o }",
    "with": "WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "load": "LOAD <http://example.org/x>",
    "load-silent-into": "LOAD SILENT <http://example.org/x> INTO GRAPH <http://g>",
    "clear": "CLEAR ALL",
    "clear-default": "CLEAR DEFAULT",
    "drop": "DROP ALL",
    "drop-graph": "DROP SILENT GRAPH <http://g>",
    "create": "CREATE GRAPH <http://g>",
    "add": "ADD DEFAULT TO <http://g>",
    "move": "MOVE <http://g> TO DEFAULT",
    "copy": "COPY DEFAULT TO <http://g>",
    "sequence": "CLEAR DEFAULT ; DROP ALL",
    "after-comments": "# a comment\n# DROP is in here too\nDELETE WHERE { ?s ?p ?o }",
    "after-prefix-base": "PREFIX x: <http://x/#>\nBASE <http://b/>\nCLEAR DEFAULT",
    "odd-case": "dRoP aLl",
    "lower-case": "insert data { <http://a> <http://b> <http://c> }",
    "leading-whitespace": " \n\t\r DROP ALL",
    "comment-inside": "DROP # not yet\n ALL",
    # Slipped through before issue 6:
    "bom": "\ufeffDROP ALL",  # slipped
    "nbsp": "\u00a0DROP ALL",  # slipped
    "line-separator": "\u2028CLEAR ALL",  # slipped
    "trailing-junk": "DROP ALL ; garbage",  # slipped
    "malformed-drop": "DROP EVERYTHING",  # slipped
    "delete-with-limit": "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1",  # slipped
    "after-a-query": "SELECT * WHERE { ?s ?p ?o } ; DROP ALL",  # slipped
    "bom-prefix-comment": "\ufeff# x\nPREFIX a: <http://a/>\nmove default to <http://g>",  # slipped
}

# Read queries with update words where they are harmless (strings, IRIs, names, comments).
READS = (
    "SELECT ?add ?insert WHERE { ?s <http://x/#drop> ?o . ?s ?p 'DROP ALL' } # DELETE WHERE {}",
    "PREFIX drop: <http://d/> SELECT * WHERE { ?s drop:load ?o . FILTER(?o != \"\"\"CLEAR\nALL\"\"\"@en) }",
    "ASK { _:copy ?p ?o }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?o < 3 && ?s > 2) }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1",
    "DESCRIBE <http://with.example/move>",
)


def _hostile_data(root: Path) -> Path:
    """The mini dataset with ParentCo renamed to a payload and subsidiaries named by others."""
    data = root / "mini-hostile"
    shutil.copytree(MINI, data)
    companies = data / "companies.csv"
    rows = list(csv.DictReader(companies.open(encoding="utf-8", newline="")))
    fields = list(rows[0])
    for row in rows:
        if row["id"] == "parentco":
            row["name"] = DROP
            row["aliases"] = f"{SCRIPT};{SVG_ONLOAD};ParentCo"
            row["note"] = CDATA_END
    names = (SCRIPT + " Holdings", SVG_ONLOAD + " Ltd", "Bad " + CDATA_END, *FORMULAS)
    for number, name in enumerate(names):
        rows.append({**dict.fromkeys(fields, ""), "id": f"hostile{number}", "name": name, "country": "CN",
                     "parent": "parentco", "source": "fixture", "confidence": "confirmed"})
    with companies.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return data


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> VersionedStore:
    root = tmp_path_factory.mktemp("hostile-kg")
    store = VersionedStore(root / "store")
    build(store, mini_files(_hostile_data(root)))
    return store


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, hostile_store: VersionedStore) -> Iterator[OxigraphServer]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph-hostile")) as started:
        push(hostile_store, Endpoint(started.query_url, auth=Auth()))
        yield started


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, hostile_store: VersionedStore) -> EmbeddedBackend | RemoteBackend:
    if request.param == "embedded":
        return EmbeddedBackend(hostile_store.open_read(), timeout=60)
    srv = request.getfixturevalue("server")
    return RemoteBackend(Endpoint(srv.query_url, auth=Auth()), query_timeout=60)


def _where(backend: EmbeddedBackend | RemoteBackend, hostile_store: VersionedStore) -> list[str]:
    if isinstance(backend, EmbeddedBackend):
        return ["--store", str(hostile_store.path)]
    return ["--endpoint", backend.endpoint.query_url]


_COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


def _fingerprint(backend: EmbeddedBackend | RemoteBackend) -> int:
    return int(backend.select(_COUNT_ALL).rows[0]["n"])


def _valid_values(backend: EmbeddedBackend | RemoteBackend) -> dict[str, dict[str, str]]:
    """For each saved query, a value for every parameter that is known to resolve."""
    values: dict[str, dict[str, str]] = {}
    for query in saved_queries().values():
        chosen: dict[str, str] = {}
        for param in query.parameters:
            if param.kind == "entity":
                chosen[param.name] = str(sorted(entity_names(backend, param.tables))[0])
            elif param.kind == "date":
                chosen[param.name] = "2020-06-01"
            elif param.kind == "integer":
                chosen[param.name] = "1"
            else:
                chosen[param.name] = "x"
        values[query.name] = chosen
    return values


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------

def test_every_parameter_of_every_saved_query_resists_injection(backend: EmbeddedBackend | RemoteBackend) -> None:
    before = _fingerprint(backend)
    valid = _valid_values(backend)
    tried = 0
    for query in saved_queries().values():
        for param in query.parameters:
            for payload in PAYLOADS:
                values = {**valid[query.name], param.name: payload}
                try:
                    result = run_saved(query, values, backend)
                except (NotFound, BadParameter, Ambiguous) as exc:
                    assert str(exc), "a refusal says why"
                except QueryRejected as exc:  # a payload that is no RDF term at all
                    assert "is not a valid IRI or term" in str(exc), (query.name, param.name, payload[:40], exc)
                else:  # only a payload that is the name of an entity in the data (ParentCo's) finds rows
                    assert isinstance(result, ResultTable)
                    assert param.kind == "entity", (query.name, param.name, payload[:40])
                    known = {normalise(n) for ns in entity_names(backend, param.tables).values() for n in ns}
                    assert normalise(payload) in known, (query.name, param.name, payload[:40])
                assert _fingerprint(backend) == before, (query.name, param.name, payload[:40])
                tried += 1
    assert tried == len(PAYLOADS) * sum(len(q.parameters) for q in saved_queries().values())


@pytest.mark.parametrize("payload", [DROP, "> <http://evil>", "http://evil> } ; DROP ALL ; { <x", "\u0000",
                                     "x" * 20_000])
def test_cli_refuses_payload_parameters_in_plain_words(payload: str, backend: EmbeddedBackend | RemoteBackend,
                                                       hostile_store: VersionedStore, runner: CliRunner) -> None:
    before = _fingerprint(backend)
    for args in (["query", "rules-affecting-firm", "-p", f"firm=x{payload}"],
                 ["query", "designations", "-p", f"list={payload}"],
                 ["query", "designations", "-p", f"as_of={payload}"],
                 ["show", f"x{payload}"]):
        result = runner.invoke(cli, [*args, *_where(backend, hostile_store)])
        assert result.exit_code == 2, (args[:2], result.output[-300:])
        assert result.stdout == ""
        assert "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit)  # a plain exit, not an uncaught error
        assert result.stderr.startswith("Error: ")
    assert _fingerprint(backend) == before


# ---------------------------------------------------------------------------
# Names in the data
# ---------------------------------------------------------------------------

def test_entity_named_like_an_injection_is_found_and_returned_verbatim(
        backend: EmbeddedBackend | RemoteBackend) -> None:
    before = _fingerprint(backend)
    by_id = run_saved(find_query("rules-affecting-firm"), {"firm": "parentco"}, backend)
    assert by_id.rows
    for name in (DROP, SCRIPT, SVG_ONLOAD, f"  {DROP.upper()}  "):
        by_name = run_saved(find_query("rules-affecting-firm"), {"firm": name}, backend)
        assert by_name.rows == by_id.rows, name
    listed = run_saved(find_query("designations"), {}, backend)
    assert Literal(DROP) in listed.column("name")
    parent = URIRef("https://w3id.org/tradekg/id/company/parentco")
    affected = run_saved(find_query("firms-affected-by-rule"), {"rule": "1 FR 100"}, backend)
    assert parent in affected.column("firm")
    for number, name in enumerate((SCRIPT + " Holdings", SVG_ONLOAD + " Ltd", "Bad " + CDATA_END, *FORMULAS)):
        timeline = run_saved(find_query("rules-affecting-firm"), {"firm": name}, backend)
        assert timeline.rows, name
        assert run_saved(find_query("rules-affecting-firm"), {"firm": f"hostile{number}"}, backend).rows == \
            timeline.rows
    assert _fingerprint(backend) == before


def test_cli_show_and_json_return_hostile_names_verbatim(backend: EmbeddedBackend | RemoteBackend,
                                                         hostile_store: VersionedStore, runner: CliRunner) -> None:
    shown = runner.invoke(cli, ["show", DROP, "--format", "json", *_where(backend, hostile_store)])
    assert shown.exit_code == 0, shown.output
    values = {b["value"]["value"] for b in json.loads(shown.stdout)["results"]["bindings"]}
    assert {DROP, SCRIPT, SVG_ONLOAD, CDATA_END} <= values
    unknown = runner.invoke(cli, ["query", "rules-affecting-firm", "-p", 'firm="} ; DROP AL ; {',
                                  *_where(backend, hostile_store)])
    assert unknown.exit_code == 2
    assert "did you mean" in unknown.stderr and repr(DROP) in unknown.stderr


# ---------------------------------------------------------------------------
# sparql is read-only
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("form", sorted(UPDATES))
def test_is_update_recognises_every_update_form(form: str) -> None:
    assert is_update(UPDATES[form])
    assert update_keyword(UPDATES[form]) is not None


@pytest.mark.parametrize("text", READS)
def test_reads_with_update_words_in_strings_iris_and_names_are_not_updates(text: str) -> None:
    assert not is_update(text)


def test_no_query_shipped_with_tradekg_looks_like_an_update() -> None:
    for path in sorted(queries_dir().rglob("*.rq")):
        assert not is_update(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("form", sorted(UPDATES))
def test_sparql_refuses_every_update_form_on_both_backends(form: str, backend: EmbeddedBackend | RemoteBackend,
                                                           hostile_store: VersionedStore,
                                                           runner: CliRunner) -> None:
    before = _fingerprint(backend)
    version = hostile_store.current_version()
    with pytest.raises(QueryRejected, match="SPARQL update"):
        backend.query_any(UPDATES[form])
    result = runner.invoke(cli, ["sparql", UPDATES[form], *_where(backend, hostile_store)])
    assert result.exit_code == 2, result.output
    assert "only reads the graph" in result.stderr
    assert _fingerprint(backend) == before
    assert hostile_store.current_version() == version


def test_sparql_file_with_a_bom_reads_and_a_bom_update_is_refused(hostile_store: VersionedStore,
                                                                  runner: CliRunner, tmp_path: Path) -> None:
    select = tmp_path / "select.rq"
    select.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", encoding="utf-8-sig")
    ok = runner.invoke(cli, ["sparql", "-f", str(select), "--store", str(hostile_store.path), "--format", "csv"])
    assert ok.exit_code == 0, ok.output
    update = tmp_path / "update.rq"
    update.write_text("DROP ALL", encoding="utf-8-sig")
    refused = runner.invoke(cli, ["sparql", "-f", str(update), "--store", str(hostile_store.path)])
    assert refused.exit_code == 2 and "only reads the graph" in refused.stderr


def test_updates_never_reach_a_server() -> None:
    """Refused before sending: the server sees no request at all."""
    with scripted_server((200, "application/sparql-results+json", b'{"boolean": true}')) as (url, script):
        remote = RemoteBackend(Endpoint(url, auth=Auth(), retries=0))
        for text in UPDATES.values():
            with pytest.raises(QueryRejected):
                remote.query_any(text)
        assert script.seen_auth == []
        assert remote.ask("ASK {}") is True  # the same server does get a read
        assert len(script.seen_auth) == 1


# ---------------------------------------------------------------------------
# Pictures and graph files
# ---------------------------------------------------------------------------

def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _assert_inert_xml(text: str) -> str:
    """Parse ``text`` as XML: no script element, no on... attribute; return all its text and attribute values."""
    root = ET.fromstring(text.encode("utf-8"))
    seen: list[str] = []
    for element in root.iter():
        assert _local(element.tag) != "script", "a script element"
        for attribute, value in element.attrib.items():
            assert not _local(attribute).startswith("on"), f"event attribute {attribute}={value!r}"
            assert not value.strip().lower().startswith("javascript:")
            seen.append(value)
        seen.extend(t for t in (element.text, element.tail) if t)
    return "\n".join(seen)


@pytest.mark.parametrize("fmt", ["svg", "graphml", "gexf", "dot"])
def test_exports_keep_script_bearing_labels_as_text(fmt: str, hostile_store: VersionedStore, runner: CliRunner,
                                                    tmp_path: Path) -> None:
    if fmt in ("svg", "dot") and shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    out = tmp_path / f"graph.{fmt}"
    result = runner.invoke(cli, ["export", fmt, "--focus", "parentco", "--depth", "2", "-o", str(out),
                                 "--store", str(hostile_store.path)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    if fmt == "dot":  # not XML: Graphviz must read it back and draw the same inert SVG
        text = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True,
                              timeout=120).stdout
    content = _assert_inert_xml(text)
    lowered = text.lower()
    assert "<script" not in lowered and "<svg onload" not in lowered
    # The labels are there, as text. (Pictures cut a name at its first " ; ", so ParentCo reads '"}'.)
    labels = [SCRIPT + " Holdings", "Bad " + CDATA_END, DROP if fmt in ("graphml", "gexf") else '"}']
    for label in labels:
        assert label in content, label


def test_html_page_holds_labels_only_as_data(hostile_store: VersionedStore, runner: CliRunner,
                                             tmp_path: Path) -> None:
    out = tmp_path / "graph.html"
    result = runner.invoke(cli, ["export", "html", "--focus", "parentco", "-o", str(out),
                                 "--store", str(hostile_store.path)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    for raw in (SCRIPT, SVG_ONLOAD, "<svg", "]]>"):
        assert raw not in page
    assert page.lower().count("<script") == 3  # the page's own blocks: the data and two scripts
    assert "onload=" not in page.lower().replace("\\u003csvg onload=", "")


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "=HYPERLINK(\"http://e\")"])
def test_csv_safe_prefixes_formula_starts(text: str) -> None:
    assert csv_safe(text) == "'" + text
    assert csv_safe("plain " + text) == "plain " + text


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_every_csv_output_neutralises_formulas(backend: EmbeddedBackend | RemoteBackend,
                                              hostile_store: VersionedStore, runner: CliRunner) -> None:
    where = _where(backend, hostile_store)
    outputs = {
        "query": runner.invoke(cli, ["query", "rules-affecting-firm", "-p", f"firm={FORMULAS[0]}", "--format",
                                     "csv", *where]),
        "query-piped": runner.invoke(cli, ["query", "firms-affected-by-rule", "-p", "rule=1 FR 100", *where]),
        "sparql": runner.invoke(cli, ["sparql", "SELECT ?name WHERE { ?c <https://schema.org/name> ?name }",
                                      "--format", "csv", *where]),
        "show": runner.invoke(cli, ["show", FORMULAS[1], "--format", "csv", *where]),
        "list": runner.invoke(cli, ["query", "--list", "--format", "csv"]),
    }
    if isinstance(backend, EmbeddedBackend):  # screen reads the store only
        outputs["screen"] = runner.invoke(cli, ["screen", "HYPERLINK", "--threshold", "10", "--format", "csv",
                                                *where])
    found = set()
    for name, result in outputs.items():
        assert result.exit_code == 0, (name, result.output[-300:])
        cells = _csv_cells(result.stdout)
        assert len(cells) > 1, name
        for cell in cells:
            assert not cell.startswith(_DANGEROUS), (name, cell)
        found |= {c for c in cells if c.startswith("'")}
    assert {"'" + f for f in FORMULAS} <= found


def test_render_csv_is_the_only_csv_writer() -> None:
    """Every CSV tradekg prints goes through kg.answers.render.render_csv (which applies csv_safe)."""
    package = Path(__file__).parent.parent / "kg"
    writers = [p.relative_to(package).as_posix() for p in package.rglob("*.py")
               if "csv.writer(" in p.read_text(encoding="utf-8") or "DictWriter(" in p.read_text(encoding="utf-8")]
    assert writers == ["answers/render.py"]
    table = ResultTable(["a"], [{"a": Literal(FORMULAS[0])}])
    assert render_to_string(table, "csv") == 'a\n"\'=HYPERLINK(""http://evil.example/"",""x"")"\n'


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------

def _plain_error(result: object) -> None:
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    assert isinstance(result.exception, SystemExit)  # type: ignore[attr-defined]
    assert "Error" in result.stderr  # type: ignore[attr-defined]


def test_paths_outside_what_the_user_named_end_in_plain_errors(hostile_store: VersionedStore, runner: CliRunner,
                                                               tmp_path: Path) -> None:
    version = hostile_store.current_version()
    store = ["--store", str(hostile_store.path)]
    folder = tmp_path / "companies"
    folder.mkdir()
    _plain_error(runner.invoke(cli, ["load", str(folder), *store]))
    if Path("/etc/passwd").exists():
        link = tmp_path / "companies.csv"
        os.symlink("/etc/passwd", link)
        result = runner.invoke(cli, ["load", str(link), *store])
        _plain_error(result)
        assert "nothing was loaded" in result.stderr
    _plain_error(runner.invoke(cli, ["export", "svg", "-o", str(tmp_path / "missing" / "x.svg"), *store]))
    _plain_error(runner.invoke(cli, ["export", "turtle", "-o", str(tmp_path), *store]))
    _plain_error(runner.invoke(cli, ["sparql", "-f", str(tmp_path / "missing.rq"), *store]))
    _plain_error(runner.invoke(cli, ["sparql", "-f", str(folder), *store]))
    _plain_error(runner.invoke(cli, ["query", "designations", "--store", "/etc/passwd"]))
    _plain_error(runner.invoke(cli, ["query", "designations", "--store", str(tmp_path / "no-store")]))
    assert hostile_store.current_version() == version


def test_csv_output_round_trips_carriage_returns() -> None:
    import csv
    import io

    from rdflib import Literal

    from kg.answers.render import render_to_string
    from kg.graph.backend import ResultTable

    table = ResultTable(["a", "b"], [{"a": Literal("x\ry"), "b": Literal("plain")}, {"a": Literal("z")}])
    rows = list(csv.reader(io.StringIO(render_to_string(table, "csv"), newline="")))
    assert rows == [["a", "b"], ["x\ry", "plain"], ["z", ""]]


def test_a_symlink_is_named_with_its_target(tmp_path: Path) -> None:
    from kg.pipeline.build import user_files

    target = tmp_path / "real.csv"
    target.write_text("id,name\n")
    link = tmp_path / "companies-link.csv"
    link.symlink_to(target)
    (named,) = user_files([link])
    assert named.display.endswith(f"companies-link.csv -> {target.resolve()}")
