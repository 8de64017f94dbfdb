"""`import ofac`: OFAC's own SDN and Non-SDN files, remarks, one party across sources, end-dating, bad input.

Real files come from shared/realdata/ofac/ (never copied into the project).
Files the tests change (a newer list with entries missing, a cut row, a
Latin-1 byte) are derived from the real ones in a temporary directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from kg.answers.queries import find_query, run_saved
from kg.cli import cli
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.namespaces import SCHEMA, TKG, entity_iri
from kg.sources import ofac
from kg.sources.ofac_remarks import birth_date, parse_remarks

NON_SDN = "ofac/non-sdn-2025"
SDN = "ofac/sdn-2021"
HUAWEI_BLOCK = "csl/csl_consolidated_2025_entity_list_huawei_block.csv"
WATCHMAN = "csl/watchman_cslustest_consolidated_2025_sample.csv"
XSD_INT = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def copy_store(curated_store: VersionedStore, target: Path) -> VersionedStore:
    shutil.copytree(curated_store.path, target, symlinks=True)
    return VersionedStore(target)


@pytest.fixture
def store(curated_store: VersionedStore, tmp_path: Path) -> VersionedStore:
    return copy_store(curated_store, tmp_path / "store")


def run(runner: CliRunner, store: VersionedStore, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, ["import", *args, "--store", str(store.path)])
    return result.exit_code, result.stdout, result.stderr


def values(store: VersionedStore, subject: str, predicate: str) -> list[str]:
    reader = store.open_read()
    return sorted(q.object.value for q in reader.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate),
                                                                    None, ox.DefaultGraph()))


def designations_of(store: VersionedStore, party: str) -> dict[str, str]:
    """designation IRI -> list label, for one party."""
    reader = store.open_read()
    found = {}
    for quad in reader.quads_for_pattern(None, ox.NamedNode(str(TKG.designatedParty)), ox.NamedNode(party),
                                         ox.DefaultGraph()):
        lst = next(reader.quads_for_pattern(quad.subject, ox.NamedNode(str(TKG.onList)), None, ox.DefaultGraph()))
        label = next(reader.quads_for_pattern(lst.object, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                                              None, ox.DefaultGraph()))
        found[quad.subject.value] = label.object.value
    return found


def _version(store: VersionedStore) -> str:
    return str((store.path / "current").resolve())


# -- remarks ------------------------------------------------------------------

def test_remark_forms_become_facts_and_the_rest_is_kept() -> None:
    facts = parse_remarks(
        "Target Type Private Company; Effective Date (CMIC) 02 Aug 2021; Purchase/Sales For Divestment Date (CMIC) "
        "03 Jun 2022; Listing Date (CMIC) 03 Jun 2021; Unified Social Credit Code (USCC) 914403001922038216 (China).")
    assert (facts.listing_date, facts.effective_date, facts.divestment_date) == ("2021-06-03", "2021-08-02",
                                                                                 "2022-06-03")
    assert facts.uscc == ["914403001922038216"] and facts.unparsed == ["Target Type Private Company"]
    facts = parse_remarks("DOB 10 Dec 1948; alt. DOB 1949; POB Tehran, Iran; nationality Iran; Passport A1234 (Iran); "
                          "Tax ID No. 7744001497 (Russia); ISIN CND10003D0F9; Equity Ticker CHL US; "
                          "Linked To: MAHAN AIR; a.k.a. 'BNC'; Gender Male.")
    assert facts.dates_of_birth == ["1948-12-10", "1949"] and facts.places_of_birth == ["Tehran, Iran"]
    assert facts.nationalities == ["Iran"] and facts.passports == ["A1234 (Iran)"]
    assert facts.registrations == ["Tax ID No. 7744001497 (Russia)"] and facts.isin == ["CND10003D0F9"]
    assert facts.tickers == ["CHL US"] and facts.linked_to == ["MAHAN AIR"] and facts.aliases == ["BNC"]
    assert facts.unparsed == ["Gender Male"]
    assert birth_date("circa 1955") == "circa 1955" and birth_date("Jan 1962") == "1962-01"
    assert birth_date("1960 to 1962") == "1960 to 1962" and birth_date("sometime") is None


# -- the Non-SDN list: CMIC on the curated parties -------------------------------

def test_non_sdn_lands_cmic_entries_on_the_curated_parties(store: VersionedStore, runner: CliRunner,
                                                            realdata: Path) -> None:
    code, out, err = run(runner, store, "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19")
    assert code == 0, err
    assert "442 entries, 1073 aliases, 574 addresses, 10 remark continuations" in out
    assert "68  entries on NS-CMIC" in out
    huawei = entity_iri("company", "huawei")
    cmic = {d: lst for d, lst in designations_of(store, huawei).items() if "Military-Industrial" in lst}
    assert list(cmic) == [entity_iri("designation", "ofac-ns-cmic-30947")]
    designation = next(iter(cmic))
    assert values(store, designation, str(TKG.listingDate)) == ["2021-06-03"]
    assert values(store, designation, str(SCHEMA.startDate)) == ["2021-08-02"]
    assert values(store, designation, str(TKG.divestmentDate)) == ["2022-06-03"]
    assert values(store, designation, str(TKG.uscc)) == ["914403001922038216"]
    assert values(store, designation, str(TKG.ofacEntityNumber)) == ["30947"]
    # The curated orders (data/rules.csv, found by their executive order number), not minted ones.
    assert values(store, designation, str(TKG.designatedBy)) == [entity_iri("rule", "eo-13959"),
                                                                 entity_iri("rule", "eo-14032")]
    for curated in ("huawei-holding", "hikvision", "smic"):
        assert any("Military-Industrial" in lst for lst in designations_of(store, entity_iri("company", curated))
                   .values()), curated
    # Its Entity List and 1260H entries are on the same node.
    lists = set(designations_of(store, huawei).values())
    assert {"Entity List", "Chinese Military Companies List (Section 1260H)",
            "Non-SDN Chinese Military-Industrial Complex Companies List"} <= lists
    # Linked To: Huawei Investment & Holding's entry links to Huawei.
    holding = next(d for d, lst in designations_of(store, entity_iri("company", "huawei-holding")).items()
                   if "Military-Industrial" in lst)
    assert values(store, holding, str(TKG.linkedTo)) == [huawei]
    assert "CND10003D0F9" in values(store, holding, str(TKG.isin))
    # A remark continued in cons_comments.csv is whole.
    rusag = values(store, entity_iri("designation", "ofac-ssi-17014"), str(TKG.remarks))[0]
    assert "a.k.a. 'RUSAG'" in rusag
    # Same content again: no change.
    code, out, err = run(runner, store, "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-20")
    assert code == 0 and "nothing changed" in out


def test_an_entry_made_by_two_orders_is_two_timeline_events_each_with_its_own_document(
        store: VersionedStore, runner: CliRunner, realdata: Path) -> None:
    """Huawei's NS-CMIC entry cites EO 13959 and EO 14032: each citation with its own FR document number."""
    assert run(runner, store, "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19")[0] == 0
    rows = run_saved(find_query("firm-timeline"), {"firm": "Huawei"}, EmbeddedBackend(store.open_read())).rows
    added = sorted((str(r["citation"]), str(r["document"])) for r in rows
                   if str(r["event"]) == "added to the Non-SDN Chinese Military-Industrial Complex Companies List")
    assert added == [("85 FR 73185", "2020-25459"), ("86 FR 30145", "2021-12019")]


