"""The tradekg command: exit codes, formats, errors on stderr (through click's runner)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.graph.store import VersionedStore
from tests.conftest import MINI


@pytest.fixture
def store_dir(tmp_path: Path, runner: CliRunner) -> Path:
    path = tmp_path / "store"
    result = runner.invoke(cli, ["build", "--data", str(MINI), "--store", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_build_reports_rows_triples_and_conformance(store_dir: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["build", "--data", str(MINI), "--store", str(store_dir)])
    assert result.exit_code == 0
    assert "5 companies" in result.output
    assert "conforms:" in result.output


def test_query_json_is_sparql_results_layout(store_dir: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["query", "rules-affecting-firm", "-p", "firm=ParentCo", "--format", "json",
                                 "--store", str(store_dir)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["head"]["vars"][:2] == ["rule", "citation"]
    first = doc["results"]["bindings"][0]
    assert first["citation"] == {"type": "literal", "value": "1 FR 100"}
    assert first["from"]["datatype"] == "http://www.w3.org/2001/XMLSchema#date"


def test_query_table_and_csv(store_dir: Path, runner: CliRunner) -> None:
    table = runner.invoke(cli, ["query", "designations", "--format", "table", "--store", str(store_dir)])
    assert table.exit_code == 0
    assert "Other Corp" in table.output and "(2 rows)" in table.output
    csv_out = runner.invoke(cli, ["query", "designations", "--store", str(store_dir)])  # piped: csv
    assert csv_out.output.splitlines()[0] == \
        "party,name,list,listName,rules,documents,from,until,status,policy,requirement,listing,held"


def test_query_list_names_every_query_and_parameter(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["query", "--list", "--format", "table"])
    assert result.exit_code == 0
    for name in ("rules-affecting-firm", "firms-affected-by-rule", "designations", "firm-timeline",
                 "rules-by-official"):
        assert name in result.output
    assert "-p as_of=..." in result.output


def test_unknown_firm_exits_2_with_did_you_mean(store_dir: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["query", "rules-affecting-firm", "-p", "firm=Parnt Telecom",
                                 "--store", str(store_dir)])
    assert result.exit_code == 2
    assert "did you mean" in result.stderr
    assert result.stdout == ""


def test_missing_store_exits_2(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["query", "designations", "--store", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "run `tradekg build` first" in result.stderr


@pytest.mark.parametrize("update", [
    "DROP ALL",
    "insert data { <http://a> <http://b> <http://c> }",
    "# a comment first\nDELETE WHERE { ?s ?p ?o }",
    "PREFIX x: <http://x/>\nCLEAR DEFAULT",
    "LOAD <http://example.org/x>",
    "CREATE GRAPH <http://g>",
])
def test_sparql_refuses_updates(update: str, store_dir: Path, runner: CliRunner) -> None:
    before = VersionedStore(store_dir).current_version()
    result = runner.invoke(cli, ["sparql", update, "--store", str(store_dir)])
    assert result.exit_code == 2
    assert "read" in result.stderr
    assert VersionedStore(store_dir).current_version() == before


def test_sparql_select_ask_construct(store_dir: Path, runner: CliRunner, tmp_path: Path) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/tradekg/ontology#Company> }"
    select = runner.invoke(cli, ["sparql", count, "--store", str(store_dir), "--format", "csv"])
    assert select.output == "n\n5\n"
    ask = runner.invoke(cli, ["sparql", "ASK { ?s a <https://w3id.org/tradekg/ontology#Designation> }",
                              "--store", str(store_dir)])
    assert ask.output.strip() == "true"
    rq = tmp_path / "q.rq"
    rq.write_text("CONSTRUCT { ?s a ?t } WHERE { ?s a ?t . FILTER(?s = <https://w3id.org/tradekg/id/company/subco>) }")
    construct = runner.invoke(cli, ["sparql", "-f", str(rq), "--store", str(store_dir)])
    assert "<https://w3id.org/tradekg/id/company/subco> a tkg:Company" in construct.output


def test_sparql_syntax_error_exits_2(store_dir: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["sparql", "SELECT WHERE {", "--store", str(store_dir)])
    assert result.exit_code == 2
    assert "not valid SPARQL" in result.stderr


def test_show_lists_statements_sources_and_origin(store_dir: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["show", "Sub Telecom GmbH", "--format", "table", "--store", str(store_dir)])
    assert result.exit_code == 0, result.output
    assert "Sub Telecom GmbH" in result.output
    assert "Parent Telecom Co. Ltd." in result.output  # its parent, by label
    assert "Test fixture source  https://example.org/fixture" in result.output
    assert "mini/companies.csv:3" in result.output


def test_validate_exits_1_on_violation_with_location(tmp_path: Path, runner: CliRunner) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    path = data / "designations.csv"
    path.write_text(path.read_text().replace("2020-02-28,2020-12-31", "2021-02-28,2020-12-31"))
    result = runner.invoke(cli, ["validate", "--data", str(data)])
    assert result.exit_code == 1
    assert "designations.csv:3: column start_date" in result.stderr + result.output


def test_load_bad_file_exits_2_and_lists_every_problem(store_dir: Path, runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "companies-bad.csv"
    bad.write_text("id,name,country,colour,source,confidence\nx,X,ZZ,red,fixture,confirmed\n")
    result = runner.invoke(cli, ["load", str(bad), "--store", str(store_dir)])
    assert result.exit_code == 2
    assert "column colour: unknown column" in result.stderr
    assert "nothing was loaded" in result.stderr


def test_real_subprocess_build_and_query(tmp_path: Path) -> None:
    """The installed entry point, as a user runs it, outside click's runner."""
    store = tmp_path / "store"
    base = [sys.executable, "-m", "kg"]
    built = subprocess.run([*base, "build", "--data", str(MINI), "--store", str(store)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    answered = subprocess.run([*base, "query", "firm-timeline", "-p", "firm=subco", "--store", str(store)],
                              capture_output=True, text=True, timeout=120)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.splitlines()[0] == "date,event,citation,document,title,detail"
    assert "parent listed: Parent Telecom Co. Ltd." in answered.stdout  # exposure, not a designation
    unknown = subprocess.run([*base, "query", "nope", "--store", str(store)], capture_output=True, text=True,
                             timeout=120)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("Error: no saved query named 'nope'")


def _copy_of_mini_store(mini_store: VersionedStore, tmp_path: Path) -> VersionedStore:
    import shutil

    shutil.copytree(mini_store.path, tmp_path / "store", symlinks=True)
    return VersionedStore(tmp_path / "store")


def _store_state(store: VersionedStore) -> tuple[Path, list[str], frozenset]:
    quads = frozenset(store.open_read().quads_for_pattern(None, None, None, None))
    return store.current_version(), sorted(p.name for p in store.versions.iterdir()), quads


NEW_DESIGNATION = ("id,party,list,rule,start_date,end_date,license_policy,source,confidence\n"
                   "d-new,subco,list-a,r-list,2021-01-01,{end},case-by-case,fixture,confirmed\n")


def test_validate_files_checks_them_as_load_would_and_writes_nothing(
        mini_store: VersionedStore, tmp_path: Path, runner: CliRunner) -> None:
    store = _copy_of_mini_store(mini_store, tmp_path)
    before = _store_state(store)
    good = tmp_path / "designations.csv"
    good.write_text(NEW_DESIGNATION.format(end=""))
    result = runner.invoke(cli, ["validate", str(good), "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    assert "conforms" in result.output
    assert _store_state(store) == before  # no new version, no leftover directory

    bad = tmp_path / "bad" / "designations.csv"
    bad.parent.mkdir()
    bad.write_text(NEW_DESIGNATION.format(end="2020-06-30"))  # ends before it starts: a shape, not the loader
    result = runner.invoke(cli, ["validate", str(bad), "--store", str(store.path)])
    assert result.exit_code == 1, result.output
    assert "designations.csv:2: column start_date" in result.stderr + result.output
    assert _store_state(store) == before

    # The same verdicts as a real load: the good file loads, the bad one is refused.
    assert runner.invoke(cli, ["load", str(bad), "--store", str(store.path)]).exit_code == 1
    assert runner.invoke(cli, ["load", str(good), "--store", str(store.path)]).exit_code == 0


def test_validate_files_names_an_id_the_store_already_has(
        mini_store: VersionedStore, tmp_path: Path, runner: CliRunner) -> None:
    store = _copy_of_mini_store(mini_store, tmp_path)
    before = _store_state(store)
    again = tmp_path / "designations.csv"
    again.write_text(NEW_DESIGNATION.format(end="").replace("d-new", "d-parentco"))
    result = runner.invoke(cli, ["validate", str(again), "--store", str(store.path)])
    assert result.exit_code == 2, result.output
    assert "designations.csv:2: column id" in result.stderr + result.output
    assert "already has this designations row" in result.stderr + result.output
    assert _store_state(store) == before


def test_words_found_in_the_names_of_exactly_one_entity_answer_for_it_saying_so_on_stderr(
        curated_store: VersionedStore, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["query", "designations", "-p", "list=1260H", "--format", "csv",
                                 "--store", str(curated_store.path)])
    assert result.exit_code == 0, result.output
    assert ("list: '1260H' taken as Chinese Military Companies List (Section 1260H) "
            "<https://w3id.org/tradekg/id/list/dod-1260h-list>") in result.stderr
    rows = result.stdout.splitlines()[1:]
    assert rows and all(",Chinese Military Companies List (Section 1260H)," in row for row in rows)
    # Words found in the names of several entities still get "did you mean", never a guess.
    several = runner.invoke(cli, ["query", "rules-affecting-firm", "-p", "firm=Huawei Technologies",
                                  "--store", str(curated_store.path)])
    assert several.exit_code == 2 and "did you mean" in several.stderr
    # An exact name answers with nothing on stderr.
    exact = runner.invoke(cli, ["query", "designations", "-p", "list=Entity List", "--format", "csv",
                                "--store", str(curated_store.path)])
    assert exact.exit_code == 0 and exact.stderr == ""


def test_a_rule_without_a_confirmed_citation_is_identified_by_its_document_number(
        curated_store: VersionedStore, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["query", "firms-affected-by-rule", "-p", "rule=2022-19415", "--format", "csv",
                                 "--store", str(curated_store.path)])
    assert result.exit_code == 0, result.output
    assert "https://w3id.org/tradekg/id/company/huawei," in result.stdout
    assert result.stderr == ""
