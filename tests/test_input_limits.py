"""Every limit is checked before the work (issue 26, findings 6 and 8).

A CSL file cut anywhere is refused (or reads as the whole rows before the
cut); every importer refuses NUL bytes in the words ``load`` uses; an input
over the size limit (or endless, like /dev/zero) is refused before it is
read; JSON nested thousands deep is a plain error; a request body over the
limit is refused from its Content-Length, before it is read; and the server
says once, not twice a second, that it cannot load a version.
"""

from __future__ import annotations

import http.client
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.graph.store import VersionedStore
from kg.loaders.limits import NUL_MESSAGE
from kg.sources.csl import NotACslFile, read_csl
from kg.sources.federal_register import parse_json
from kg.sources.ofac import parse_file
from tests.serving import serving

HUAWEI_BLOCK = "csl/csl_consolidated_2025_entity_list_huawei_block.csv"
WATCHMAN = "csl/watchman_cslustest_consolidated_2025_sample.csv"
FR_FIXTURE = Path(__file__).parent / "fixtures" / "federal-register" / "2024-15810.json"


@pytest.fixture
def store(mini_store: VersionedStore, tmp_path: Path) -> VersionedStore:
    target = tmp_path / "store"
    shutil.copytree(mini_store.path, target, symlinks=True)
    return VersionedStore(target)


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("name", [HUAWEI_BLOCK, WATCHMAN])
def test_a_csl_file_cut_anywhere_is_refused_or_reads_whole_rows(realdata: Path, tmp_path: Path, name: str) -> None:
    source = realdata / name
    raw = source.read_bytes()
    full = [row.cells for row in read_csl(source, source.name).rows]
    cut_file = tmp_path / "cut.csv"
    field_ends = [i + 1 for i, byte in enumerate(raw) if byte == ord(",")]
    # Every cut right after a comma (the finding: a field boundary), and a sample of the others.
    for cut in sorted(set(field_ends[::11] + list(range(400, len(raw), 97)) + field_ends[-40:])):
        cut_file.write_bytes(raw[:cut])
        try:
            rows = [row.cells for row in read_csl(cut_file, "cut.csv").rows]
        except NotACslFile:
            continue
        assert rows == full[:len(rows)], f"a cut at byte {cut} imported a row the full file does not have"


def test_import_csl_refuses_a_file_cut_at_a_field_boundary(realdata: Path, store: VersionedStore,
                                                           tmp_path: Path) -> None:
    raw = (realdata / HUAWEI_BLOCK).read_bytes()
    cut = raw.rindex(b",", 0, len(raw) - 200) + 1  # inside the last row, right after a comma
    path = tmp_path / "consolidated.csv"
    path.write_bytes(raw[:cut])
    code, output = _cli("import", "csl", str(path), "--store", str(store.path))
    assert code == 2, output
    assert "cut short" in output and "Traceback" not in output


def test_every_importer_refuses_nul_bytes_as_load_does(tmp_path: Path, store: VersionedStore,
                                                       realdata: Path) -> None:
    # load (the model)
    table = tmp_path / "companies.csv"
    table.write_bytes(b"id,name,aliases,country,wikidata,parent,affiliate_of,homepage,source,confidence,note\n"
                      b"nulco,Nul\x00Co,,DE,,,,,fixture,confirmed,\n")
    code, output = _cli("load", str(table), "--store", str(store.path))
    assert code == 2 and NUL_MESSAGE in output
    # CSL
    csl = tmp_path / "consolidated.csv"
    raw = (realdata / HUAWEI_BLOCK).read_bytes()
    csl.write_bytes(raw[:2000] + b"\x00" + raw[2000:])
    with pytest.raises(NotACslFile, match="1 problem") as caught:
        read_csl(csl, "consolidated.csv")
    assert NUL_MESSAGE in str(caught.value.problems[0])
    code, output = _cli("import", "csl", str(csl), "--store", str(store.path))
    assert code == 2 and NUL_MESSAGE in output
    # OFAC
    prim = (realdata / "ofac" / "non-sdn-2025" / "cons_prim.csv").read_bytes()
    line_end = prim.index(b"\n") + 1
    with pytest.raises(Exception, match="1 problem") as ofac:
        parse_file(prim[:line_end + 10] + b"\x00" + prim[line_end + 10:], "cons_prim.csv", "cons_prim")
    assert NUL_MESSAGE in str(ofac.value.problems[0]) and ":2" in str(ofac.value.problems[0])  # type: ignore[attr-defined]
    folder = tmp_path / "ofac"
    shutil.copytree(realdata / "ofac" / "non-sdn-2025", folder)
    (folder / "cons_alt.csv").write_bytes(b"\x00" + (folder / "cons_alt.csv").read_bytes())
    code, output = _cli("import", "ofac", str(folder), "--as-of", "2025-06-01", "--store", str(store.path))
    assert code == 2 and NUL_MESSAGE in output, output
    # Federal Register: a raw NUL, and one written as a JSON escape
    document = FR_FIXTURE.read_bytes()
    for damaged in (document.replace(b'"title":"', b'"title":"\x00', 1),
                    document.replace(b'"title":"', b'"title":"\\u0000', 1)):
        assert damaged != document
        with pytest.raises(Exception) as fr:
            parse_json(damaged, "2024-15810.json")
        assert NUL_MESSAGE in str(fr.value.problems[0])  # type: ignore[attr-defined]
    path = tmp_path / "2024-15810.json"
    path.write_bytes(document.replace(b'"title":"', b'"title":"\\u0000', 1))
    code, output = _cli("import", "federal-register", str(path), "--store", str(store.path))
    assert code == 2 and NUL_MESSAGE in output, output