def test_a_csl_row_from_an_ofac_list_is_the_same_party(store: VersionedStore, runner: CliRunner,
                                                       realdata: Path) -> None:
    code, out, err = run(runner, store, "csl", str(realdata / WATCHMAN))
    assert code == 0, err
    code, out, err = run(runner, store, "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19")
    assert code == 0, err
    assert "entries on a CSL party (same entity number)" in out
    reader = store.open_read()
    # ROSNEFT TRADE LIMITED is entity 18300 in both files: one party, two designations (CSL and OFAC).
    backend = EmbeddedBackend(reader)
    rows = backend.select(
        'SELECT ?party (COUNT(?d) AS ?n) WHERE { ?d <https://w3id.org/tradekg/ontology#designatedParty> ?party . '
        '?party <http://www.w3.org/2000/01/rdf-schema#label> ?name FILTER(LCASE(STR(?name)) = "rosneft trade limited") '
        '} GROUP BY ?party').rows
    assert len(rows) == 1 and int(str(rows[0]["n"])) == 2


def test_huawei_block_then_ofac_answers_as_one_party(store: VersionedStore, runner: CliRunner,
                                                     realdata: Path) -> None:
    assert run(runner, store, "csl", str(realdata / HUAWEI_BLOCK))[0] == 0
    assert run(runner, store, "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19")[0] == 0
    backend = EmbeddedBackend(store.open_read())
    rows = run_saved(find_query("firm-timeline"), {"firm": "Huawei"}, backend).rows
    events = {str(r["event"]) for r in rows}
    assert {"added to the Entity List", "added to the Non-SDN Chinese Military-Industrial Complex Companies List",
            "added to the Chinese Military Companies List (Section 1260H)"} <= events
    # Proven Glory: BIS lists "Proven Glory"; OFAC lists PROVEN GLORY CAPITAL LIMITED a.k.a. PROVEN GLORY.
    glory = {str(r.get("citation")) for r in run_saved(find_query("rules-affecting-firm"), {"firm": "Proven Glory"},
                                                   backend).rows}
    # 85 FR 51603 is a page of 85 FR 51596 (inferred); EO 13959 by its Federal Register citation
    assert {"85 FR 51596", "85 FR 73185"} <= glory
    rules = run_saved(find_query("rules-affecting-firm"), {"firm": "Huawei"}, backend).rows
    cmic = [r for r in rules if str(r.get("citation", "")) == "85 FR 73185"]
    assert cmic and str(cmic[0]["from"]) == "2021-08-02"
    # Sugon: the CSL's "Sugon" and OFAC's DAWNING INFORMATION INDUSTRY CO., LTD a.k.a. 'SUGON' are one party.
    sugon = run_saved(find_query("exceptions-for-firm"), {"firm": "Sugon"}, backend)  # no "names 2 entities"
    assert sugon.rows
    lists = {str(r["listName"]) for r in run_saved(find_query("designations"), {}, backend).rows
             if str(r["name"]) == "Sugon"}
    assert lists == {"Entity List", "Non-SDN Chinese Military-Industrial Complex Companies List"}
    # A designation record never answers to a party's name: show names the firm.
    for name, party in (("Hikvision", "company/hikvision"), ("Sugon", None), ("Proven Glory", None)):
        result = runner.invoke(cli, ["show", name, "--store", str(store.path)])
        assert result.exit_code == 0, result.output
        assert "/designation/" not in result.stdout.splitlines()[1].split(",")[0]
        if party:
            assert f"https://w3id.org/tradekg/id/{party}," in result.stdout
    # Proven Glory's address is in the British Virgin Islands (the CSL prints "GB"): its country is VG.
    assert backend.ask('ASK { ?p <http://www.w3.org/2000/01/rdf-schema#label> "Proven Glory" ; '
                       '<https://schema.org/addressCountry> "VG" }')
    # Issue 20: the agency that administers the list acts on the firm.
    agencies = {str(r["name"]): r for r in run_saved(find_query("agencies-acting-on-firm"), {"firm": "Huawei"},
                                                      backend).rows}
    assert int(str(agencies["Office of Foreign Assets Control"]["rules"])) == 2


