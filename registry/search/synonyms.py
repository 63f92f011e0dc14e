"""French medical synonyms and acronyms: the one list both search backends read.

People search the register with the words they know: "AVC" or "accident vasculaire cérébral",
"crise cardiaque" or "infarctus", "IA" or "intelligence artificielle". A project says one of
them. Each group below is a set of ways of saying one thing; a query naming any member of a
group matches the projects that name any member (``registry.search.terms.plan``).

* Members are written as people write them; matching ignores case, accents, small words
  ("du", "de la", "l'") and plurals (``key``), and each backend analyses a member like any
  other text (stemming), so "accidents vasculaires cérébraux" is covered by its singular.
* A member of several words matches a project having all of them (not as a phrase, like
  every query here).
* ``flag``: the projects with that facet value match too. "IA" finds the projects that
  declare using artificial intelligence even when their text never says so.

Keep groups to true equivalents (an acronym and what it stands for, a lay name and the
medical one): a group widens every query that names one of its members.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from registry.search.words import fold


@dataclass(frozen=True)
class Group:
    """Ways of saying one thing; ``flag`` (facet, value): projects that match it as well."""

    members: tuple[str, ...]
    flag: tuple[str, str] | None = None


def group(*members: str, flag: tuple[str, str] | None = None) -> Group:
    return Group(members, flag)


GROUPS: tuple[Group, ...] = (
    group("AVC", "accident vasculaire cérébral", "accident vasculaire", "attaque cérébrale"),
    group("infarctus", "IDM", "infarctus du myocarde", "crise cardiaque"),
    group("BPCO", "bronchopneumopathie chronique obstructive"),
    group("IA", "intelligence artificielle", "apprentissage automatique",
          "apprentissage profond", "machine learning", "deep learning", flag=("ai", "oui")),
    group("HTA", "hypertension artérielle"),
    group("IRC", "insuffisance rénale chronique"),
    group("FA", "fibrillation atriale", "fibrillation auriculaire"),
    group("SEP", "sclérose en plaques"),
    group("MICI", "maladie inflammatoire chronique de l'intestin"),
    group("TSA", "trouble du spectre de l'autisme", "autisme"),
    group("TDAH", "trouble du déficit de l'attention avec hyperactivité"),
    group("IVG", "interruption volontaire de grossesse"),
    group("VIH", "virus de l'immunodéficience humaine"),
    group("EHPAD", "maison de retraite"),
    group("COVID-19", "covid", "SARS-CoV-2", "coronavirus"),
)

# Words that do not tell two ways of saying something apart ("infarctus du myocarde" is
# "infarctus myocarde"): articles, contractions and elided forms.
SMALL_WORDS = frozenset({"l", "d", "le", "la", "les", "de", "du", "des", "un", "une", "au",
                         "aux", "a", "en", "et"})
_PARTS = re.compile(r"[^\W_]+")


def _singular(word: str) -> str:
    """A crude French singular, enough to compare two spellings (never shown to anyone)."""
    if len(word) > 4 and word.endswith("aux"):
        return word[:-3] + "al"
    if len(word) > 3 and word[-1] in "sx":
        return word[:-1]
    return word


def key(text: str) -> list[str]:
    """``text`` as compared with a member: lower case, no accent, no small word, singular."""
    return [_singular(part) for part in _PARTS.findall(fold(text.lower()))
            if part not in SMALL_WORDS]


# member key → its group; the longest member, in words, bounds how far a match looks ahead.
MEMBERS: dict[tuple[str, ...], Group] = {tuple(key(m)): g for g in GROUPS for m in g.members}
LONGEST = max(len(k) for k in MEMBERS)


@dataclass(frozen=True)
class Match:
    """Words ``start`` to ``stop`` (excluded) of a query say a member of ``group``."""

    start: int
    stop: int
    group: Group


def find(words: list[str]) -> list[Match]:
    """The members of groups that ``words`` (a query's words, in order) say, longest first,
    left to right, not overlapping."""
    # Each word's key parts, with the word they come from ("l'infarctus" → "infarctu").
    parts: list[tuple[str, int]] = [(part, index) for index, word in enumerate(words)
                                    for part in key(word)]
    found: list[Match] = []
    position = 0
    while position < len(parts):
        for length in range(min(LONGEST, len(parts) - position), 0, -1):
            window = parts[position:position + length]
            hit = MEMBERS.get(tuple(part for part, _index in window))
            # A match covers whole words only ("covid-19" is one word, one member).
            first, last = window[0][1], window[-1][1]
            whole = (position == 0 or parts[position - 1][1] != first) and (
                position + length == len(parts) or parts[position + length][1] != last)
            if hit is not None and whole:
                found.append(Match(first, last + 1, hit))
                position += length
                break
        else:
            position += 1
    return found
