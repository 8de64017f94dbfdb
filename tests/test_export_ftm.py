"""``tradekg export ftm``: FollowTheMoney entities, read back by the ``followthemoney`` library (issue 23).

The export must be what yente, Aleph and the ``ftm`` tools accept: every line
a valid entity of its schema, every property one the schema has, every value
unchanged by FtM's own cleaning (dates, countries, entity references), and
every reference naming an entity in the same file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.graph.store import VersionedStore
from tests.conftest import REPO

ftm = pytest.importorskip("followthemoney", reason="the test extra installs followthemoney")
from followthemoney import model  # noqa: E402


@pytest.fixture(scope="module")
def exported(curated_store: VersionedStore, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("ftm") / "tradekg.ftm.jsonl"
    result = CliRunner().invoke(cli, ["export", "ftm", "--store", str(curated_store.path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "FollowTheMoney entities" in result.output
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _by_id(entities: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in entities}


def test_every_line_is_a_valid_ftm_entity_unchanged_by_ftm_cleaning(exported: list[dict[str, Any]]) -> None:
    assert len(exported) > 50
    ids = _by_id(exported)
    assert len(ids) == len(exported), "ids are unique"
    for data in exported:
        proxy = model.get_proxy(data, cleaned=False)  # raises on an unknown schema or property
        for prop_name, values in data["properties"].items():
            prop = proxy.schema.get(prop_name)
            assert prop is not None, f"{data['schema']} has no property {prop_name}"
            for value in values:
                cleaned = prop.type.clean(value, proxy=proxy)
                assert cleaned == value, f"{data['id']} {prop_name}: FtM cleans {value!r} to {cleaned!r}"
                if prop.type.name == "entity":
                    assert value in ids, f"{data['id']} {prop_name} points at {value}, not in the file"
                    assert model.get(ids[value]["schema"]).is_a(prop.range), (data["id"], prop_name)
        cleaned_proxy = model.get_proxy(data)
        assert all(set(cleaned_proxy.get(k)) == set(v) for k, v in data["properties"].items()), data["id"]


def test_schemata_cover_parties_sanctions_and_relations(exported: list[dict[str, Any]]) -> None:
    schemata = {e["schema"] for e in exported}
    assert {"Company", "Person", "PublicBody", "Organization", "Sanction", "Ownership", "UnknownLink"} <= schemata


def test_huawei_and_its_entity_list_sanction(exported: list[dict[str, Any]]) -> None:
    ids = _by_id(exported)
    huawei = ids["tradekg-company-huawei"]
    assert huawei["schema"] == "Company"
    assert huawei["properties"]["name"] == ["Huawei Technologies Co., Ltd."]
    assert "Huawei" in huawei["properties"]["alias"]
    assert huawei["properties"]["country"] == ["cn"]
    assert huawei["properties"]["wikidataId"] == ["Q160120"]
    sanction = ids["tradekg-designation-el-huawei"]
    props = sanction["properties"]
    assert sanction["schema"] == "Sanction"
    assert props["entity"] == ["tradekg-company-huawei"]
    assert props["program"] == ["Entity List"]
    assert props["authority"] == ["Bureau of Industry and Security"]
    assert props["startDate"] == ["2019-05-16"] and props["listingDate"] == ["2019-05-21"]
    assert "For all items subject to the EAR" in props["provisions"]
    assert any(s.startswith("Listed by 84 FR 22961") for s in props["summary"])
    assert all(u.startswith("http") for u in props["sourceUrl"])


def test_ownership_carries_the_stated_percentage(exported: list[dict[str, Any]]) -> None:
    owned = [e for e in exported if e["schema"] == "Ownership"
             and e["properties"]["asset"] == ["tradekg-company-comnet-usa"]]
    assert len(owned) == 1
    assert owned[0]["properties"]["owner"] == ["tradekg-company-pacific-networks"]
    assert owned[0]["properties"]["percentage"] == ["100"]
    parent = [e for e in exported if e["schema"] == "Ownership"
              and e["properties"]["asset"] == ["tradekg-company-huawei"]]
    assert parent and "percentage" not in parent[0]["properties"]
    assert parent[0]["properties"]["owner"] == ["tradekg-company-huawei-holding"]
    affiliates = [e for e in exported if e["schema"] == "UnknownLink"
                  and e["properties"]["subject"] == ["tradekg-company-huawei-rd-belgium"]]
    assert affiliates and affiliates[0]["properties"]["object"] == ["tradekg-company-huawei"]


def test_the_ftm_command_line_reads_the_export(exported: list[dict[str, Any]], tmp_path: Path) -> None:
    """``ftm validate`` and ``ftm aggregate`` (the library's own tools) read the file back whole."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in exported), encoding="utf-8")
    ftm_cmd = Path(sys.executable).with_name("ftm")
    for command in ("validate", "aggregate"):
        out = tmp_path / f"{command}.jsonl"
        done = subprocess.run([str(ftm_cmd), command, "-i", str(source), "-o", str(out)], cwd=REPO,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        back = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert {e["id"] for e in back} == {e["id"] for e in exported}


def test_export_ftm_refuses_subgraph_options(curated_store: VersionedStore) -> None:
    result = CliRunner().invoke(cli, ["export", "ftm", "--focus", "Huawei", "--store", str(curated_store.path)])
    assert result.exit_code != 0
    assert "whole graph" in result.output
