"""``tradekg export ftm``: the graph as FollowTheMoney entities, one JSON object a line.

Investigators read sanctions data with OpenSanctions' yente, Aleph and the
``ftm`` command-line tools, which all speak FollowTheMoney (FtM). Each line is
``{"id": ..., "schema": ..., "properties": {name: [values]}}``.

The mapping (README, "FollowTheMoney export"):

==========================  =================  ==========================================
tradekg                     FtM schema         properties
==========================  =================  ==========================================
tkg:Company                 Company            name, alias, country, wikidataId, idNumber,
                                               website, sourceUrl
tkg:Person                  Person             name, alias, nationality, birthDate,
                                               birthPlace, idNumber, sourceUrl
tkg:Vessel                  Vessel             name, alias, country, sourceUrl
tkg:Aircraft                Airplane           name, alias, country, sourceUrl
tkg:Agency                  PublicBody         name, alias, country, website
tkg:StandardsBody           Organization       name, alias, country, website
tkg:Designation             Sanction           entity, authority (the list's publisher),
                                               program (the list), programId (OFAC
                                               programs), programUrl, listingDate,
                                               startDate, endDate, reason, provisions
                                               (license requirement and review policy),
                                               authorityId (OFAC entity number), summary
                                               ("Listed by 84 FR 22961"), sourceUrl
tkg:Ownership               Ownership          owner, asset, percentage, startDate,
                                               endDate, sourceUrl
schema:parentOrganization   Ownership          owner, asset, role "parent organisation
  (no ownership record)                        (share not stated)"
tkg:affiliateOf             UnknownLink        subject (the affiliate), object, role
                                               "affiliate (Entity List wording)"
==========================  =================  ==========================================

Ids are ``tradekg-`` and the IRI's path after ``/id/`` with ``/`` as ``-``
(``tradekg-company-huawei``), so they stay stable across exports. Dates are
ISO dates as the graph holds them; countries are ISO 3166 codes in lower
case, as FtM writes them. Rules, rule effects and sources are not FtM
entities: a Sanction names the rule that listed the party in its summary and
the rule's Federal Register page in ``sourceUrl``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from kg.graph.backend import Backend
from kg.namespaces import DATA, TKG
from kg.resources import lookup_query

SCHEMATA = {
    str(TKG.Company): "Company",
    str(TKG.Person): "Person",
    str(TKG.Vessel): "Vessel",
    str(TKG.Aircraft): "Airplane",
    str(TKG.Agency): "PublicBody",
    str(TKG.StandardsBody): "Organization",
}
# Properties only some party schemata have (FtM refuses the rest).
_PERSON_ONLY = {"nationality", "birthDate", "birthPlace"}
_LEGAL_ENTITY = {"idNumber", "website"}
_COUNTRY_PROPS = {"country", "nationality"}


def ftm_id(iri: str) -> str:
    """``tradekg-company-huawei`` for ``https://w3id.org/tradekg/id/company/huawei``; a hash for odd IRIs."""
    slug = _local(iri).replace("/", "-")
    if re.fullmatch(r"[A-Za-z0-9._-]{1,200}", slug):
        return f"tradekg-{slug}"
    return "tradekg-" + hashlib.sha1(iri.encode()).hexdigest()


def _local(iri: str) -> str:
    return iri[len(str(DATA)):] if iri.startswith(str(DATA)) else hashlib.sha1(iri.encode()).hexdigest()


def _country(value: str) -> str | None:
    """An ISO 3166 code in lower case, as FtM writes countries; None when the text names no country."""
    import pycountry

    text = value.strip()
    if len(text) == 2 and pycountry.countries.get(alpha_2=text.upper()):
        return text.lower()
    try:
        return str(pycountry.countries.lookup(text).alpha_2).lower()
    except LookupError:
        return None


def _entity(iri: str, schema: str, props: dict[str, list[str]]) -> dict[str, Any]:
    properties = {k: list(dict.fromkeys(v for v in values if v)) for k, values in props.items()}
    return {"id": ftm_id(iri), "schema": schema, "properties": {k: v for k, v in properties.items() if v}}


def entities(backend: Backend) -> Iterator[dict[str, Any]]:
    """Every FtM entity of the graph: parties first, then sanctions, then relations."""
    parties: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for row in backend.select(lookup_query("ftm-parties")).rows:
        party, schema = str(row["party"]), SCHEMATA[str(row["class"])]
        key, value = str(row["key"]), str(row["value"])
        if key in _PERSON_ONLY and schema != "Person":
            continue
        if key in _LEGAL_ENTITY and schema in ("Vessel", "Airplane"):
            continue
        _, props = parties.setdefault(party, (schema, {}))
        if key in _COUNTRY_PROPS:
            code = _country(value)
            if code is None:  # "Palestinian": kept as written, where FtM takes free text
                key, value = "notes", f"{key}: {value.strip()}"
            else:
                value = code
        props.setdefault(key, []).append(value.strip())
    for party, (schema, props) in sorted(parties.items()):
        if "name" not in props:
            continue
        props["alias"] = [a for a in props.get("alias", []) if a not in props["name"]]
        yield _entity(party, schema, props)

    sanctions: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for row in backend.select(lookup_query("ftm-sanctions")).rows:
        designation, party = str(row["designation"]), str(row["party"])
        _, props = sanctions.setdefault(designation, (party, {}))
        props.setdefault(str(row["key"]), []).append(str(row["value"]))
    for designation, (party, props) in sorted(sanctions.items()):
        if party not in parties:
            continue
        props["entity"] = [ftm_id(party)]
        yield _entity(designation, "Sanction", props)

    relations: dict[str, dict[str, Any]] = {}
    for row in backend.select(lookup_query("ftm-relations")).rows:
        kind, owner, owned = str(row["kind"]), str(row["owner"]), str(row["owned"])
        if owner not in parties or owned not in parties:
            continue
        if kind == "ownership":
            iri, schema = str(row["node"]), "Ownership"
            props: dict[str, list[str]] = {"owner": [ftm_id(owner)], "asset": [ftm_id(owned)]}
            for key, var in (("percentage", "share"), ("startDate", "start"), ("endDate", "end"),
                             ("sourceUrl", "url")):
                if row.get(var) is not None:
                    props[key] = [str(row[var])]
        elif kind == "parent":
            iri, schema = f"{owned}/parent/{_local(owner)}", "Ownership"
            props = {"owner": [ftm_id(owner)], "asset": [ftm_id(owned)],
                     "role": ["parent organisation (share not stated)"]}
        else:
            iri, schema = f"{owned}/affiliate-of/{_local(owner)}", "UnknownLink"
            props = {"subject": [ftm_id(owned)], "object": [ftm_id(owner)],
                     "role": ["affiliate (Entity List wording)"]}
        known = relations.setdefault(iri, {"schema": schema, "props": {}})
        for key, values in props.items():
            known["props"].setdefault(key, []).extend(values)
    for iri, relation in sorted(relations.items()):
        yield _entity(iri, relation["schema"], relation["props"])


def write_ftm(backend: Backend, out: IO[str]) -> dict[str, int]:
    """Write every entity as one JSON line; return how many of each schema were written."""
    counts: dict[str, int] = {}
    for entity in entities(backend):
        out.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")
        counts[entity["schema"]] = counts.get(entity["schema"], 0) + 1
    return counts
