"""Screening names as counterparty files write them: real listed firms, written otherwise, and hard negatives.

The parties are real: the Entity List rows of the CSL file (the Huawei block
and Sugon/Hygon rows), the DoD 1260H list (every edition) and OFAC's Non-SDN
CMIC entries. Every name and alias of them is indexed, as ``tradekg screen``
indexes a graph. Each party's primary name is then written as counterparty
files write it, by these rules (seeded, SEED below):

1. **place before**: a Chinese province or city before the name ("Shenzhen
   Huawei Technologies"), when the name has no place yet;
2. **place after**: a place in brackets or a country after it
   ("Hikvision (Hangzhou)", "... USA Inc");
3. **business words after**: the legal form dropped and business words added
   after the name ("... Digital Technology Co., Ltd.", "... Labs");
4. **abbreviated**: International -> Intl., Corporation -> Corp., Technology
   or Technologies -> Tech, Company -> Co., Limited -> Ltd., Manufacturing ->
   Mfg., Holdings -> Hldgs (only names that have one of these words);
5. **split or run together**: a distinctive word of eight letters or more split
   in two, or two words of the name written as one;
6. **distinctive word alone**: the name's distinctive word when it has
   exactly one: five letters or more, no place, business or legal-form word,
   no ordinary word of six European languages (``kg.answers.names.is_ordinary``: a
   coined name such as Hikvision), and in no other party's names ("Huawei"
   alone names 60 Huawei parties; no scorer can pick one of them).

Original-script names: none of these files gives Chinese characters (OFAC's
legacy CSV is Latin-1), so the benchmark has none; the curated registered
names are tested in tests/test_screen.py.

Hard negatives (none of them is a listed party here):

* **real firms sharing common words**: the entity names of OFAC's SDN list
  (2021) that share a word with the indexed names but are not spelt like any
  of them ("China Electronics Import & Export", "... Technology Co");
* **acronyms one letter off**: each indexed acronym of three to five capitals
  with one letter changed or added (SMIC -> SMIT, SOMIC), when no indexed name
  is spelt so;
* **listed firms' generic words with another distinctive word**: the place and
  business words of a listed name around a distinctive word of another,
  unlisted Chinese firm (the list NEGATIVE_WORDS).

Scorers, at the default threshold of ``tradekg screen``: ``kg.screen.match``;
plain rapidfuzz (``token_sort_ratio``, ``default_process``); and Jaro-Winkler
over the whole name (``rapidfuzz.distance.JaroWinkler``, upper-cased, as
OFAC's Sanctions List Search scores names; it shows names by a slider, here
the same threshold). Recall: the right party among the first three answers at
or above the threshold. False matches: a negative with any answer at or above
it. The SDN figures of benchmarks/screening.py are printed beside them.

    python benchmarks/screening_variants.py            # all parties, SDN sample 2,000
    python benchmarks/screening_variants.py --quick    # what the test suite runs
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import JaroWinkler
from rdflib import URIRef

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from kg.answers import names  # noqa: E402
from kg.answers.screen import DEFAULT_THRESHOLD, Index, match, normalise_name  # noqa: E402

REAL = REPO.parent / "shared" / "realdata"
CSL = REAL / "csl" / "csl_consolidated_2025_entity_list_huawei_block.csv"
DOD = REAL / "opensanctions" / "dod_chinese_milcorps__sanctions.csv"
CMIC = REAL / "ofac" / "non-sdn-2025"
SDN = REAL / "ofac" / "sdn-2021"
SEED = 20261207
PLACES_BEFORE = ["Shenzhen", "Beijing", "Shanghai", "Zhejiang", "Hangzhou", "Guangdong", "Jiangsu", "Wuhan"]
PLACES_AFTER = ["(Shenzhen)", "(Hangzhou)", "(Beijing)", "USA Inc", "(Hong Kong) Limited", "Europe GmbH"]
BUSINESS_AFTER = ["Digital Technology Co., Ltd.", "Technology Co", "Labs", "Electronics Co., Ltd.",
                  "Group Co., Ltd.", "International Trading Co"]
ABBREVIATE = [("International", "Intl."), ("Corporation", "Corp."), ("Technologies", "Tech"),
              ("Technology", "Tech"), ("Company", "Co."), ("Limited", "Ltd."), ("Manufacturing", "Mfg."),
              ("Holdings", "Hldgs")]
# Distinctive words of Chinese firms on none of these lists (brand names of consumer and industrial firms).
NEGATIVE_WORDS = ["Lenovo", "Haier", "Midea", "Gree", "Anta", "Yili", "Mengniu", "Wanhua", "Luxshare", "Goertek",
                  "Sunwoda", "Hengli", "Tongwei", "Longi", "Sungrow", "Jinko", "Trina", "Fuyao",
                  "Weichai", "Sany", "Zoomlion", "Haitian", "Yanghe", "Moutai", "Wuliangye", "Pinduoduo", "Meituan",
                  "Ctrip", "Baozun"]


@dataclass
class Party:
    key: str
    name: str
    aliases: list[str] = field(default_factory=list)

    @property
    def iri(self) -> URIRef:
        return URIRef(f"urn:bench:{self.key}")


def _clean(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("*", "")).strip()


def read_parties() -> list[Party]:
    """The CSL Entity List rows, the 1260H firms and the CMIC entries; one party per normalised primary name.

    The same firm on two lists (Dawning Information Industry on the Entity
    List and the 1260H list) is one party, as an importer would make it.
    """
    parties: dict[str, Party] = {}

    def add(name: str, aliases: list[str]) -> None:
        name = _clean(name)
        key = normalise_name(name)
        if not key:
            return
        party = parties.setdefault(key, Party(key.replace(" ", "-"), name))
        for alias in aliases:
            if _clean(alias) and _clean(alias) not in party.aliases and _clean(alias) != party.name:
                party.aliases.append(_clean(alias))

    with CSL.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            add(row["name"].split("Affiliated Entity:")[0], row["alt_names"].split(";"))
    with DOD.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            add(row["Clean Name"] or row["Name"], [*row["Alias"].split(";"), *row["Previous Name"].split(";")])
    from kg.sources.ofac import read_paths  # the importer's reader of OFAC's files

    for entry_set in read_paths([CMIC / "cons_prim.csv", CMIC / "cons_alt.csv"]):
        for e in entry_set.entries:
            if any("CMIC" in p for p in e.programs):
                add(e.name, [name for _, name in e.aliases])
    return list(parties.values())


def variants(party: Party, rng: random.Random, owners: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(rule, variant) pairs of the party's primary name, by the rules of the module docstring."""
    name = party.name
    bare = re.sub(r",?\s*\b(Co\.?,?\s*Ltd\.?|Co\.?|Ltd\.?|Limited|Inc\.?|Corp\.?|Corporation|LLC|S\.?A\.?)\s*$", "",
                  name, flags=re.IGNORECASE).strip(" ,")
    words = normalise_name(name).split()
    out: list[tuple[str, str]] = []
    if not names.places_in(words):
        out.append(("place before", f"{rng.choice(PLACES_BEFORE)} {name}"))
    out.append(("place after", f"{bare} {rng.choice(PLACES_AFTER)}"))
    out.append(("business words after", f"{bare} {rng.choice(BUSINESS_AFTER)}"))
    short = name
    for long, abbreviation in ABBREVIATE:
        short = re.sub(rf"\b{long}\b", abbreviation, short)
    if short != name:
        out.append(("abbreviated", short))
    core = names.core_words(words)
    long_words = [w for w in bare.split() if len(w) >= 8 and normalise_name(w) in core]
    if long_words:
        w = long_words[0]
        out.append(("split", bare.replace(w, f"{w[:len(w) // 2]} {w[len(w) // 2:]}", 1)))
    elif len(bare.split()) >= 2 and len(core) >= 2:
        first, second = bare.split()[:2]
        out.append(("run together", bare.replace(f"{first} {second}", first + second, 1)))
    coined = [w for w in core if len(w) >= 5 and not names.is_ordinary(w) and owners.get(w) == {party.key}]
    if len(coined) == 1:
        out.append(("distinctive word alone", coined[0].capitalize()))
    return out


