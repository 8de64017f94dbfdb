"""Rough edges a new user hit (issue 15): each test failed on the code before its fix."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kg.cli import cli
from kg.store import VersionedStore


def _run(runner: CliRunner, store: VersionedStore, *args: str) -> object:
    return runner.invoke(cli, [*args, "--store", str(store.path)])


def test_sparql_declares_the_prefixes_tables_print(curated_store: VersionedStore, runner: CliRunner) -> None:
    result = _run(runner, curated_store, "sparql", "SELECT ?r WHERE { ?r a tkg:Rule ; dcterms:title ?t } LIMIT 3",
                  "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["results"]["bindings"]) == 3
    # A query's own PREFIX for a project prefix wins over the default one.
    own = _run(runner, curated_store, "sparql", "PREFIX tkg: <urn:other#> ASK { ?r a tkg:Rule }")
    assert own.output.strip() == "false"


def test_a_parse_error_is_one_plain_line_with_the_position(curated_store: VersionedStore,
                                                            runner: CliRunner) -> None:
    result = _run(runner, curated_store, "sparql", "SELECT ?r WHERE {\n  ?r a tkg:Rule .\n  FILTR }")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: not valid SPARQL at line 3, column 10, at the end of 'FILTR }'"
    unknown = _run(runner, curated_store, "sparql", "SELECT ?r WHERE { ?r a foo:Rule }")
    assert len(unknown.stderr.strip().splitlines()) == 1
    assert "line 1, column" in unknown.stderr and "the prefix foo: is not declared" in unknown.stderr
    assert "\\u{" not in unknown.stderr


def test_short_ids_printed_in_tables_are_accepted_back(curated_store: VersionedStore, runner: CliRunner) -> None:
    table = _run(runner, curated_store, "query", "firms-affected-by-rule", "-p", "rule=85 FR 36719",
                 "--format", "table")
    assert "id:company/huawei" in table.output
    short = _run(runner, curated_store, "query", "rules-affecting-firm", "-p", "firm=id:company/huawei",
                 "--format", "csv")
    named = _run(runner, curated_store, "query", "rules-affecting-firm", "-p", "firm=Huawei", "--format", "csv")
    assert short.exit_code == 0, short.output
    assert short.output == named.output
    rule = _run(runner, curated_store, "show", "id:rule/standards-2022", "--format", "csv")
    assert rule.exit_code == 0, rule.output
    assert "https://w3id.org/tradekg/id/rule/standards-2022" in rule.output


def test_show_finds_a_record_by_its_id_and_names_list_entries(curated_store: VersionedStore,
                                                             runner: CliRunner) -> None:
    record = _run(runner, curated_store, "show", "el-huawei", "--type", "designations", "--format", "table")
    assert record.exit_code == 0, record.output
    assert "designated party" in record.output and "2019-05-16" in record.output
    firm = _run(runner, curated_store, "show", "Huawei", "--format", "table")
    assert "Entity List since 2019-05-16 (id:designation/el-huawei)" in firm.output
