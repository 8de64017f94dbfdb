"""The curated graph (data/) answers the questions the seed article raises, with sources.

These tests read the real curated facts, so they fail when a fact a user
relies on goes missing or an unconfirmed value slips into a structured column.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from rdflib import RDF, URIRef
from rdflib.namespace import DCTERMS

from kg.answers.queries import find_query, run_saved
from kg.graph.backend import EmbeddedBackend
from kg.loaders.tables import load_catalog
from kg.namespaces import ELI, TKG, entity_iri
from kg.resources import data_dir

pytestmark = pytest.mark.slow


def _rows(backend: EmbeddedBackend, name: str, **params: str) -> list[dict[str, str]]:
    result = run_saved(find_query(name), params, backend)
    return [{k: str(v) for k, v in row.items()} for row in result.rows]


def test_every_fact_node_names_a_source(curated_backend: EmbeddedBackend) -> None:
    graph = curated_backend.all_triples()
    catalog = load_catalog()
    for table in catalog.tables.values():
        if table.name == "sources":
            continue
        nodes = set(graph.subjects(RDF.type, URIRef(table.class_iri)))
        assert nodes, f"no {table.name} in the curated graph"
        for node in nodes:
            sources = list(graph.objects(node, DCTERMS.source))
            assert sources, f"{node} has no source"
            for source in sources:
                assert (source, RDF.type, TKG.Source) in graph


def test_partial_and_unconfirmed_rows_say_why() -> None:
    for path in sorted(data_dir().glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                if row.get("confidence") in ("partial", "unconfirmed"):
                    assert row.get("note", "").strip(), f"{path.name}:{line} is {row['confidence']} with no note"


def test_unconfirmed_values_are_not_stated_as_facts(curated_backend: EmbeddedBackend) -> None:
    graph = curated_backend.all_triples()
    citations = {str(o) for o in graph.objects(None, DCTERMS.bibliographicCitation)}
    numbers = {str(o) for o in graph.objects(None, ELI.id_local)}
    assert "87 FR 55241" not in citations  # DOMAIN.md: never read in a source
    assert "2019-10616" not in numbers  # seen only in a third-party file


def test_huawei_rules_name_the_listing_and_the_standards_rules(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "rules-affecting-firm", firm="Huawei")
    by_rule = {(r["rule"].rsplit("/", 1)[-1], r["effect"], r["reach"]) for r in rows}
    assert ("el-huawei-2019", "designates", "named") in by_rule
    assert ("standards-2020", "authorizes exception", "named") in by_rule
    assert ("standards-2022", "authorizes exception", "on a list") in by_rule
    assert ("fcc-covered-list-2021", "designates", "named") in by_rule
    listing = next(r for r in rows if r["rule"].endswith("/el-huawei-2019"))
    assert listing["citation"] == "84 FR 22961"
    assert listing["from"] == "2019-05-16"
    assert listing["sources"]


def test_huawei_as_of_2021_excludes_later_rules(curated_backend: EmbeddedBackend) -> None:
    rules = {r["rule"].rsplit("/", 1)[-1] for r in _rows(curated_backend, "rules-affecting-firm",
                                                          firm="huawei", as_of="2021-01-01")}
    assert "el-huawei-2019" in rules and "standards-2020" in rules
    assert "standards-2022" not in rules
    assert not any(r.startswith("tgl") for r in rules)  # the TGL ended on 2020-08-13


def test_affiliate_is_reached_by_2019_listing_and_2022_authorization(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "rules-affecting-firm", firm="Huawei Technologies (Bolivia) S.R.L.")
    rules = {r["rule"].rsplit("/", 1)[-1] for r in rows}
    assert {"el-huawei-2019", "standards-2022"} <= rules


def test_2022_standards_rule_reaches_every_entity_list_party(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "firms-affected-by-rule", rule="2022-19415")
    on_list = {r["name"] for r in rows if r["reach"] == "on a list"}
    listed = {r["name"] for r in _rows(curated_backend, "designations", list="Entity List", as_of="2022-09-09")}
    assert listed and on_list == listed


def test_estevez_rules_are_those_of_bis_during_his_term(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "rules-by-official", person="Alan Estevez")
    ids = {r["rule"].rsplit("/", 1)[-1] for r in rows}
    assert {"standards-2022", "adv-computing-2022", "adv-computing-2023", "standards-2024"} <= ids
    assert all((r.get("published") or r["effective"]) >= "2022-03-31" for r in rows)
    assert "el-huawei-2019" not in ids
    assert {r["post"] for r in rows} == {"Under Secretary of Commerce for Industry and Security"}


def test_fcc_covered_list_designations(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "designations", list="Covered List")
    first = {r["name"] for r in rows if r["from"] == "2021-03-12"}
    assert "Huawei Technologies Co., Ltd." in first and "ZTE Corporation" in first
    assert len(first) == 5


def test_timeline_is_ordered_and_starts_with_the_2019_listing(curated_backend: EmbeddedBackend) -> None:
    rows = _rows(curated_backend, "firm-timeline", firm="Huawei")
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates)
    assert rows[0]["date"] == "2019-05-16" and rows[0]["event"] == "added to the Entity List"


def test_reimbursement_program_and_its_money(curated_backend: EmbeddedBackend) -> None:
    graph = curated_backend.all_triples()
    program = next(graph.subjects(RDF.type, TKG.FundingProgram))
    amounts = sorted(
        float(graph.value(a, URIRef("https://schema.org/amount")))
        for a in graph.subjects(TKG.forProgram, program)
    )
    assert amounts == [1_895_000_000.0, 3_080_000_000.0]
    targets = set(graph.objects(program, TKG.targetsEquipmentOf))
    assert URIRef(entity_iri("company", "huawei")) in targets


def test_curated_affiliates_match_the_real_entity_list_rows(realdata: Path) -> None:
    """Every Huawei affiliate we curate appears in the real CSL block, listed by 84 FR 22961."""
    block = realdata / "csl" / "csl_consolidated_2025_entity_list_huawei_block.csv"
    with block.open(encoding="utf-8", newline="") as handle:
        real = {" ".join(r["name"].split()): r for r in csv.DictReader(handle)}
    with (data_dir() / "companies.csv").open(encoding="utf-8") as handle:
        affiliates = [r for r in csv.DictReader(handle) if r["affiliate_of"] == "huawei"]
    assert affiliates
    for company in affiliates:
        name = " ".join(company["name"].split())
        # Real CSL names carry trailing text ("..., Ltd (HiSilicon), Bantian ..."): match the start.
        row = real.get(name) or next((r for n, r in real.items() if n.startswith(name)), None)
        assert row is not None, f"{company['name']} is not in the real Entity List block"
        # The CSL cites the page of the May 2019 rule where the entry sits:
        # 84 FR 22961 for most, 84 FR 22963 for the China-based affiliates.
        assert re.search(r"\b84 FR 2296[1-8]\b", row["federal_register_notice"]), row["federal_register_notice"]
        assert row["license_policy"] == "Presumption of denial"


def test_curated_fcc_dates_match_the_real_covered_list(realdata: Path) -> None:
    table = realdata / "opensanctions" / "fcc_covered_list__table.csv"
    text = table.read_text(encoding="utf-8")
    assert "Huawei" in text and "March 12, 2021" in text
    with (data_dir() / "designations.csv").open(encoding="utf-8") as handle:
        fcc = [r for r in csv.DictReader(handle) if r["list"] == "fcc-covered-list"]
    long_dates = {"2021-03-12": "March 12, 2021", "2022-03-25": "March 25, 2022",
                  "2022-09-20": "September 20, 2022", "2024-07-23": "July 23, 2024"}
    for row in fcc:
        assert long_dates[row["start_date"]] in text, row["id"]