def negatives(parties: list[Party], index: Index, rng: random.Random, sdn_limit: int) -> list[tuple[str, str]]:
    """(kind, name) hard negatives: real SDN firms sharing words, acronyms one letter off, swapped cores."""
    known = {c.normalised for c in index.candidates}
    vocabulary = set(index.postings)
    out: list[tuple[str, str]] = []
    from screening import read_sdn

    sdn = [e for e in read_sdn(SDN) if e.kind != "individual"]
    rng.shuffle(sdn)
    for e in sdn:
        words = normalise_name(e.name).split()
        if normalise_name(e.name) not in known and any(w in vocabulary for w in words):
            out.append(("real firm sharing common words (SDN 2021)", e.name))
            if sum(k.startswith("real") for k, _ in out) >= sdn_limit:
                break
    letters = "ABCDEFGHIJKLMNOPRSTUVWXYZ"
    for p in parties:
        for alias in [p.name, *p.aliases]:
            if re.fullmatch(r"[A-Z]{3,5}", alias):
                i = rng.randrange(len(alias))
                changed = alias[:i] + rng.choice([c for c in letters if c != alias[i]]) + alias[i + 1:]
                added = alias[:i] + rng.choice(letters) + alias[i:]
                for other in (changed, added):
                    if normalise_name(other) not in known:
                        out.append(("acronym one letter off", other))
    unlisted = [w for w in NEGATIVE_WORDS if not set(normalise_name(w).split()) & vocabulary]
    for p in parties:
        words = p.name.split()
        core = set(names.core_words(normalise_name(p.name).split()))
        kept = [w for w in words if normalise_name(w) and not set(normalise_name(w).split()) & core]
        if core and kept:
            out.append(("listed firm's common words, another firm's distinctive word",
                        f"{rng.choice(unlisted)} {' '.join(kept)}"))
    return out


