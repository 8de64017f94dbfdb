"""`import federal-register`: the real API files, enrichment of curated rules, page citations, bad input.

Real files come from shared/realdata/federal-register/ (never copied into the
project). The one BIS document, tests/fixtures/federal-register/2024-15810.json,
is written for the tests in the API's shape from the curated rule
standards-2024's sourced values (the real folder has no BIS document).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.graph.store import VersionedStore
from kg.namespaces import ELI, SCHEMA, TKG, concept_iri, entity_iri
from kg.sources import federal_register as fr
from kg.sources.base import SourceFailed
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "federal-register" / "2024-15810.json"
HUAWEI_BLOCK = "csl/csl_consolidated_2025_entity_list_huawei_block.csv"


@pytest.fixture
def store(curated_store: VersionedStore, tmp_path: Path) -> VersionedStore:
    target = tmp_path / "store"
    shutil.copytree(curated_store.path, target, symlinks=True)
    return VersionedStore(target)


def run(runner: CliRunner, store: VersionedStore, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["import", *args, "--store", str(store.path)])
    return result.exit_code, result.stdout, result.stderr


def values(store: VersionedStore, subject: str, predicate: str) -> list[str]:
    reader = store.open_read()
    return sorted(q.object.value for q in reader.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate),
                                                                    None, ox.DefaultGraph()))


def real_files(realdata: Path) -> list[Path]:
    folder = realdata / "federal-register"
    return sorted([*folder.glob("documents/*.json"), *folder.glob("search/*.json"), *folder.glob("derived/*.json")])


def test_every_real_file_reads_and_every_truncated_one_is_refused_by_name_and_position(realdata: Path) -> None:
    files = fr.read_files((p, p.name) for p in real_files(realdata))
    assert len(files) == 12
    numbers = {d.number for f in files for d in f.documents}
    assert {"2024-31396", "2024-29463", "2026-19417", "93-32104", "95-3162", "2025-05887", "00-111",
            "2024-27333", "C1-2014-25788", "2026-17082"} <= numbers
    truncated = sorted((realdata / "federal-register" / "truncated").glob("*.json"))
    assert len(truncated) == 3
    for path in truncated:
        with pytest.raises(SourceFailed) as caught:
            fr.read_files([(path, path.name)])
        problem = caught.value.problems[0]
        assert problem.file == path.name and problem.line == 1 and problem.column
        assert "it looks truncated" in problem.message and "character" in problem.message


def test_real_documents_map_every_field(store: VersionedStore, runner: CliRunner, realdata: Path) -> None:
    code, out, err = run(runner, store, "federal-register", *map(str, real_files(realdata)))
    assert code == 0, err
    rule = entity_iri("rule", "frapi-2024-29463")
    assert values(store, rule, "http://purl.org/dc/terms/bibliographicCitation") == ["89 FR 105692"]
    assert values(store, rule, str(SCHEMA.pageStart)) == ["105692"]
    assert values(store, rule, str(SCHEMA.pageEnd)) == ["105788"]
    assert values(store, rule, str(ELI.date_publication)) == ["2024-12-27"]
    assert values(store, rule, str(ELI.first_date_entry_in_force)) == ["2025-01-27"]
    assert values(store, rule, str(TKG.rin)) == ["2060-AS35"]
    assert values(store, rule, str(TKG.cfrPart)) == ["40 CFR 50"]
    assert values(store, rule, str(TKG.frAction)) == ["Final rule."]
    assert values(store, rule, str(TKG.ruleType)) == [concept_iri("rule-type", "final-rule")]
    assert values(store, rule, str(TKG.pdfUrl)) == ["https://www.govinfo.gov/content/pkg/FR-2024-12-27/pdf/2024-29463.pdf"]
    assert values(store, rule, str(TKG.jsonUrl))[0].startswith("https://www.federalregister.gov/api/v1/documents/")
    abstract = values(store, rule, "http://purl.org/dc/terms/abstract")[0]
    assert "<" not in abstract and abstract.startswith("Based on the Environmental Protection Agency")
    epa = values(store, rule, str(ELI.passed_by))
    assert epa == [entity_iri("agency", "frapi-environmental-protection-agency")]
    assert values(store, epa[0], str(TKG.frAgencyId)) == ["145"]
    # An executive order: its number, signing date, type; the EOP is the curated agency (data/federal_register.yml).
    eo = entity_iri("rule", "frapi-2026-19417")
    assert values(store, eo, str(TKG.executiveOrderNumber)) == ["14430"]
    assert values(store, eo, str(ELI.date_document)) == ["2026-09-17"]
    assert values(store, eo, str(TKG.ruleType)) == [concept_iri("rule-type", "executive-order")]
    assert values(store, eo, str(ELI.passed_by)) == [entity_iri("agency", "eop")]
    # A new agency is added with its parent: FERC under the Energy Department (search page, API ids 167 and 136).
    ferc = entity_iri("agency", "frapi-federal-energy-regulatory-commission")
    assert values(store, ferc, "http://www.w3.org/ns/org#subOrganizationOf") == [
        entity_iri("agency", "frapi-energy-department")]
    # Two different documents share the number 00-111: two rules, told apart by publication date.
    reader = store.open_read()
    same = {q.subject.value for q in reader.quads_for_pattern(None, ox.NamedNode(str(ELI.id_local)),
                                                              ox.Literal("00-111"), ox.DefaultGraph())}
    assert len(same) == 2
    # Dockets: the API's list, "Docket No." prefix dropped (the curated form); a date string kept as given.
    assert values(store, entity_iri("rule", "frapi-2024-31396"), str(TKG.docketId))
    # Idempotent: the same files again change nothing.
    code, out, err = run(runner, store, "federal-register", *map(str, real_files(realdata)))
    assert code == 0 and "nothing changed" in out


def test_a_document_enriches_its_curated_rule_and_reports_conflicts(store: VersionedStore, runner: CliRunner) -> None:
    code, out, err = run(runner, store, "federal-register", str(FIXTURE))
    assert code == 0, err
    rule = entity_iri("rule", "standards-2024")
    assert "1  curated rules enriched" in out and "rules added" not in out
    assert values(store, rule, str(SCHEMA.pageStart)) == ["58265"]
    assert values(store, rule, str(SCHEMA.pageEnd)) == ["58274"]
    assert values(store, rule, str(ELI.date_publication)) == ["2024-07-18"]  # the curated row had none
    # The curated URL is kept; the Federal Register's differs and is reported, not written.
    assert values(store, rule, str(SCHEMA.url)) == ["https://www.federalregister.gov/d/2024-15810"]
    assert "rule standards-2024: url is https://www.federalregister.gov/d/2024-15810 in the curated data" in out
    assert values(store, rule, str(TKG.docketId)) == ["240712-0190", "BIS-2020-0017"]
    assert values(store, rule, str(ELI.passed_by)) == [entity_iri("agency", "bis")]
    sources = values(store, rule, "http://purl.org/dc/terms/source")
    assert entity_iri("source", "frapi-2024-15810") in sources
    assert entity_iri("source", "fr-2024-15810") in sources  # the curated source is kept, and untouched
    assert values(store, entity_iri("source", "fr-2024-15810"), str(TKG.sourceFile)) == ["data/sources.csv"]
    code, out, err = run(runner, store, "federal-register", str(FIXTURE))
    assert code == 0 and "nothing changed" in out


def _csl_citing(realdata: Path, target: Path, extra: str) -> tuple[Path, str]:
    """The real Huawei block, one row citing one more page (a derived file, in tmp)."""
    source = realdata / HUAWEI_BLOCK
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    notice, name = header.index("federal_register_notice"), header.index("name")
    row = rows[1]
    row[notice] = f"{row[notice].strip()}, {extra}"
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return target, row[name].strip()


def test_a_curated_page_range_resolves_a_csl_page_citation_at_once(
        store: VersionedStore, runner: CliRunner, realdata: Path, tmp_path: Path) -> None:
    csl_file, _ = _csl_citing(realdata, tmp_path / "csl_citing_58270.csv", "89 FR 58270")
    code, _, err = run(runner, store, "csl", str(csl_file))
    assert code == 0, err
    assert values(store, entity_iri("rule", "csl-fr-89-58270"), str(TKG.ruleType)) == []  # no placeholder


def test_a_csl_page_citation_resolves_once_the_document_is_imported(
        store_without_pages: VersionedStore, runner: CliRunner, realdata: Path, tmp_path: Path) -> None:
    store = store_without_pages
    csl_file, firm = _csl_citing(realdata, tmp_path / "csl_citing_58270.csv", "89 FR 58270")
    code, out, err = run(runner, store, "csl", str(csl_file))
    assert code == 0, err
    placeholder = entity_iri("rule", "csl-fr-89-58270")
    assert values(store, placeholder, str(TKG.ruleType)) == [concept_iri("rule-type", "fr-document")]
    code, out, err = run(runner, store, "federal-register", str(FIXTURE))
    assert code == 0, err
    assert "1  page citations merged" in out
    assert values(store, placeholder, str(TKG.ruleType)) == []  # merged away: one node
    result = runner.invoke(cli, ["query", "rules-affecting-firm", "-p", f"firm={firm}", "--format", "csv",
                                 "--store", str(store.path)])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    row = next(r for r in rows if r["rule"].endswith("/standards-2024"))
    assert row["title"] == "Standards-Related Activities and the Export Administration Regulations"
    assert (row["effective"] or row["published"]) == "2024-07-18"
    assert row["document"] == "2024-15810" and row["citation"] == "89 FR 58265"
    assert "89 FR 58270" not in result.stdout
    # The CSL again: the cited page now resolves to the rule, so nothing changes and no placeholder returns.
    code, out, err = run(runner, store, "csl", str(csl_file))
    assert code == 0 and "nothing changed" in out
    # A fresh CSL citation of another page inside the range links straight to the rule.
    other, _ = _csl_citing(realdata, tmp_path / "csl_citing_58273.csv", "89 FR 58273")
    code, out, err = run(runner, store, "csl", str(other))
    assert code == 0, err
    assert values(store, entity_iri("rule", "csl-fr-89-58273"), str(TKG.ruleType)) == []


def _version(store: VersionedStore) -> str:
    return str((store.path / "current").resolve())


@pytest.mark.parametrize("content, where", [
    (b'{"document_number": "2024-1", "title": "T", "start_page": "12"}', "$.start_page"),
    (b'{"count": 2, "results": [{"document_number": "2024-1"}, {"document_number": "2024-2", '
     b'"publication_date": "18 Jul 2024"}]}', "$.results[1].publication_date"),
    (b'{"count": 1, "results": [{"title": "no number"}]}', "$.results[0].document_number"),
    (b'{"document_number": "2024-1", "type": "Memo"}', "$.type"),
])
def test_a_wrong_field_is_refused_naming_its_json_path(store: VersionedStore, runner: CliRunner, tmp_path: Path,
                                                       content: bytes, where: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    before = _version(store)
    code, _, err = run(runner, store, "federal-register", str(path))
    assert code == 2
    assert f"bad.json:1: column {where}:" in err
    assert _version(store) == before


def test_truncated_json_lines_and_non_utf8_are_refused_with_file_and_line(
        store: VersionedStore, runner: CliRunner, realdata: Path, tmp_path: Path) -> None:
    before = _version(store)
    truncated = realdata / "federal-register" / "truncated" / "2022-01601.json"
    code, _, err = run(runner, store, "federal-register", str(truncated))
    assert code == 2 and "2022-01601.json:1: column 1988: not valid JSON" in err and "truncated" in err
    good = (realdata / "federal-register" / "documents" / "95-3162.json").read_text(encoding="utf-8")
    lines = tmp_path / "docs.jsonl"
    lines.write_text(good.replace("\n", " ") + "\n" + '{"document_number": "2024-1", "title": "cut' + "\n",
                     encoding="utf-8")
    code, _, err = run(runner, store, "federal-register", str(lines))
    assert code == 2 and "docs.jsonl:2: column" in err
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"document_number": "2024-1",\n "title": "Caf\xe9"}')
    code, _, err = run(runner, store, "federal-register", str(latin))
    assert code == 2 and "latin.json:2: not UTF-8 text" in err
    assert _version(store) == before


def test_json_lines_of_real_documents_import(store: VersionedStore, runner: CliRunner, realdata: Path,
                                             tmp_path: Path) -> None:
    docs = [realdata / "federal-register" / "documents" / n for n in ("95-3162.json", "93-32104.json")]
    lines = tmp_path / "docs.jsonl"
    lines.write_text("".join(p.read_text(encoding="utf-8").replace("\n", " ") + "\n" for p in docs),
                     encoding="utf-8")
    code, out, err = run(runner, store, "federal-register", str(lines))
    assert code == 0, err
    assert "2  rules added" in out and "files read (JSON lines)" in out
    fec = entity_iri("rule", "frapi-95-3162-1995-02-09")
    assert values(store, fec, str(TKG.cfrPart)) == ["11 CFR 100", "11 CFR 104", "11 CFR 113"]  # part given as a number
