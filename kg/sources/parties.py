"""Which party of the graph a listed name is: the minimum the OFAC importer needs.

A listed entry lands on a curated party (``data/companies.csv``,
``data/persons.csv``) when the entry's name, or one of its aliases, is one of
the party's names or aliases after normalising case, spacing and punctuation,
the party is of the same kind (company or person), and exactly one party
fits. Anything less certain makes a new party: a wrong merge would put one
firm's restrictions on another, which is worse than two nodes.

This is deliberately small and behind one function (``PartyMatcher.match``):
the reusable matcher by list identifiers, then name and country, replaces it
when it lands.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.namespaces import DATA
from kg.resources import lookup_query
from kg.sources.base import is_minted, select

_MINTED_PREFIXES = ("csl-", "ofac-", "frapi-")


def name_key(name: str) -> str:
    """Case, accents, punctuation and spacing folded: "HUAWEI TECHNOLOGIES CO., LTD." = "Huawei Technologies Co Ltd"."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii") or name
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s&]+", " ", folded.casefold())).strip()


def kind_of(iri: str) -> str:
    return iri[len(str(DATA)):].split("/", 1)[0] if iri.startswith(str(DATA)) else ""


@dataclass(frozen=True)
class Match:
    party: str
    reason: str
    whose: str = "curated"


def identifier_key(kind: str, value: str) -> str | None:
    """One key for an identifier however a list prints it: OFAC's remark "Unified Social Credit Code (USCC)
    91120000783342508F", a CSL cell "Unified Social Credit Code (USCC), 91120000783342508F, CN", OFAC's
    "Registration ID C122790" and the CSL's "Registration ID, C122790" meet on "uscc 9112..." and
    "registration id c122790". Identifiers that name no party (websites, e-mail, gender, directives) give None."""
    if kind == "uscc":
        return f"uscc {value.strip().upper()}"
    if kind == "csl":
        parts = [p.strip() for p in value.split(",")]
        if len(parts) < 2 or not parts[1]:
            return None
        label, number = parts[0], parts[1]
        if "USCC" in label or "Unified Social Credit" in label:
            return f"uscc {number.upper()}"
        if not re.search(r"registration|registry|company number|tax id|inn\b|ogrn|vat", label, re.IGNORECASE):
            return None
        return f"{name_key(label)} {number.casefold()}"
    if kind == "registration":
        label, _, number = value.rpartition(" ")
        return f"{name_key(label)} {number.casefold()}" if label and number else None
    return None


@dataclass
class PartyMatcher:
    names: dict[str, set[str]] = field(default_factory=dict)  # name key -> curated party IRIs
    imported: dict[str, set[str]] = field(default_factory=dict)  # name key -> parties the CSL import made
    identifiers: dict[str, set[str]] = field(default_factory=dict)  # identifier key -> parties that print it

    @classmethod
    def of(cls, store: ox.Store | None) -> PartyMatcher:
        matcher = cls()
        for row in select(store, lookup_query("csl-parties")):
            iri = row["entity"]
            if is_minted(iri, "csl-"):
                matcher.imported.setdefault(name_key(row["name"]), set()).add(iri)
            elif not any(is_minted(iri, p) for p in _MINTED_PREFIXES):
                matcher.names.setdefault(name_key(row["name"]), set()).add(iri)
        for row in select(store, lookup_query("party-identifiers")):
            key = identifier_key(row["kind"], row["value"])
            # OFAC's entity numbers are OFAC's own account of which entries are one entity (the same
            # number on the SDN and Non-SDN lists): two OFAC entries printing one registration number
            # (MANAURE S.A. and AGROPECUARIA LA ROBLEDA S.A., both "NIT # 800160353-2") stay two parties.
            if key and not is_minted(row["party"], "ofac-"):
                matcher.identifiers.setdefault(key, set()).add(row["party"])
        return matcher

    def match_identifier(self, keys: list[str], report: list[str] | None = None) -> Match | None:
        """The one party another entry printed one of ``keys`` for (USCC, registration numbers)."""
        for key in keys:
            hits = self.identifiers.get(key, set())
            if len(hits) == 1:
                return Match(next(iter(hits)), f"the same identifier ({key}) is printed for it", "identified")
            if len(hits) > 1 and report is not None:
                report.append(f"warning: identifier {key!r} is printed for {len(hits)} parties "
                              f"({', '.join(sorted(hits))}); not merged: review")
        return None

    def match(self, name: str, kind: str | None, aliases: list[str],
              report: list[str] | None = None) -> Match | None:
        """The one curated party named ``name`` (or else one of ``aliases``), of the same kind.

        Failing that, the one party a CSL import made with exactly that name: the
        CSL copies OFAC's and BIS's lists, so an entry on both is one party.
        """
        for names, whose in ((self.names, "curated"), (self.imported, "CSL-imported")):
            for form in [name, *aliases]:
                hits = {iri for iri in names.get(name_key(form), set()) if kind is None or kind_of(iri) == kind}
                if len(hits) == 1:
                    how = "its name" if form == name else f"its alias {form!r}"
                    return Match(next(iter(hits)), f"{how} is a name of the {whose} party", whose)
                if len(hits) > 1:
                    # Ambiguous: two parties share the name. Never merged silently: reported for review.
                    if report is not None:
                        report.append(f"warning: {name!r}: {'its name' if form == name else f'its alias {form!r}'} "
                                      f"names {len(hits)} {whose} parties ({', '.join(sorted(hits))}); "
                                      "not merged, imported as a party of its own: review")
                    return None
        return None