def test_inputs_over_the_limit_are_refused_before_they_are_read(tmp_path: Path, store: VersionedStore,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKG_MAX_INPUT_MB", "1")
    big = tmp_path / "companies.csv"
    big.write_bytes(b"id,name\n" + b"x" * (2 * 1024 * 1024))
    code, output = _cli("load", str(big), "--store", str(store.path))
    assert code == 2 and "more than an input may be (1 MB; TRADEKG_MAX_INPUT_MB raises it)" in output, output
    # An endless file has no size to measure: at most one byte past the limit is read.
    started = time.perf_counter()
    for args in (("load", "/dev/zero"), ("import", "csl", "/dev/zero"), ("import", "federal-register", "/dev/zero")):
        code, output = _cli(*args, "--store", str(store.path))
        assert code == 2 and "more than 1 MB" in output, (args, output)
    assert time.perf_counter() - started < 30


def test_json_nested_thousands_deep_is_a_plain_error(tmp_path: Path, store: VersionedStore) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    code, output = _cli("import", "federal-register", str(deep), "--store", str(store.path))
    assert code == 2 and "nested too deep" in output and "Traceback" not in output, output
    deep.write_text('{"results": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}", encoding="utf-8")
    code, output = _cli("import", "federal-register", str(deep), "--store", str(store.path))
    assert code == 2 and "nested too deep" in output, output


@pytest.mark.slow
def test_a_request_body_over_the_limit_is_refused_before_it_is_read(mini_store: VersionedStore) -> None:
    with serving(mini_store.path) as served:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        # It says 400 MB and sends almost nothing: the answer comes at once, from the header.
        connection.putrequest("POST", "/sparql")
        connection.putheader("Content-Type", "application/sparql-query")
        connection.putheader("Content-Length", str(400 * 1024 * 1024))
        connection.endheaders()
        connection.send(b"SELECT * WHERE { ?s ?p ?o }")
        started = time.perf_counter()
        answer = connection.getresponse()
        assert answer.status == 413 and b"too large" in answer.read()
        assert time.perf_counter() - started < 10
        connection.close()
        # Chunked, with no length: refused while it streams, as soon as it is over.
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        chunks = (b"#" * 65536 for _ in range(200))  # 13 MB of comment
        connection.request("POST", "/sparql", body=chunks, headers={"Content-Type": "application/sparql-query"},
                           encode_chunked=True)
        assert connection.getresponse().status == 413


@pytest.mark.slow
def test_the_watcher_says_once_that_it_cannot_load_a_version(store: VersionedStore) -> None:
    with serving(store.path) as served:
        broken = store.versions / "v-99990101T000000000000-1"
        broken.mkdir()
        (broken / "CURRENT").write_bytes(b"")
        pointer = store.path / ".current-test"
        pointer.symlink_to(broken.relative_to(store.path))
        pointer.replace(store.pointer)
        time.sleep(4)  # eight polls
        assert served.get("/")[0] == 200  # still serving the version it had
        served.process.terminate()
        served.process.wait(30)
        log = served.process.stderr.read().decode() if served.process.stderr else ""
    said = [line for line in log.splitlines() if "could not load the new store version" in line]
    assert len(said) == 1, log[-3000:]
    assert "Traceback" not in log