# -- newer files end-date --------------------------------------------------------

def _cons_without(realdata: Path, target: Path, drop: set[str]) -> Path:
    target.mkdir()
    for path in (realdata / NON_SDN).iterdir():
        raw = path.read_bytes()
        lines = raw.split(b"\r\n")
        raw = b"\r\n".join(line for line in lines if line.split(b",", 1)[0].decode() not in drop)
        (target / path.name).write_bytes(raw)
    return target


def test_a_newer_file_ends_the_entries_it_lacks_with_a_guard(store: VersionedStore, runner: CliRunner,
                                                             realdata: Path, tmp_path: Path) -> None:
    assert run(runner, store, "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19")[0] == 0
    newer = _cons_without(realdata, tmp_path / "newer", {"30946", "30951"})  # Hikvision, SMIC
    code, out, err = run(runner, store, "ofac", str(newer), "--as-of", "2026-01-15")
    assert code == 0, err
    assert "2  entries ended (not in these files)" in out
    hikvision = entity_iri("designation", "ofac-ns-cmic-30946")
    assert values(store, hikvision, str(SCHEMA.endDate)) == ["2026-01-15"]
    assert values(store, entity_iri("designation", "ofac-ns-cmic-30947"), str(SCHEMA.endDate)) == []
    # A file lacking most of a list is refused unless told: nothing is written.
    prim = (realdata / NON_SDN / "cons_prim.csv").read_bytes().split(b"\r\n")
    cmic = {line.split(b",", 1)[0].decode() for line in prim if b"CMIC-EO13959" in line}
    subset = _cons_without(realdata, tmp_path / "subset", cmic)
    before = _version(store)
    code, out, err = run(runner, store, "ofac", str(subset), "--as-of", "2026-02-01")
    assert code == 2 and "nothing was imported" in err and "--partial" in err
    assert _version(store) == before
    code, out, err = run(runner, store, "ofac", str(subset), "--as-of", "2026-02-01", "--partial")
    assert code == 0 and "entries ended" not in out