def _owners(parties: list[Party]) -> dict[str, set[str]]:
    """Word -> the parties whose names hold it."""
    owners: dict[str, set[str]] = {}
    for p in parties:
        for n in (p.name, *p.aliases):
            for w in normalise_name(n).split():
                owners.setdefault(w, set()).add(p.key)
    return owners


class Plain:
    """rapidfuzz over the same names with a scorer (token_sort_ratio, or Jaro-Winkler as OFAC's search)."""

    def __init__(self, entries: list[tuple[URIRef, str, list[str]]], scorer: Callable[..., float],
                 processor: Callable[[str], str]):
        self.parties = [p for p, _, _ in entries]
        self.processor = processor
        self.names = [processor(n) for _, n, _ in entries]
        self.scorer = scorer

    def top(self, name: str, k: int = 3) -> list[tuple[URIRef, float]]:
        hits = process.extract(self.processor(name), self.names, scorer=self.scorer, processor=None, limit=k * 5)
        best: dict[URIRef, float] = {}
        for _, value, i in hits:
            best.setdefault(self.parties[i], value)
        return list(best.items())[:k]


def _jw(a: str, b: str, **kwargs: object) -> float:
    return 100 * JaroWinkler.normalized_similarity(a, b)


def _upper(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.upper()).split())


