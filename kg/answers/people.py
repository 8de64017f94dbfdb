"""How one person's name tells another person apart from a listed one: relatives, namesakes, other given names.

Screening scores two names by their words (``kg.answers.screen``). People need
rules of their own, each found on OFAC's SDN list, where the neighbours of a
listed person are often relatives or namesakes rather than the person written
otherwise:

* **relatives** in patronymic naming, where a person's own name comes first
  and the father's names follow ("AL-TIKRITI, Saja Barzan Ibrahim Hasan" is a
  daughter of "AL-TIKRITI, Barzan Ibrahim Hasan");
* **another family name** ("REZAIE, Morteza" is not "REZAVI, Mortaza");
* **another given name**, one letter apart at its first letter ("KIM, Song
  Chol" is not "KIM, Yong Chol"): typing keeps a name's first letter.

Each rule returns the words an explanation quotes, or "" when it does not
apply; ``kg.answers.screen.score`` turns them into a lower score and says why.
The comparison of two words (``same``) is the screen's own, passed in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from kg.answers import names

# Words that join the parts of an Arabic, Persian or European name rather than name anyone on their own.
NAME_PARTICLES = frozenset(("al", "el", "bin", "ibn", "bint", "abu", "ben", "ould", "van", "von", "de"))
# First letters that spell one sound in two transliterations (Kyong and Gyong, Jusuf and Yusuf, Pak and Bak).
_SAME_SOUND_STARTS = frozenset(frozenset(pair) for pair in ("kg", "pb", "td", "ck", "fv", "sz", "jy", "kq"))

SameWord = Callable[[str, str], bool]


def person_words(text: str) -> list[str]:
    """The words of a person's name as screening normalises them, none taken for a legal form ("Lyda" is no Ltda)."""
    text = unicodedata.normalize("NFKD", names.latin(text))
    text = names.APOSTROPHES.sub("", "".join(c for c in text if not unicodedata.combining(c)).casefold())
    return re.sub(r"[^\w\s]+", " ", text).split()


def _token_starts(text: str) -> set[str]:
    """The first word of each space-separated part of a typed name: "Abd' Al-ahim" gives abd and al, not ahim."""
    return {words[0] for token in text.split() if (words := person_words(token))}


def _given_then_family(text: str, listed_form: bool) -> list[str]:
    """The words of a name in the order "given names, family name": lists write people "FAMILY, Given"."""
    if listed_form:
        family, given = text.split(",", 1)
        return person_words(given) + person_words(family)
    return person_words(text)


def first_letter_apart(a: str, b: str) -> bool:
    """Two words of four letters or more one letter apart at their first letter: two given names, not a typo.

    Typing keeps the first letter of a name; a given name that differs there
    is another name (SONG and YONG, JAMAL and KAMAL, AMER and SAMER), unless
    the two letters spell one sound in two systems of transliteration, or a
    silent H is written or left out. Two first letters swapped are a typo.
    """
    if min(len(a), len(b)) < 4 or a[0] == b[0] or not (a.isalpha() and b.isalpha()):
        return False
    if OSA.distance(a, b, score_cutoff=1) > 1 or a[1:2] + a[:1] == b[:2]:
        return False
    if len(a) == len(b):
        return frozenset((a[0], b[0])) not in _SAME_SOUND_STARTS
    return "h" not in (a[0], b[0])


def relative(typed: str, typed_listed_form: bool, listed: str, same: SameWord) -> str:
    """How a typed name tells another member of the listed person's family, or "".

    ``listed`` is written as lists write people ("FAMILY, Given"); ``typed``
    is too when ``typed_listed_form``, else given names first. "AL-TIKRITI,
    Saja Barzan Ibrahim Hasan" is the daughter of "AL-TIKRITI, Barzan Ibrahim
    Hasan", "FAWAZ AL-AKHRAS, Asma" of "AL-AKHRAS, Fawaz", and "AL-TIKRITI,
    Noor Barzan Ibrahim Hasan" a sister of "AL-TIKRITI, Ali Barzan Ibrahim
    Hasan": one name adds a given name before all of the other's, or the two
    differ only in a first given name that is not a spelling of the same one.
    Particles (al, bin, abu) are left out of the comparison.
    """
    q = [w for w in _given_then_family(typed, typed_listed_form) if w not in NAME_PARTICLES]
    c = [w for w in _given_then_family(listed, True) if w not in NAME_PARTICLES]

    def alike(a: list[str], b: list[str]) -> bool:
        return all(same(x, y) for x, y in zip(a, b, strict=True))

    for longer, shorter in ((q, c), (c, q)):
        if len(shorter) >= 2 and len(longer) == len(shorter) + 1 and len(longer[0]) >= 2 \
                and not any(same(longer[0], b) for b in shorter) and alike(longer[1:], shorter):
            return f"one name adds the given name {longer[0]} before all of the other's: a son or daughter, or a parent"
    if len(q) == len(c) >= 3 and q[0] not in c and alike(q[1:], c[1:]) and _unlike(q[0], c[0]):
        return f"the first given names differ ({q[0]} against {c[0]}) and the rest is the same: a brother or sister"
    return ""


def _unlike(a: str, b: str) -> bool:
    """Two given names that are not spellings of one (Noor and Ali; not Mohammed and Muhammad)."""
    return fuzz.ratio(a, b) < 60


def family_name_missing(typed_words: list[str], family_words: list[str]) -> str:
    """The listed person's family name when no typed word is it within one letter; else "".

    ``family_words``: the words before the comma of the listed name, normalised as the typed words are.
    A file writes a person's given names in any order and may drop some, but
    keeps a family name ("REZAIE, Morteza" is not "REZAVI, Mortaza",
    "PETROVIC, Zoran" not "PETRIC, Zoran"). One of several family names is
    enough ("Ramon Arellano" for "ARELLANO FELIX, Ramon").
    """
    family = [w for w in family_words if w not in NAME_PARTICLES and len(w) >= 3]
    joined = "".join(typed_words)
    if not family or any(f in joined or any(OSA.distance(f, q, score_cutoff=1) <= 1 for q in typed_words)
                         for f in family):
        return ""
    return " ".join(family)


def given_names_apart(typed: str, typed_words: list[str], listed: str, listed_words: list[str],
                      same: SameWord) -> str:
    """A listed person's given name that the typed name has only with another first letter ("song against yong").

    The family name alone does not tell people apart (KIM, Song Chol and KIM,
    Yong Chol are two people). A letter moved across a hyphen or space
    ("Mu-nch'ol" for "Mun Chol") leaves the letters of the whole name as they
    were and is a typo; so is a letter typed after a hyphen inside a word.
    """
    if "".join(typed_words) == "".join(listed_words):
        return ""
    starts = _token_starts(typed)
    for given in (w for w in person_words(listed.split(",", 1)[1]) if w not in NAME_PARTICLES):
        if any(same(given, w) and not first_letter_apart(given, w) for w in typed_words):
            continue
        apart = [w for w in typed_words if w in starts and first_letter_apart(given, w)]
        if apart:
            return f"{apart[0]} against {given}"
    return ""