# -- bad input --------------------------------------------------------------------

def _copy_set(realdata: Path, target: Path) -> Path:
    shutil.copytree(realdata / NON_SDN, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def test_malformed_files_are_refused_with_file_and_line(store: VersionedStore, runner: CliRunner,
                                                        realdata: Path, tmp_path: Path) -> None:
    before = _version(store)
    cut = _copy_set(realdata, tmp_path / "cut")
    lines = (cut / "cons_prim.csv").read_bytes().split(b"\r\n")
    lines[4] = b",".join(lines[4].split(b",")[:5])
    (cut / "cons_prim.csv").write_bytes(b"\r\n".join(lines))
    code, _, err = run(runner, store, "ofac", str(cut))
    assert code == 2 and "cons_prim.csv:5: 4 field(s) where OFAC's cons_prim.csv has 12" in err
    latin = _copy_set(realdata, tmp_path / "latin")
    lines = (latin / "cons_alt.csv").read_bytes().split(b"\r\n")
    lines[2] = lines[2].replace(b'"', b'"\xe9', 1)
    (latin / "cons_alt.csv").write_bytes(b"\r\n".join(lines))
    code, _, err = run(runner, store, "ofac", str(latin))
    assert code == 2 and "cons_alt.csv:3: not UTF-8 text" in err
    stray = tmp_path / "stray.csv"
    stray.write_text("1,2\r\n", encoding="utf-8")
    code, _, err = run(runner, store, "ofac", str(stray))
    assert code == 2 and "not an OFAC file name" in err
    code, _, err = run(runner, store, "ofac", str(realdata / NON_SDN / "cons_alt.csv"))
    assert code == 2 and "needs cons_prim.csv beside it" in err
    assert _version(store) == before


def test_files_are_recognised_by_name_case_ignored(tmp_path: Path, realdata: Path) -> None:
    folder = tmp_path / "upper"
    folder.mkdir()
    for path in (realdata / NON_SDN).iterdir():
        (folder / path.name.upper()).write_bytes(path.read_bytes())
    sets = ofac.read_paths([folder])
    assert [s.kind for s in sets] == ["cons"] and len(sets[0].entries) == 442


# -- the whole 2021 SDN list --------------------------------------------------------

@pytest.fixture(scope="module")
def sdn_store(curated_store: VersionedStore, tmp_path_factory: pytest.TempPathFactory) -> VersionedStore:
    if not (Path(__file__).parent.parent.parent / "shared" / "realdata" / SDN).is_dir():
        pytest.skip("the real OFAC SDN files are absent (shared/realdata/ofac/sdn-2021)")
    store = copy_store(curated_store, tmp_path_factory.mktemp("sdn") / "store")
    result = CliRunner().invoke(cli, ["import", "ofac", str(Path(__file__).parent.parent.parent / "shared" /
                                                               "realdata" / SDN), "--as-of", "2021-07-07",
                                      "--store", str(store.path)])
    assert result.exit_code == 0, result.stderr
    return store


def test_sdn_individual_has_aliases_and_date_of_birth(sdn_store: VersionedStore) -> None:
    abbas = entity_iri("person", "ofac-2674")
    assert values(sdn_store, abbas, "http://xmlns.com/foaf/0.1/name") == ["ABBAS, Abu"]
    assert values(sdn_store, abbas, "http://www.w3.org/2004/02/skos/core#altLabel") == ["ZAYDAN, Muhammad"]
    assert values(sdn_store, abbas, str(TKG.dateOfBirth)) == ["1948-12-10"]
    designation = entity_iri("designation", "ofac-sdn-2674")
    assert values(sdn_store, designation, str(TKG.program)) == ["SDGT"]
    assert values(sdn_store, designation, str(TKG.ofacEntityNumber)) == ["2674"]
    counts = EmbeddedBackend(sdn_store.open_read()).select(
        "SELECT (COUNT(?d) AS ?n) WHERE { ?d <https://w3id.org/tradekg/ontology#ofacEntityNumber> ?e }").rows
    assert int(str(counts[0]["n"])) == 8976


def test_sdn_again_changes_nothing(sdn_store: VersionedStore, realdata: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "ofac", str(realdata / SDN), "--as-of", "2021-08-01",
                                      "--store", str(sdn_store.path)])
    assert result.exit_code == 0, result.stderr
    assert "nothing changed" in result.stdout


