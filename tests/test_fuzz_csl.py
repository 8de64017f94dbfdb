"""Property-based tests of the CSL importer (issue 6, "Nothing lost, nobody in").

Arbitrary names, alt_names, citations and the other cells of a trade.gov CSL file
are either imported, and read back from the store verbatim (modulo the documented
normalisation: whitespace runs collapsed, a trailing comma dropped, multi-valued
cells split on ';' with a leading "and " removed), or the row is refused with its
line and a reason; no input raises anything but ``NotACslFile`` (with a line), and
a refused write leaves the store exactly as it was. The Federal Register citation
parser never raises and returns only citations that are in the text.

Derandomized, no example database: the same examples on every run.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from kg.answers.resolve import normalise
from kg.checks.validate import ValidationFailed
from kg.graph.backend import EmbeddedBackend
from kg.graph.store import VersionedStore
from kg.pipeline.build import build
from kg.pipeline.incremental import commit_delta
from kg.sources import csl
from tests.conftest import mini_files

FUZZ = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def fuzz(examples: int) -> settings:
    """Deterministic settings (no deadline, derandomized, no database) with ``examples`` examples."""
    return settings(FUZZ, max_examples=examples)


TRICKY = [*'",;\r\n \t\'\\.()', "\r\n", "\u00a0", "\u2028", "\x85", "\x0b", "\ufeff", "\u200b", "\u3000",
                                      "é", "\u0301", "中", "\U0001f600", "F.R.", "FR", " and ", "Ltd.", "Co.,"]
chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
text = st.lists(st.one_of(chars, st.sampled_from(TRICKY)), max_size=30).map("".join)
BREAK = re.compile(r"\r\n|\r|\n")
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


def _quote(cell: str) -> str:
    """RFC 4180 quoting (Python 3.11's csv.writer leaves a lone '\\r' unquoted)."""
    return '"' + cell.replace('"', '""') + '"' if re.search(r'[",\r\n]', cell) else cell


def _encode(records: list[list[str]], endings: list[str]) -> tuple[bytes, list[int]]:
    out, starts = "", []
    for i, record in enumerate(records):
        starts.append(len(BREAK.findall(out)) + 1)
        out += ",".join(_quote(c) for c in record) + endings[i % len(endings)]
    return out.encode("utf-8"), starts


def _clean(value: str) -> str:
    """The documented normalisation of a CSL cell: whitespace runs collapsed, trimmed, trailing commas dropped."""
    return re.sub(r"\s+", " ", value).strip().rstrip(",").strip()


# --------------------------------------------------------------------------
# The Federal Register citation parser
# --------------------------------------------------------------------------

citation_junk = st.lists(st.one_of(
    chars, st.sampled_from(["F", "R", "f", "r", ".", " ", "  ", ";", ",", "FR", "F.R.", "F. R.", "fr", "Fr.", "\n",
                            "\t", "\u00a0", "Vol.", "No.", "/", "-", "84", "22961", "0", "00", "1234567", "٨٤", "８４",
                            "²"]),
    st.from_regex(r"\A[0-9]{1,8}\Z"),
), max_size=25).map("".join)


@fuzz(1000)
@given(text=st.one_of(citation_junk, text))
# Bugs this property found (fixed in kg/sources/csl.py): citations cut out of longer numbers, other scripts' digits.
@example(text="2184 FR 5")
@example(text="84 FR 1234567")
@example(text="٨٤ FR ٢٢٩٦١")
@example(text="0FR0")
def test_citation_parser_returns_only_citations_in_the_text(text: str) -> None:
    found = csl.parse_citations(text)
    assert len(found) == len(set(found))
    for citation in found:
        match = re.fullmatch(r"([1-9][0-9]{0,2}) FR ([1-9][0-9]{0,5})", citation)
        assert match, citation
        volume, page = match.groups()
        # Literally there: the same volume and page, not part of a longer number, F.R. or FR between.
        assert re.search(rf"(?<![0-9])0*{volume}\s*F\.?\s*R\.?\s*0*{page}(?![0-9])", text, re.IGNORECASE), (
            text, citation)


styles = st.sampled_from(["{v} FR {p}", "{v} F.R. {p}", "{v}FR{p}", "{v}  fr  {p}", "{v} F.R.{p}", "{v} F. R. {p}"])
separators = st.sampled_from([", ", "; ", ";; ", " ", "\n", " and ", " 9/4/02 ", ",  ", " (see) ", "\u00a0"])


@fuzz(500)
@given(parts=st.lists(st.tuples(st.integers(1, 999), st.integers(1, 999_999), styles, separators), max_size=6),
       lead=st.sampled_from(["", " ", "Vol. 88, ", ";"]))
def test_citation_parser_finds_every_citation_in_order(parts: list[tuple[int, int, str, str]], lead: str) -> None:
    text = lead + "".join(style.format(v=v, p=p) + sep for v, p, style, sep in parts)
    expected = list(dict.fromkeys(f"{v} FR {p}" for v, p, _, _ in parts))
    assert csl.parse_citations(text) == expected


# --------------------------------------------------------------------------
# Reading a file: a CslFile, or NotACslFile naming the line; nothing else.
# --------------------------------------------------------------------------

header_variants = st.one_of(
    st.just(csl.CURRENT_HEADER), st.just(csl.LEGACY_HEADER),
    st.just([*csl.CURRENT_HEADER, "", ""]), st.just([*csl.CURRENT_HEADER, "name"]),
    st.just(["Source List", "Entity Number", "Name"]),
    st.lists(st.one_of(st.sampled_from(csl.CURRENT_HEADER), text), max_size=30),
)
raw_files = st.one_of(
    st.tuples(header_variants, st.lists(st.lists(text, max_size=31), max_size=4), st.lists(ENDINGS, min_size=1,
                                                                                          max_size=3))
    .map(lambda t: _encode([t[0], *t[1]], t[2])[0]),
    st.binary(max_size=300),
    st.sampled_from([b"", b"\xef\xbb\xbf", b"\n", b"\xff\xfe_\x00i\x00d\x00", ",".join(csl.CURRENT_HEADER).encode()
                     + b'\nx,"unclosed', ",".join(csl.CURRENT_HEADER).encode() + b"\n" + b"a" * 200_000]),
)


@fuzz(300)
@given(data=raw_files, tail=st.sampled_from([b"", b'"', b"\xff", b"\x00"]))
def test_reading_any_bytes_gives_rows_or_a_line_numbered_refusal(data: bytes, tail: bytes) -> None:
    directory = Path(tempfile.mkdtemp(prefix="tkg-fuzz-csl-"))
    path = directory / "consolidated.csv"
    path.write_bytes(data + tail)
    try:
        parsed = csl.read_csl(path, "consolidated.csv")
    except csl.NotACslFile as exc:
        event(f"refused: {re.sub(r'[0-9]+', 'N', exc.problems[0].message)[:25]}")
        lines = len(re.findall(rb"\r\n|\r|\n", data + tail)) + 1
        assert exc.problems
        for p in exc.problems:
            assert p.file == "consolidated.csv" and p.message
            assert p.line is not None and 1 <= p.line <= lines, (p, lines)
        return
    finally:
        shutil.rmtree(directory)
    event(f"read: {parsed.layout[:7]} layout, {min(len(parsed.rows), 3)}+ rows")
    assert parsed.layout
    for row in parsed.rows:
        assert row.line >= 2
        assert set(row.cells) - {"__extra__"} <= set(csl.CURRENT_HEADER)


# --------------------------------------------------------------------------
# Importing: every row is in the store as written, or refused with its line; store unchanged on failure.
# --------------------------------------------------------------------------

class Template(tuple):
    """(store, its quads), with a short repr: hypothesis prints the arguments of a failing example."""

    def __repr__(self) -> str:
        return f"<mini store with {len(self[1])} quads>"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[VersionedStore, frozenset[ox.Quad]]:
    store = VersionedStore(tmp_path_factory.mktemp("fuzz-csl") / "store")
    build(store, mini_files())
    return Template((store, frozenset(store.open_read().quads_for_pattern(None, None, None, None))))


SOURCES = ["Entity List (EL) - Bureau of Industry and Security", "Specially Designated Nationals (SDN) - Treasury "
           "Department", "Military End User (MEU) List - Bureau of Industry and Security",
           "Nonproliferation Sanctions (ISN) - State Department", "中文 - 日本", ""]
NAMES = ["Huawei Technologies Co., Ltd. (Huawei).  Affiliated Entity:  Beijing Huawei Longshine Co., Ltd.",
         "HiSilicon Technologies Co., Ltd (HiSilicon), Bantian Longgang District", "Acme Co., Ltd., Chengdu, Sichuan",
         "Sinobright Import and Export Company; and any successor, sub-unit, or subsidiary thereof",
         "X (Y) (Z)", "(()", "Affiliated Entity: ", "A. Affiliated Entity: A", "  ", ",", "中文 (中)"]
alias = text.filter(lambda s: ";" not in s)


def mostly(good: st.SearchStrategy[str], bad: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``good`` six times in seven: most rows should get through, so that reading back is tested."""
    return st.sampled_from([True] * 6 + [False]).flatmap(lambda ok: good if ok else bad)  # integers favour 0

rows = st.fixed_dictionaries({
    "_id": st.one_of(st.from_regex(r"\A[0-9a-f]{8,16}\Z"), st.sampled_from(["ABC", "abc", "a_1", "a-1", "中文", "日本",
                                                                          "", " ", "dup", "dup"]), text),
    "source": mostly(st.one_of(st.sampled_from(SOURCES[:-1]), text.filter(_clean)), st.sampled_from(["", " "])),
    "type": mostly(st.sampled_from(["", "Entity", "Individual", "Vessel", "Aircraft", " entity "]),
                   st.one_of(st.just("Spaceship"), text)),
    "name": mostly(st.one_of(st.sampled_from(NAMES), text.filter(_clean)), text),
    "alt_names": st.lists(alias, max_size=4).map("; ".join),
    "federal_register_notice": st.one_of(citation_junk, st.sampled_from(["84 FR 22961, 85 FR 29852", "67 F.R. 5"])),
    "start_date": mostly(st.sampled_from(["", "2019-05-16", "5/16/2019", " 2020-02-29 ", "0001-01-01", "9999-12-31"]),
                         st.one_of(st.sampled_from(["2020-13-45", "٢٠١٩-٠٥-١٦"]), text)),
    "end_date": st.sampled_from(["", "", "", "2030-01-01", "2000-01-01", "12/31/2030", "2019-05-15"]),
    "addresses": st.one_of(st.just(""), st.sampled_from(["Shenzhen, CN", "a, b, DE; c, ZZ", "中文, CN"]), text),
    "license_policy": st.one_of(st.sampled_from(["", "Presumption of denial.", "Case-by-case review"]), text),
    "remarks": text, "programs": text, "ids": text, "citizenships": st.sampled_from(["", "CN", "xx; RU"]),
    "title": text, "vessel_flag": text,
})


def _row(**cells: str) -> dict[str, str]:
    return {"source": SOURCES[0], "type": "", "name": "Acme Co., Ltd.", **cells}


@fuzz(40)
@given(batch=st.lists(rows, min_size=0, max_size=4), legacy=st.booleans(),
       endings=st.lists(ENDINGS, min_size=1, max_size=3))
# Bugs this property found (fixed in kg/sources/csl.py), kept as explicit examples:
# record ids that are all non-ASCII all had the designation slug of "" and merged into one designation...
@example(batch=[_row(_id="中文", name="甲"), _row(_id="日本", name="乙")], legacy=False, endings=["\n"])
# ...as did ids differing only in case or punctuation (now refused with the line of the second)
@example(batch=[_row(_id="ABC", name="One"), _row(_id="abc", name="Two")], legacy=False, endings=["\r"])
# a row with no start date and an end date before the import got the import date as start, after its end:
# the shapes refused the whole file
@example(batch=[_row(_id="x1", end_date="2000-01-01"), _row(_id="x2", name="B")], legacy=False, endings=["\r\n"])
# start after end: refused as a row with its line, not the whole file by the shapes
@example(batch=[_row(_id="x3", start_date="2020-01-01", end_date="2019-01-01"), _row(_id="x4", name="C")],
         legacy=True, endings=["\n"])
def test_import_reads_back_every_row_or_names_its_line(
        template: tuple[VersionedStore, frozenset[ox.Quad]], batch: list[dict[str, str]], legacy: bool,
        endings: list[str]) -> None:
    origin, before = template
    header = csl.LEGACY_HEADER if legacy else csl.CURRENT_HEADER
    data, starts = _encode([header, *[[r.get(c, "") for c in header] for r in batch]], endings)
    work = Path(tempfile.mkdtemp(prefix="tkg-fuzz-csl-"))
    try:
        shutil.copytree(origin.path, work / "store", symlinks=True)
        store = VersionedStore(work / "store")
        version = store.current_version()
        path = work / "consolidated.csv"
        path.write_bytes(data)
        parsed = csl.read_csl(path, "consolidated.csv")
        assert [r.line for r in parsed.rows] == [ln for r, ln in zip(batch, starts[1:], strict=True)
                                                 if any(v.strip() for c, v in r.items() if c in header)]
        plan = csl.plan_import(parsed, store.open_read(), date(2025, 6, 1))
        refused = {p.line: p.reason for p in plan.problems}
        event(f"rows imported: {len(parsed.rows) - len(refused)}, refused: {len(refused)}")
        for reason in refused.values():
            event(f"refused: {re.sub(r'[^a-z ].*', '', reason)[:30].strip()}")
        assert all(p.reason for p in plan.problems)
        assert set(refused) <= {r.line for r in parsed.rows}
        try:
            commit_delta(store, plan.removals, plan.additions, plan.focus, {"command": "import csl"})
        except ValidationFailed as exc:
            assert store.current_version() == version
            assert frozenset(store.open_read().quads_for_pattern(None, None, None, None)) == before
            pytest.fail(f"valid-looking rows were refused by validation: {exc.report.text()}")
        backend = EmbeddedBackend(store.open_read())
        got = backend.select(
            "PREFIX tkg: <https://w3id.org/tradekg/ontology#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "SELECT ?d ?line ?record ?name ?party ?label WHERE { ?d a tkg:Designation ; tkg:cslRecordId ?record ; "
            "tkg:sourceFile 'consolidated.csv' ; tkg:sourceLine ?line ; tkg:listedName ?name ; "
            "tkg:designatedParty ?party . ?party rdfs:label ?label }").rows
        by_line: dict[int, list[dict]] = {}
        for r in got:
            by_line.setdefault(int(str(r["line"])), []).append(r)
        for row in parsed.rows:
            raw = dict(zip(header, [batch[starts.index(row.line) - 1].get(c, "") for c in header], strict=True))
            if row.line in refused:
                assert row.line not in by_line, (row.line, refused[row.line])
                continue
            # Nothing lost: the row is there, as written.
            assert len(by_line.get(row.line, [])) == 1, (row.line, raw, by_line.get(row.line))
            found = by_line[row.line][0]
            assert str(found["name"]) == _clean(raw["name"])
            if _clean(raw.get("_id", "")):
                assert str(found["record"]) == _clean(raw["_id"])
            party = str(found["party"])
            if "/csl-" not in party:
                continue  # a curated party: the importer never changes it
            alt_labels = {str(r["alias"]) for r in backend.select(
                "SELECT ?alias WHERE { ?p <http://www.w3.org/2004/02/skos/core#altLabel> ?alias }",
                {"p": found["party"]}).rows}
            label = normalise(str(found["label"]))
            for name in raw["alt_names"].split("; "):
                name = re.sub(r"^\s*and\s+", "", name.strip()).strip()
                if name and normalise(name) != label:
                    assert name in alt_labels, (name, alt_labels)
    finally:
        shutil.rmtree(work)
