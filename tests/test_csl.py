"""The CSL importer: both layouts, citations, affiliates, re-import, end-dating, bad rows.

Real rows come from ../shared/realdata/csl/ (never copied into the project);
tests that need them skip with a reason when that folder is absent. Files the
tests write (an older-layout copy, a "newer" file with rows missing) are
derived from the real ones in a temporary directory.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Literal

from kg.answers.queries import find_query, run_saved
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.namespaces import TKG
from kg.pipeline.incremental import commit_delta
from kg.sources import csl
from tests.conftest import REALDATA

HUAWEI_BLOCK = "csl/csl_consolidated_2025_entity_list_huawei_block.csv"
WATCHMAN = "csl/watchman_cslustest_consolidated_2025_sample.csv"
LEGACY_2015 = "csl/ita_webservices_el_fixture_2015_legacy_format.csv"


@pytest.fixture
def store(curated_store: VersionedStore, tmp_path: Path) -> VersionedStore:
    """A private copy of the curated store (imports write to it)."""
    target = tmp_path / "store"
    shutil.copytree(curated_store.path, target, symlinks=True)
    return VersionedStore(target)


@pytest.fixture(scope="module")
def imported(curated_store: VersionedStore, tmp_path_factory: pytest.TempPathFactory) -> tuple[VersionedStore,
                                                                                                 csl.ImportPlan]:
    """The curated store with the real Huawei block imported once (tests here only read it)."""
    if not (REALDATA / HUAWEI_BLOCK).is_file():
        pytest.skip(f"real data folder {REALDATA} is absent (it sits beside the checkout in shared/realdata)")
    target = tmp_path_factory.mktemp("csl-imported") / "store"
    shutil.copytree(curated_store.path, target, symlinks=True)
    store = VersionedStore(target)
    return store, do_import(store, REALDATA / HUAWEI_BLOCK)


def do_import(store: VersionedStore, path: Path, as_of: str = "2025-06-01") -> csl.ImportPlan:
    parsed = csl.read_csl(path, path.name)
    plan = csl.plan_import(parsed, store.open_read(), date.fromisoformat(as_of))
    commit_delta(store, plan.removals, plan.additions, plan.focus, {"command": "import csl"})
    return plan


def rules_for(store: VersionedStore, firm: str) -> set[tuple[str, str, str]]:
    backend = EmbeddedBackend(store.open_read())
    table = run_saved(find_query("rules-affecting-firm"), {"firm": firm}, backend)
    return {(str(r["rule"]).rsplit("/", 1)[-1], str(r["effect"]), str(r["reach"])) for r in table.rows}


# --- parsing ------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("84 FR 22961, 84 FR 43495, 85 FR 29852 ", ["84 FR 22961", "84 FR 43495", "85 FR 29852"]),
    ("84 FR 29373; 87 FR 62202", ["84 FR 29373", "87 FR 62202"]),
    ("85 FR 36720,  85 FR 51603,  ", ["85 FR 36720", "85 FR 51603"]),
    (" 85 FR 51603, 87 FR 6026, 87 FR 55250", ["85 FR 51603", "87 FR 6026", "87 FR 55250"]),
    ("67 F.R. 56530 9/4/02 67 F.R. 10890 3/11/02 71 F.R. 38843 7/10/06",
     ["67 FR 56530", "67 FR 10890", "71 FR 38843"]),
    ("84 FR 22961; 84 FR 22961;; 84FR22961", ["84 FR 22961"]),
    ("Vol. 88, No. 151, 08/08/2023", []),
    ("", []),
])
def test_citations_are_parsed_from_messy_text(text: str, expected: list[str]) -> None:
    assert csl.parse_citations(text) == expected


def test_names_split_into_party_alias_and_affiliation() -> None:
    affiliate = csl.split_name(
        "Huawei Technologies Co., Ltd. (Huawei).  Affiliated Entity:  Beijing Huawei Longshine Information "
        "Technology Co., Ltd.")
    assert affiliate.primary == "Beijing Huawei Longshine Information Technology Co., Ltd."
    assert affiliate.affiliate_of is not None
    assert affiliate.affiliate_of.primary == "Huawei Technologies Co., Ltd."
    assert "Huawei" in affiliate.affiliate_of.aliases

    hisilicon = csl.split_name("HiSilicon Technologies Co., Ltd (HiSilicon), Bantian Longgang District      ")
    assert hisilicon.primary == "HiSilicon Technologies Co., Ltd"
    assert "HiSilicon" in hisilicon.aliases
    assert csl.split_name("Chengdu Huawei Technologies Co., Ltd., Chengdu, Sichuan").primary == (
        "Chengdu Huawei Technologies Co., Ltd.")
    # A parenthesis inside the name is part of it; an institute after the legal form is not a place.
    assert csl.split_name("Huawei Technologies (Bolivia) S.R.L.").primary == "Huawei Technologies (Bolivia) S.R.L."
    assert csl.split_name("Huawei Technologies Co., Ltd., Beijing Research Institute").primary == (
        "Huawei Technologies Co., Ltd., Beijing Research Institute")


@pytest.mark.parametrize(("text", "notation"), [
    ("Presumption of denial", "presumption-of-denial"),
    ("Presumption of denial.", "presumption-of-denial"),
    ("Case-by-case review", "case-by-case"),
    ("The license application procedure and license review policy for entities specified in supplement no. 2 "
     "to part 744 is specified in §744.21(d) and (e).", "see-entry"),
])
def test_license_policy_text_maps_to_concepts(text: str, notation: str) -> None:
    assert csl.license_policy(text) == notation


def test_countries_are_iso_codes_checked_as_the_loader_checks_them() -> None:
    assert csl.address_country("Bantian, Longgang District, Shenzhen, cn") == "CN"
    assert csl.address_country("Somewhere, XX") is None
    assert csl.address_country("Somewhere, \ufb06") is None  # the ligature upper-cases to "ST"


def test_sources_give_list_name_code_and_agency() -> None:
    assert csl.parse_source("Entity List (EL) - Bureau of Industry and Security") == csl.ListSource(
        "Entity List", "EL", "Bureau of Industry and Security")
    assert csl.parse_source("Military End User (MEU) List - Bureau of Industry and Security").code == "MEU"
    assert csl.parse_source("Specially Designated Nationals (SDN) - Treasury Department").agency == (
        "Treasury Department")


# --- real rows ---------------------------------------------------------------

def test_huawei_block_imports_every_row_onto_the_entity_list(imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    store, plan = imported
    assert plan.problems == []
    assert plan.rows_per_list == {"Entity List": 89}
    # 12 rows are entries the curated data already has (Huawei and 11 affiliates on the Entity List).
    assert plan.new_designations == 77
    assert plan.merged_designations == 12
    backend = EmbeddedBackend(store.open_read())
    assert backend.ask(
        "PREFIX tkg: <https://w3id.org/tradekg/ontology#> ASK { ?d tkg:cslRecordId ?r ; "
        "tkg:onList <https://w3id.org/tradekg/id/list/entity-list> ; tkg:designatedParty ?p ; "
        "tkg:designatedBy ?rule ; tkg:licenseReviewPolicy "
        "<https://w3id.org/tradekg/concept/license-policy/presumption-of-denial> }")


def test_current_and_older_layouts_give_the_same_counts(realdata: Path, store: VersionedStore,
                                                        tmp_path: Path) -> None:
    expected = {
        "Denied Persons List": 1, "Entity List": 1, "Foreign Sanctions Evaders": 1, "ITAR Debarred": 1,
        "Military End User List": 1, "Nonproliferation Sanctions": 1, "Palestinian Legislative Council List": 2,
        "Sectoral Sanctions Identifications List": 3, "Specially Designated Nationals": 1, "Unverified List": 1,
    }
    current = csl.read_csl(realdata / WATCHMAN, "sample.csv")
    assert current.layout.startswith("current")
    plan = csl.plan_import(current, store.open_read(), date(2025, 6, 1))
    assert plan.problems == []
    assert plan.rows_per_list == expected

    older = tmp_path / "older.csv"
    with (realdata / WATCHMAN).open(encoding="utf-8", newline="") as src, older.open("w", encoding="utf-8",
                                                                                    newline="") as dst:
        writer = csv.writer(dst)
        for record in csv.reader(src):
            writer.writerow(record[1:])
    legacy = csl.read_csl(older, "older.csv")
    assert legacy.layout.startswith("older")
    legacy_plan = csl.plan_import(legacy, store.open_read(), date(2025, 6, 1))
    assert legacy_plan.problems == []
    assert legacy_plan.rows_per_list == expected
    commit_delta(store, legacy_plan.removals, legacy_plan.additions, legacy_plan.focus, {})
    backend = EmbeddedBackend(store.open_read())
    # Individuals become persons; lists not curated are created with their agency.
    assert backend.ask('PREFIX tkg: <https://w3id.org/tradekg/ontology#> PREFIX rdfs: '
                       '<http://www.w3.org/2000/01/rdf-schema#> ASK { ?p a tkg:Person ; rdfs:label "Evren KAYAKIRAN" }')
    assert backend.ask('PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX schema: <https://schema.org/> '
                       'ASK { ?l dcterms:title "Nonproliferation Sanctions" ; dcterms:publisher ?a . '
                       '?a schema:name "State Department" }')


def test_the_2015_bis_layout_is_refused_with_a_clear_reason(realdata: Path) -> None:
    with pytest.raises(csl.NotACslFile) as caught:
        csl.read_csl(realdata / LEGACY_2015, "el.csv")
    assert "pre-2016 BIS Entity List layout" in caught.value.details()


def test_affiliates_named_only_in_the_csl_reach_the_curated_rules(imported: tuple[VersionedStore,
                                                                                  csl.ImportPlan]) -> None:
    store = imported[0]
    bolivia = rules_for(store, "Huawei Technologies (Bolivia) S.R.L.")
    assert ("el-huawei-2019", "designates", "named") in bolivia
    assert ("standards-2022", "authorizes exception", "on a list") in bolivia
    # Only the CSL names this firm: it reaches the 2019 listing and the 2022 authorization.
    chile = rules_for(store, "Huawei Chile S.A.")
    assert ("el-huawei-2019", "designates", "named") in chile
    assert ("standards-2022", "authorizes exception", "on a list") in chile
    # An "Affiliated Entity" row names the affiliate on the list itself (its own entry), and Huawei's
    # listing is exposure for it, never worded as a designation of the affiliate (issue 10).
    longshine = rules_for(store, "Beijing Huawei Longshine Information Technology Co., Ltd.")
    assert any(effect == "designates" and reach == "named" for _, effect, reach in longshine)
    assert ("el-huawei-2019", "affiliate listed", "exposure only (no rule extends it)") in longshine
    assert not any(reach == "through parent" for _, _, reach in longshine)
    # The row prints the Huawei entry's citations (84 FR 22963 first), but 84 FR 43493 added this
    # sub-entry (data/entry_additions.csv): it designates it, and no placeholder is minted for 22963.
    assert ("el-huawei-affiliates-2019-08", "designates", "named") in longshine
    assert not any(rule.startswith("csl-fr-84-") for rule, _, _ in longshine)
    backend = EmbeddedBackend(store.open_read())
    firm = backend.select(
        'PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?f WHERE '
        '{ ?f rdfs:label "Beijing Huawei Longshine Information Technology Co., Ltd." }').rows[0]["f"]
    assert backend.ask(f"ASK {{ <{firm}> <{TKG.affiliateOf}> <https://w3id.org/tradekg/id/company/huawei> }}")


def test_citations_link_curated_rules_or_mint_minimal_ones(imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    store = imported[0]
    backend = EmbeddedBackend(store.open_read())
    rows = backend.select(
        "PREFIX tkg: <https://w3id.org/tradekg/ontology#> PREFIX dcterms: <http://purl.org/dc/terms/> "
        "SELECT DISTINCT ?rule ?citation WHERE { ?d tkg:cslRecordId ?r ; "
        "tkg:designatedBy|tkg:modifiedBy|tkg:citesRule ?rule . ?rule dcterms:bibliographicCitation ?citation }").rows
    by_citation = {str(r["citation"]): str(r["rule"]).rsplit("/", 1)[-1] for r in rows}
    assert by_citation["84 FR 22961"] == "el-huawei-2019"
    # A page one after a rule's first page, whose last page is not known: that rule, inferred (DOMAIN E2).
    assert "85 FR 36720" not in by_citation and by_citation["85 FR 36719"] == "standards-2020"
    # A page inside no known (printed or inferable) range: a placeholder known only by that citation.
    assert by_citation["87 FR 55250"] == "csl-fr-87-55250"
    # 84 FR 29373 is a page of 84 FR 29371-29375 (FR Doc 2019-13245): that rule, not a placeholder.
    assert "84 FR 29373" not in by_citation
    assert by_citation["84 FR 29371"] == "el-2019-06-supercomputing"


def test_reimporting_the_same_file_changes_nothing(realdata: Path,
                                                   imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    store = imported[0]
    version = store.current_version()
    again = csl.plan_import(csl.read_csl(realdata / HUAWEI_BLOCK, HUAWEI_BLOCK.rsplit("/", 1)[-1]),
                            store.open_read(), date(2026, 1, 1))
    assert not again.changes
    assert again.unchanged_designations == 89
    outcome = commit_delta(store, again.removals, again.additions, again.focus, {})
    assert not outcome.written
    assert store.current_version() == version


def test_a_newer_file_end_dates_rows_it_no_longer_has(realdata: Path, store: VersionedStore,
                                                     tmp_path: Path) -> None:
    do_import(store, realdata / WATCHMAN, as_of="2025-06-01")
    newer = tmp_path / "newer.csv"
    with (realdata / WATCHMAN).open(encoding="utf-8", newline="") as src:
        records = list(csv.reader(src))
    dropped = [r for r in records[1:] if r[5] in ("SME BANK", "Mohammed ABU JHEISHEH")]
    assert len(dropped) == 2
    with newer.open("w", encoding="utf-8", newline="") as dst:
        csv.writer(dst).writerows([r for r in records if r not in dropped])
    plan = do_import(store, newer, as_of="2025-09-01")
    assert plan.ended_designations == 2
    assert plan.new_designations == 0
    backend = EmbeddedBackend(store.open_read())
    rows = backend.select(
        "PREFIX tkg: <https://w3id.org/tradekg/ontology#> PREFIX schema: <https://schema.org/> "
        "SELECT ?name ?start ?end WHERE { ?d tkg:cslRecordId ?r ; tkg:listedName ?name ; "
        "schema:startDate|tkg:knownSince ?start ; schema:endDate ?end }").rows
    # Not deleted: the designations are still there, with their start date (or, for rows that print none,
    # the date of the first file that held them: tkg:knownSince, never a start date) and an end date.
    assert sorted((str(r["name"]), str(r["start"]), str(r["end"])) for r in rows) == [
        ("I. ASH", "2002-03-04", "2056-06-29"),  # its own end date, from the file
        ("Mohammed ABU JHEISHEH", "2025-06-01", "2025-09-01"), ("SME BANK", "2025-06-01", "2025-09-01")]
    again = csl.plan_import(csl.read_csl(newer, "newer.csv"), store.open_read(), date(2025, 10, 1))
    assert not again.changes


def test_rows_that_cannot_be_mapped_are_reported_with_line_and_reason(realdata: Path, store: VersionedStore,
                                                                     tmp_path: Path) -> None:
    with (realdata / WATCHMAN).open(encoding="utf-8", newline="") as src:
        records = list(csv.reader(src))
    bad_name = list(records[2])
    bad_name[0], bad_name[5] = "bad-1", "  "
    bad_date = list(records[3])
    bad_date[0], bad_date[9] = "bad-2", "2020-13-45"
    bad_type = list(records[4])
    bad_type[0], bad_type[3] = "bad-3", "Spaceship"
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8", newline="") as dst:
        csv.writer(dst).writerows([*records, bad_name, bad_date, bad_type])
    plan = csl.plan_import(csl.read_csl(path, "bad.csv"), store.open_read(), date(2025, 6, 1))
    assert [(p.line, p.reason.split(":")[0].split(" ")[0]) for p in plan.problems] == [
        (15, "column"), (16, "date"), (17, "unknown")]
    assert sum(plan.rows_per_list.values()) == 13


def test_import_csl_command_reports_counts(realdata: Path, store: VersionedStore, runner: CliRunner) -> None:
    from kg.cli import cli

    path = str(realdata / WATCHMAN)
    result = runner.invoke(cli, ["import", "csl", path, "--store", str(store.path), "--as-of", "2025-06-01"])
    assert result.exit_code == 0, result.output
    assert "took 13, skipped 0" in result.output
    assert "3  Sectoral Sanctions Identifications List" in result.output
    assert "conforms" in result.output
    result = runner.invoke(cli, ["import", "csl", path, "--store", str(store.path)])
    assert result.exit_code == 0
    assert "nothing changed" in result.output


def test_screening_an_affiliate_after_import_names_designation_policy_and_rules(
        imported: tuple[VersionedStore, csl.ImportPlan], runner: CliRunner) -> None:
    from kg.cli import cli

    store = imported[0]
    result = runner.invoke(cli, ["screen", "Huawei Technologies (Bolivia)", "--store", str(store.path),
                                 "--format", "text", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "Huawei Technologies (Bolivia) S.R.L." in result.output
    # One entry: the curated one (effective 16 May 2019), which the CSL row is a source record of.
    assert "on Entity List from 2019-05-16" in result.output
    assert "on Entity List from 2019-05-21" not in result.output
    assert "license policy: presumption of denial" in result.output
    assert "rule: 84 FR 22961 Entity List rule adding Huawei" in result.output
    # No confirmed page citation: the rule is named by its FR document number (issue 10).
    assert "rule: FR Doc 2022-19415 Authorization of Certain 'Items' to Entities on the Entity List in the " \
           "Context of Specific Standards Activities (authorizes exception, on a list" in result.output
    # A firm only the CSL names is screened the same way.
    chile = runner.invoke(cli, ["screen", "HUAWEI CHILE SA", "--store", str(store.path), "--format", "text",
                                "--limit", "1"])
    assert "Huawei Chile S.A." in chile.output and "rule: 84 FR 22961" in chile.output


def test_a_subset_file_does_not_end_a_whole_list_by_accident(realdata: Path, store: VersionedStore,
                                                             runner: CliRunner) -> None:
    from kg.cli import cli

    block, sample = str(realdata / HUAWEI_BLOCK), str(realdata / WATCHMAN)
    assert runner.invoke(cli, ["import", "csl", block, "--store", str(store.path)]).exit_code == 0
    refused = runner.invoke(cli, ["import", "csl", sample, "--store", str(store.path)])
    assert refused.exit_code == 2
    assert "lacks 89 of 89 entries" in refused.output and "--partial" in refused.output
    partial = runner.invoke(cli, ["import", "csl", sample, "--store", str(store.path), "--partial"])
    assert partial.exit_code == 0, partial.output
    assert "13 new, 0 merged into entries the store already held, 0 changed, 0 unchanged, 0 ended" in partial.output


# --- one party, one entry; citations that resolve (issue 10) ---------------------

EL = "https://w3id.org/tradekg/id/list/entity-list"
HUAWEI = "https://w3id.org/tradekg/id/company/huawei"
PREFIXES = ("PREFIX tkg: <https://w3id.org/tradekg/ontology#> PREFIX schema: <https://schema.org/> "
            "PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX eli: <http://data.europa.eu/eli/ontology#> "
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> ")


def test_huawei_is_on_the_entity_list_once_with_both_sources_and_both_dates(
        imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    store, plan = imported
    backend = EmbeddedBackend(store.open_read())
    rows = run_saved(find_query("designations"), {"list": "Entity List"}, backend).rows
    huawei = [r for r in rows if str(r["party"]) == HUAWEI]
    assert len(huawei) == 1, huawei
    assert str(huawei[0]["from"]) == "2019-05-16"  # the curated effective date
    # The one designation carries the curated sources and the CSL file.
    sources = {str(r["s"]).rsplit("/", 1)[-1] for r in backend.select(
        PREFIXES + "SELECT ?s WHERE { <https://w3id.org/tradekg/id/designation/el-huawei> dcterms:source ?s }").rows}
    assert "fr-84-22961" in sources
    assert any(s.startswith("csl-") for s in sources), sources
    # Both dates, each saying what it is: the curated effective date (schema:startDate) and the FR
    # publication date (tkg:listingDate) on the designation; the CSL's own start_date on its source record.
    dates = backend.select(PREFIXES + """
        SELECT ?start ?listing ?cslStart ?source ?method ?why WHERE {
          BIND(<https://w3id.org/tradekg/id/designation/el-huawei> AS ?d)
          ?d schema:startDate ?start ; tkg:listingDate ?listing .
          ?record tkg:recordOf ?d ; schema:startDate ?cslStart ; dcterms:source ?source ;
                  tkg:matchMethod ?method ; tkg:matchExplanation ?why ; tkg:listedName ?printed .
          FILTER(?printed = "Huawei Technologies Co., Ltd. (Huawei)")
        }""").rows
    assert len(dates) == 1
    row = dates[0]
    assert (str(row["start"]), str(row["listing"]), str(row["cslStart"])) == ("2019-05-16", "2019-05-21",
                                                                              "2019-05-21")
    assert str(row["source"]).rsplit("/", 1)[-1].startswith("csl-")
    assert str(row["method"]) == "party and list"
    assert "name and country" in str(row["why"]) and "'huawei technologies co., ltd.'" in str(row["why"])
    # The import report says which rows merged, and how.
    merged = {into.rsplit("/", 1)[-1]: how for _line, _name, into, how, _why in plan.merged}
    assert merged["el-huawei"] == "party and list"
    # No second Huawei entry anywhere: not a designation on the list, not a screening hit.
    assert not backend.ask(PREFIXES + f"ASK {{ ?d a tkg:Designation ; tkg:designatedParty <{HUAWEI}> ; "
                                      f"tkg:onList <{EL}> ; tkg:cslRecordId ?r }}")


def _file_citations(path: Path) -> set[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {c for row in csv.DictReader(handle) for c in csl.parse_citations(row["federal_register_notice"])}


def test_each_page_citation_of_the_block_is_its_document_or_an_undated_placeholder(
        realdata: Path, imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    store, plan = imported
    backend = EmbeddedBackend(store.open_read())
    view = csl.StoreView.of(store.open_read())
    citations = _file_citations(realdata / HUAWEI_BLOCK)
    assert len(citations) == 15
    resolved, placeholders = {}, set()
    for citation in sorted(citations):
        found = view.rules.match(citation)
        assert found is not None, citation  # after the import every citation names a rule node
        name = found.iri.rsplit("/", 1)[-1]
        if name.startswith("csl-"):
            placeholders.add(citation)
            facts = backend.select(PREFIXES + f"""
                SELECT ?title ?p WHERE {{ <{found.iri}> dcterms:title ?title .
                  OPTIONAL {{ <{found.iri}> ?p ?date FILTER(?p IN (eli:date_publication,
                      eli:first_date_entry_in_force, eli:date_document, schema:startDate)) }} }}""").rows
            assert [str(r["title"]) for r in facts] == [f"cited as {citation}; document not identified"]
            assert all("p" not in r for r in facts), f"{citation} placeholder carries a date"
            # A change to an entry by a document of unknown date is never dated with the entry's date
            # (2019-05-21): the rule's date is not known. (A placeholder that made an entry reaches the
            # party from the entry's own start date, which is the listing's date, not the document's.)
            assert not backend.ask(PREFIXES + f"ASK {{ ?e tkg:effectRule <{found.iri}> ; schema:startDate ?d ; "
                                              "tkg:effectKind <https://w3id.org/tradekg/concept/effect-kind/"
                                              "modifies-designation> }")
        else:
            resolved[citation] = (name, found.method)
    inferred = "page range (inferred)"
    assert resolved == {
        "84 FR 22961": ("el-huawei-2019", "citation"),
        "84 FR 29373": ("el-2019-06-supercomputing", "page range"),
        "87 FR 21012": ("el-correction-2022-04", "page range"),
        "87 FR 62202": ("adv-computing-2022", "page range"),
        # Pages of rules the graph holds whose last page no source printed (issue 19): each is its rule,
        # inferred, never a second, undated copy of it.
        "84 FR 22963": ("el-huawei-2019", inferred),
        "84 FR 43495": ("el-huawei-affiliates-2019-08", inferred),  # not the TGL rule 43487-43493
        "85 FR 29852": ("fdp-huawei-2020-05", inferred),
        "85 FR 29853": ("fdp-huawei-2020-05", inferred),
        "85 FR 36720": ("standards-2020", inferred),
        "85 FR 51603": ("el-huawei-2020-08", inferred),
    }
    # Unresolved citations stay one honest placeholder each.
    assert placeholders == {"85 FR 83769", "86 FR 71559", "87 FR 6026", "87 FR 8182", "87 FR 55250"}
    # The graph records how each inferred citation was matched, and that the range is inferred.
    assert backend.ask(PREFIXES + 'ASK { ?d tkg:citationResolution ?how FILTER(STRSTARTS(?how, "84 FR 22963 '
                                  'inferred to be page 22963 of 84 FR 22961") && CONTAINS(?how, "range inferred")) }')
    # No placeholder duplicates a held rule: none is cited as a page of a held rule.
    assert not backend.ask(PREFIXES + 'ASK { ?r a tkg:Rule ; dcterms:bibliographicCitation ?c '
                                      'FILTER(?c IN ("84 FR 22963", "84 FR 43495", "85 FR 29852", "85 FR 29853", '
                                      '"85 FR 36720", "85 FR 51603")) }')
    # The import report says how each citation was resolved.
    assert plan.citations["87 FR 62202"] == "87 FR 62202 is page 62202 of 87 FR 62186 (pages 62186-62215)"
    assert plan.citations["87 FR 55250"] == "document not identified: placeholder rule"
    # Huawei's timeline shows no placeholder as a dated event (its entry cites 86 FR 71559, 87 FR 55250 ...).
    timeline = run_saved(find_query("firm-timeline"), {"firm": "Huawei"}, backend).rows
    assert not [r for r in timeline if str(r.get("citation", "")) in placeholders]
    assert {"86 FR 71559", "87 FR 55250", "87 FR 8182"} <= placeholders


def test_a_csl_citation_equal_to_a_curated_document_number_is_that_rule(realdata: Path, store: VersionedStore,
                                                                        tmp_path: Path) -> None:
    with (realdata / HUAWEI_BLOCK).open(encoding="utf-8-sig", newline="") as src:
        records = list(csv.reader(src))
    header = records[0]
    row = next(r for r in records[1:] if r[header.index("name")] == "Huawei Technologies Cooperatief U.A.")
    row = list(row)
    row[header.index("federal_register_notice")] = "84 FR 22961, FR Doc. 2022-19415"
    path = tmp_path / "docnumber.csv"
    with path.open("w", encoding="utf-8", newline="") as dst:
        csv.writer(dst).writerows([header, row])
    plan = do_import(store, path)
    assert plan.citations["2022-19415"] == "2022-19415 is the rule's FR document number"
    backend = EmbeddedBackend(store.open_read())
    rules = {str(r["rule"]).rsplit("/", 1)[-1] for r in backend.select(
        PREFIXES + "SELECT ?rule WHERE { ?d tkg:cslRecordId ?id ; tkg:modifiedBy ?rule }").rows}
    assert rules == {"standards-2022"}
    assert not backend.ask(PREFIXES + 'ASK { ?r a tkg:Rule ; eli:id_local "2022-19415" FILTER(?r != '
                                      '<https://w3id.org/tradekg/id/rule/standards-2022>) }')


def test_reimporting_the_block_adds_nothing_to_the_curated_entries_it_merged_into(
        realdata: Path, imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    store = imported[0]
    again = csl.plan_import(csl.read_csl(realdata / HUAWEI_BLOCK, HUAWEI_BLOCK.rsplit("/", 1)[-1]),
                            store.open_read(), date(2026, 1, 1))
    assert again.additions == [] and again.removals == []
    assert again.merged_designations == 0 and len(again.merged) == 12


# --- issue 19: which rule added which entry, dated by the act ---------------------------------------------

def _block_rows() -> list[dict[str, str]]:
    with (REALDATA / HUAWEI_BLOCK).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_sub_entries_of_the_huawei_block_are_dated_by_their_own_rule(
        imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    """The CSL prints the Huawei entry's citations and date (84 FR 22963, 2019-05-21) on every
    "Affiliated Entity" sub-entry; 84 FR 43493 (effective 2019-08-19) added them (entry_additions.csv)."""
    store = imported[0]
    backend = EmbeddedBackend(store.open_read())
    subs = [r for r in _block_rows() if "Affiliated Entity:" in r["name"]]
    assert len(subs) == 21
    rows = backend.select(PREFIXES + """
        SELECT ?name ?start ?csl ?rule ?basis WHERE {
          ?d tkg:cslRecordId ?id ; tkg:listedName ?name ; schema:startDate ?start ; tkg:designatedBy ?rule ;
             tkg:startDateBasis ?basis ; tkg:sourceStartDate ?csl
          FILTER(CONTAINS(?name, "Affiliated Entity:")) }""").rows
    assert len(rows) == 21
    assert {(str(r["start"]), str(r["csl"]), str(r["rule"]).rsplit("/", 1)[-1]) for r in rows} == {
        ("2019-08-19", "2019-05-21", "el-huawei-affiliates-2019-08")}
    assert all("entry_additions.csv" in str(r["basis"]) for r in rows)
    # The parent's May 2019 citation stays on the record (cited), not as a rule that made or changed it.
    assert not backend.ask(PREFIXES + """ASK { ?d tkg:listedName ?n ; tkg:modifiedBy|tkg:designatedBy
        <https://w3id.org/tradekg/id/rule/el-huawei-2019> FILTER(CONTAINS(?n, "Affiliated Entity:")) }""")
    # firms-affected-by-rule for 84 FR 43493 shows the firms it designated (issue 19 found none).
    firms = run_saved(find_query("firms-affected-by-rule"), {"rule": "84 FR 43493"}, backend).rows
    designated = {str(r["name"]) for r in firms if str(r["effect"]) == "designates"}
    assert "Beijing Huawei Longshine Information Technology Co., Ltd." in designated
    assert len(designated) >= 19


def test_one_rule_one_start_date_all_entries_of_84_fr_22961_hold_on_2019_05_18(
        imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    """Curated entries of 84 FR 22961 start 2019-05-16 (effective); CSL-imported ones must too, not the
    CSL's 2019-05-21 (its publication date), which is kept on the record as the source's own date."""
    store = imported[0]
    backend = EmbeddedBackend(store.open_read())
    made = [r for r in _block_rows() if "Affiliated Entity:" not in r["name"]
            and csl.parse_citations(r["federal_register_notice"])[0] in ("84 FR 22961", "84 FR 22963")]
    assert len(made) == 62
    table = run_saved(find_query("designations"), {"list": "Entity List", "as_of": "2019-05-18"}, backend)
    held = {str(r["name"]) for r in table.rows}
    for row in made:
        printed = csl.split_name(row["name"]).primary
        parties = backend.select(PREFIXES + "SELECT ?label WHERE { ?d tkg:cslRecordId ?id ; "
                                 "tkg:designatedParty|tkg:recordOf/tkg:designatedParty ?p . ?p rdfs:label ?label }",
                                 {"id": Literal(row["_id"])}).rows
        assert parties and {str(p["label"]) for p in parties} & held, printed
    # Proven Glory (85 FR 51603, a page of 85 FR 51596): the rule's effective date 2020-08-17, not 2020-08-20.
    glory = backend.select(PREFIXES + 'SELECT ?s ?c WHERE { ?d tkg:listedName "Proven Glory" ; '
                           "schema:startDate ?s ; tkg:sourceStartDate ?c }").rows
    assert [(str(r["s"]), str(r["c"])) for r in glory] == [("2020-08-17", "2020-08-20")]


def test_huawei_chile_is_linked_to_huawei_and_covered_by_the_tgl_in_june_2019(
        imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    store, plan = imported
    backend = EmbeddedBackend(store.open_read())
    chile = run_saved(find_query("rules-affecting-firm"), {"firm": "Huawei Chile S.A.", "as_of": "2019-06-01"},
                      backend).rows
    reached = {(str(r["rule"]).rsplit("/", 1)[-1], str(r["effect"]), str(r["reach"])) for r in chile}
    assert ("tgl-huawei-2019", "authorizes exception", "affiliate covered by its terms") in reached
    assert ("el-huawei-2019", "designates", "named") in reached
    # Every party of the block that a Huawei family rule made is linked to Huawei (51 of 82 were not).
    unlinked = backend.select(PREFIXES + """
        SELECT DISTINCT ?label WHERE {
          ?d tkg:cslRecordId ?id ; tkg:designatedParty ?p ; tkg:designatedBy ?rule .
          VALUES ?rule { <https://w3id.org/tradekg/id/rule/el-huawei-2019>
                         <https://w3id.org/tradekg/id/rule/el-huawei-affiliates-2019-08>
                         <https://w3id.org/tradekg/id/rule/el-huawei-2020-08> }
          ?p rdfs:label ?label
          FILTER(?p != <https://w3id.org/tradekg/id/company/huawei>)
          FILTER NOT EXISTS { ?p tkg:affiliateOf|schema:parentOrganization
                                 <https://w3id.org/tradekg/id/company/huawei> }
        }""").rows
    assert unlinked == []
    assert plan.linked_to_curated["affiliates linked by the rule that listed them"] >= 50


@pytest.mark.parametrize(("printed", "text", "markers"), [
    ("For all items subject to the EAR, see §§ 734.9(e)1 and 744.11 of the EAR2",
     "For all items subject to the EAR, see §§ 734.9(e) and 744.11 of the EAR", ["1", "2"]),
    ("For all items subject to the EAR, see §§ 734.9(e)1, and 744.11 of the EAR2",
     "For all items subject to the EAR, see §§ 734.9(e), and 744.11 of the EAR", ["1", "2"]),
    ("For all items subject to the EAR. (See §§ 734.9(e) and 744.11 of the EAR)4",
     "For all items subject to the EAR. (See §§ 734.9(e) and 744.11 of the EAR)", ["4"]),
    ("For all items subject to the EAR. (See §§ 734.9(g),3 746.8(a)(3), and 744.21(b) of the EAR)",
     "For all items subject to the EAR. (See §§ 734.9(g), 746.8(a)(3), and 744.21(b) of the EAR)", ["3"]),
    ("For all items subject to the EAR, see §§ 736.2(b)(3)(vi), and 744.11 of the EAR, EXCEPT for technology",
     "For all items subject to the EAR, see §§ 736.2(b)(3)(vi), and 744.11 of the EAR, EXCEPT for technology", []),
])
def test_footnote_markers_are_split_from_section_numbers(printed: str, text: str, markers: list[str]) -> None:
    assert csl.split_footnotes(printed) == (text, markers)


def test_a_past_date_does_not_read_todays_licence_text(imported: tuple[VersionedStore, csl.ImportPlan]) -> None:
    """The CSL prints today's text (the 2020 FDP wording with footnote markers); in June 2019 it was not that."""
    store = imported[0]
    backend = EmbeddedBackend(store.open_read())
    def chile(params: dict[str, str]) -> dict[str, str]:
        rows = run_saved(find_query("designations"), {"list": "Entity List", **params}, backend).rows
        return {k: str(v) for k, v in next(r for r in rows if str(r["name"]) == "Huawei Chile S.A.").items()}
    now = chile({})
    assert now["requirement"] == "For all items subject to the EAR, see §§ 734.9(e) and 744.11 of the EAR"
    then = chile({"as_of": "2019-06-01"})
    assert then["requirement"].startswith("not known on 2019-06-01 (the text printed from ")
    assert "734.9(e)1" not in then["requirement"] and "EAR2" not in then["requirement"]
    assert then["policy"].startswith("not known on 2019-06-01")
    assert backend.ask(PREFIXES + 'ASK { ?d tkg:listedName "Huawei Chile S.A." ; tkg:licenseFootnote "1", "2" }')


def test_nodes_the_plan_found_new_are_not_read_again_and_the_graph_is_the_same(store: VersionedStore,
                                                                               tmp_path: Path) -> None:
    """``SourcePlan.unheld`` (nodes the store held nothing about when planned) lets a commit skip
    reading them; the version written must be the one a commit reading everything writes."""
    if not (REALDATA / WATCHMAN).is_file():
        pytest.skip(f"real data folder {REALDATA} is absent (it sits beside the checkout in shared/realdata)")
    import pyoxigraph as ox
    from rdflib.compare import isomorphic

    plain = VersionedStore(tmp_path / "plain")
    shutil.copytree(store.path, plain.path, symlinks=True)
    for path in (REALDATA / HUAWEI_BLOCK, REALDATA / WATCHMAN):  # the second onto a graph holding the first
        parsed = csl.read_csl(path, path.name)
        reader = store.open_read()
        plan = csl.plan_import(parsed, reader, date(2025, 6, 1))
        assert plan.unheld and plan.unheld <= plan.focus
        for node in plan.focus:  # unheld: exactly the focus nodes the graph has no triple about
            held = next(iter(reader.quads_for_pattern(ox.NamedNode(node), None, None, ox.DefaultGraph())), None)
            assert (held is None) == (node in plan.unheld), node
        commit_delta(store, plan.removals, plan.additions, plan.focus, {"command": "import csl"}, unheld=plan.unheld)
        do_import(plain, path)
        assert isomorphic(EmbeddedBackend(store.open_read()).all_triples(),
                          EmbeddedBackend(plain.open_read()).all_triples())
    again = csl.plan_import(csl.read_csl(REALDATA / WATCHMAN, "again.csv"), store.open_read(), date(2025, 6, 1))
    assert not again.unheld


@pytest.mark.parametrize("bad", [False, True])
def test_an_import_larger_than_the_graph_is_derived_in_memory_to_the_same_graph(
        store: VersionedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: bool) -> None:
    """A large import into a small graph (a first CSL into the curated one) is derived and checked in
    memory, then written whole; forced here on the real files, it must write the graph the import on
    disk writes, and refuse what it refuses (a user's stricter shapes) with the store unchanged."""
    if not (REALDATA / WATCHMAN).is_file():
        pytest.skip(f"real data folder {REALDATA} is absent (it sits beside the checkout in shared/realdata)")
    from rdflib.compare import isomorphic

    from kg.checks.validate import ValidationFailed
    from kg.pipeline import incremental

    block = REALDATA / HUAWEI_BLOCK
    shapes = None
    if bad:  # a user's shape that every entry of the block violates (no end date)
        from kg.checks.files import shapes_with

        extra = tmp_path / "strict.ttl"
        extra.write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix tkg: <https://w3id.org/tradekg/ontology#> .
@prefix schema: <https://schema.org/> .
<urn:x:ended> a sh:NodeShape ; sh:targetClass tkg:Designation ;
    sh:property [ sh:path schema:endDate ; sh:minCount 1 ] .
""", encoding="utf-8")
        shapes = shapes_with([extra])
    on_disk = VersionedStore(tmp_path / "on-disk")
    shutil.copytree(store.path, on_disk.path, symlinks=True)
    outcomes = {}
    for target, memory in ((store, True), (on_disk, False)):
        monkeypatch.setattr(incremental, "in_memory", lambda reader, additions, memory=memory: memory)
        version = target.current_version()
        for path in (block, REALDATA / WATCHMAN):
            parsed = csl.read_csl(path, path.name)
            plan = csl.plan_import(parsed, target.open_read(), date(2025, 6, 1))
            try:
                outcomes[memory] = commit_delta(target, plan.removals, plan.additions, plan.focus,
                                                {"command": "import csl"}, shapes=shapes, unheld=plan.unheld)
            except ValidationFailed as refused:
                outcomes[memory] = {(v.message, v.location()) for v in refused.report.violations}
                assert target.current_version() == version
                break
    if bad:
        assert isinstance(outcomes[True], set) and outcomes[True] and outcomes[True] == outcomes[False]
        assert any(location.startswith(f"{HUAWEI_BLOCK.rsplit('/', 1)[-1]}:") and location.endswith("end_date")
                   for _, location in outcomes[True]), outcomes[True]
        return
    assert outcomes[True].total_triples == outcomes[False].total_triples
    assert outcomes[True].derived_triples == outcomes[False].derived_triples
    assert isomorphic(EmbeddedBackend(store.open_read()).all_triples(),
                      EmbeddedBackend(on_disk.open_read()).all_triples())