# -- issue 19: dates OFAC does not print, one party across lists, orphan rows ------------------------------

SDN_2021 = "ofac/sdn-2021"


def test_screen_rosneft_before_the_first_file_says_not_known(store: VersionedStore, runner: CliRunner,
                                                             realdata: Path) -> None:
    """OFAC's legacy files print no listing date for ROSNEFT: never the import date as a start, never
    'not yet in force' before it, never silence."""
    assert run(runner, store, "ofac", str(realdata / NON_SDN), "--as-of", "2025-12-19")[0] == 0
    result = runner.invoke(cli, ["screen", "Rosneft", "--as-of", "2020-01-01", "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[1]
    assert "Sectoral Sanctions Identifications List on or before 2025-12-19 [OFAC's file gives no listing date]" \
        in first
    assert "not known on 2020-01-01: listed on or before 2025-12-19; OFAC's file gives no listing date" in first
    assert "not yet in force" not in first and "2025-12-19–in force" not in first
    today = runner.invoke(cli, ["screen", "Rosneft", "--store", str(store.path)]).stdout.splitlines()[1]
    assert "not known" not in today and "on or before 2025-12-19" in today
    backend = EmbeddedBackend(store.open_read())
    assert not backend.ask("PREFIX tkg: <https://w3id.org/tradekg/ontology#> PREFIX schema: <https://schema.org/> "
                           'ASK { ?d tkg:listedName "ROSNEFT" ; schema:startDate ?s }')
    # The CMIC dates OFAC does print start the entry, and the listing date is said.
    rows = run_saved(find_query("designations"), {"list": "NS-CMIC", "as_of": "2022-01-01"}, backend).rows
    huawei = [r for r in rows if "HUAWEI TECHNOLOGIES" in str(r["name"]).upper()]
    assert huawei and str(huawei[0]["from"]) == "2021-08-02"
    assert str(huawei[0]["status"]) == "holds on 2022-01-01 (listed 2021-06-03)"


def test_an_sdn_list_as_of_a_day_before_its_file_answers_not_known_not_nothing(
        store: VersionedStore, runner: CliRunner, realdata: Path, tmp_path: Path) -> None:
    # One stray remark for an entity number sdn.csv lacks: warned with its line and skipped, the rest imported.
    sdn = tmp_path / "sdn"
    shutil.copytree(realdata / SDN_2021, sdn)
    comments = sdn / "sdn_comments.csv"
    raw = comments.read_bytes().rstrip(b"\x1a")
    comments.write_bytes(raw + b'\r\n99999999,"a remark for an entry the main file lacks"\r\n\x1a')
    code, _, err = run(runner, store, "ofac", str(sdn), "--as-of", "2021-07-07")
    assert code == 0, err
    assert "sdn_comments.csv" in err and "entity number 99999999 is not in sdn.csv" in err and "skipped" in err
    backend = EmbeddedBackend(store.open_read())
    rows = run_saved(find_query("designations"), {"list": "SDN", "as_of": "2020-01-01"}, backend).rows
    assert len(rows) > 7000
    assert {str(r["status"]) for r in rows} == {
        "not known on 2020-01-01: listed on or before 2021-07-07; OFAC's file gives no listing date"}


def test_an_identifier_both_lists_print_is_one_party(store: VersionedStore, runner: CliRunner, realdata: Path,
                                                     tmp_path: Path) -> None:
    """ROSNEFT TRADE LIMITED: the CSL prints "Registration ID, C122790", OFAC "Registration ID C122790". With
    OFAC's entity number and name changed (so neither can match), the identifier still finds the party."""
    assert run(runner, store, "csl", str(realdata / WATCHMAN))[0] == 0
    target = tmp_path / "cons"
    target.mkdir()
    for path in (realdata / NON_SDN).iterdir():
        raw = path.read_bytes().replace(b"\r\n18300,", b"\r\n99918300,").replace(
            b'"ROSNEFT TRADE LIMITED"', b'"RTL RENAMED LIMITED"').replace(b'"TNK TRADE LIMITED"', b'"RTL OLD NAME"')
        if raw.startswith(b"18300,"):
            raw = b"99918300," + raw[len(b"18300,"):]
        (target / path.name).write_bytes(raw)
    code, out, err = run(runner, store, "ofac", str(target), "--as-of", "2025-12-19")
    assert code == 0, err
    assert "entries on a party with the same identifier" in out
    backend = EmbeddedBackend(store.open_read())
    rows = backend.select(
        'SELECT ?party (COUNT(?d) AS ?n) WHERE { ?d <https://w3id.org/tradekg/ontology#designatedParty> ?party . '
        '?party <http://www.w3.org/2000/01/rdf-schema#label> ?name FILTER(LCASE(STR(?name)) = "rosneft trade limited") '
        '} GROUP BY ?party').rows
    assert len(rows) == 1 and int(str(rows[0]["n"])) == 2


def test_a_truncated_file_is_still_refused_and_every_bad_file_is_named(store: VersionedStore, runner: CliRunner,
                                                                        realdata: Path, tmp_path: Path) -> None:
    target = tmp_path / "cons"
    shutil.copytree(realdata / NON_SDN, target)
    for name in ("cons_prim.csv", "cons_alt.csv"):
        raw = (target / name).read_bytes()
        cut = raw.index(b',"', len(raw) // 2) + 5  # a truncated download, cut inside a quoted name
        (target / name).write_bytes(raw[:cut])
    code, _, err = run(runner, store, "ofac", str(target), "--as-of", "2025-12-19")
    assert code != 0
    assert "cons_prim.csv" in err and "cons_alt.csv" in err
    assert "nothing was loaded" in err


def test_two_ofac_entries_printing_one_registration_number_stay_two_parties(store: VersionedStore,
                                                                           runner: CliRunner, realdata: Path) -> None:
    """OFAC prints "NIT # 800160353-2" for both MANAURE S.A. (4579) and AGROPECUARIA LA ROBLEDA S.A. (4486):
    its own entity numbers say they are two entries, so an identifier never merges them."""
    assert run(runner, store, "ofac", str(realdata / "ofac/sdn-2021"), "--as-of", "2021-07-07")[0] == 0
    assert values(store, entity_iri("designation", "ofac-sdn-4579"), str(TKG.designatedParty)) == [
        entity_iri("company", "ofac-4579")]