def run(quick: bool, sdn_sample: int, out: list[str]) -> None:
    rng = random.Random(SEED)
    parties = read_parties()
    if quick:
        parties = rng.sample(sorted(parties, key=lambda p: p.key), 80)
    entries = [(p.iri, n, []) for p in parties for n in dict.fromkeys([p.name, *p.aliases])]
    index = Index.from_names(entries)
    owners = _owners(parties)
    queries = [(p.iri, rule, text) for p in parties for rule, text in variants(p, rng, owners)]
    bad = negatives(parties, index, rng, 150 if quick else 1500)
    scorers: dict[str, Callable[[str], list[tuple[URIRef, float]]]] = {
        "tradekg screen": lambda q: [(m.party, m.score) for m in match(index, q, limit=3, threshold=0)][:3],
        "rapidfuzz token_sort_ratio": Plain(entries, fuzz.token_sort_ratio, utils.default_process).top,
        "Jaro-Winkler (OFAC SLS manner)": Plain(entries, _jw, _upper).top,
    }
    cut = DEFAULT_THRESHOLD
    out.append(f"parties {len(parties):,} (CSL Entity List rows, DoD 1260H, OFAC NS-CMIC); names indexed "
               f"{len(index.candidates):,}; variants {len(queries):,}; hard negatives {len(bad):,}; threshold {cut:g}")
    out.append("")
    out.append("| figure | " + " | ".join(scorers) + " | target |")
    out.append("|---|" + "---|" * len(scorers) + "---|")
    rules = list(dict.fromkeys(rule for _, rule, _ in queries))
    kinds = list(dict.fromkeys(kind for kind, _ in bad))
    cells: dict[str, list[str]] = {}
    for label, top in scorers.items():
        start = time.perf_counter()
        answers = [top(text) for _, _, text in queries]
        found = [party in [p for p, s in got if s >= cut][:3] for (party, _, _), got in zip(queries, answers,
                                                                                             strict=True)]
        falses = [any(s >= cut for _, s in top(text)) for _, text in bad]
        took = time.perf_counter() - start
        per_rule = {r: [f for (_, rr, _), f in zip(queries, found, strict=True) if rr == r] for r in rules}
        per_kind = {k: [f for (kk, _), f in zip(bad, falses, strict=True) if kk == k] for k in kinds}
        cells.setdefault("recall (right party in the first 3 at or above the threshold), all variants", []).append(
            f"{sum(found) / len(found):.3f}")
        for r in rules:
            cells.setdefault(f"recall, {r} ({len(per_rule[r])})", []).append(
                f"{sum(per_rule[r]) / max(len(per_rule[r]), 1):.3f}")
        cells.setdefault("false matches, all hard negatives", []).append(
            f"{sum(falses) / len(falses):.3f} ({sum(falses)})")
        for k in kinds:
            cells.setdefault(f"false matches, {k} ({len(per_kind[k])})", []).append(
                f"{sum(per_kind[k]) / max(len(per_kind[k]), 1):.3f} ({sum(per_kind[k])})")
        cells.setdefault("seconds for all queries", []).append(f"{took:.1f}")
        sys.stderr.write(f"{label}: done\n")
    targets = {"recall (right party in the first 3 at or above the threshold), all variants": ">= 0.95",
               "false matches, all hard negatives": "<= 0.02"}
    for label, values in cells.items():
        out.append(f"| {label} | " + " | ".join(values) + f" | {targets.get(label, '')} |")
    if sdn_sample:
        import screening

        entries_sdn = screening.read_sdn(SDN)
        entries_sdn = random.Random(screening.SEED).sample(sorted(entries_sdn, key=lambda e: e.number),
                                                           min(sdn_sample, len(entries_sdn)))
        out.append("")
        out.append(f"OFAC SDN (benchmarks/screening.py, {len(entries_sdn):,} entities sampled by its seed):")
        out.append("")
        screening.measure(entries_sdn, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="80 parties, 150 SDN negatives, SDN sample 300")
    parser.add_argument("--sdn-sample", type=int, default=None, help="SDN entities for the SDN figures (0: none)")
    args = parser.parse_args(argv)
    if not CSL.is_file() or not DOD.is_file() or not (CMIC / "cons_prim.csv").is_file():
        sys.stderr.write(f"the real lists are not in {REAL}\n")
        return 2
    out: list[str] = []
    run(args.quick, args.sdn_sample if args.sdn_sample is not None else (300 if args.quick else 2000), out)
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
