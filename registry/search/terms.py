"""What a query's text asks for, the same for every backend: AND-ed clauses, each met by any
of its alternatives, by a project's reference, or by a facet value.

User text is never parsed as query syntax: its words (``words.WORD``, at most ``MAX_TERMS``)
are cut into clauses, and every clause must be met:

* a plain word: the projects having it (as analysed by the backend: accents, plurals);
* a word shaped like a reference (``HDH-2024-0123`` or ``2024-0123``): that project, first,
  or the projects whose texts have the same words;
* the words of a synonym (``registry.search.synonyms``, "crise cardiaque"): the projects
  having any member of its group, or its facet value ("IA": the projects using AI).

A clause whose alternatives are only stop words is dropped by the backend; a text with only
such words matches nothing (not everything).
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.search import synonyms
from registry.search.types import MAX_TERMS
from registry.search.words import WORD, is_stopword, reference_of

# Words shorter than this are never replaced by a spelling suggestion.
MIN_CORRECTED = 4


@dataclass(frozen=True)
class Clause:
    """One condition of a query: a project meets it with all the tokens of one of
    ``alternatives``, or by being ``reference``, or by having the facet value ``flag``."""

    text: str                          # the query's words it stands for, as written
    alternatives: tuple[str, ...]      # texts, analysed by the backend
    reference: str | None = None       # "HDH-2024-0123"
    flag: tuple[str, str] | None = None  # (facet, value), e.g. ("ai", "oui")
    synonym: bool = False

    @property
    def correctable(self) -> bool:
        """Whether a spelling suggestion may replace it: a plain word, long enough, not a
        stop word (synonyms and references are known words by definition)."""
        return (not self.synonym and self.reference is None
                and len(self.text) >= MIN_CORRECTED and not is_stopword(self.text))


def plan(text: str) -> list[Clause]:
    """The clauses of ``text``, in the order of its words."""
    words = WORD.findall(text)[:MAX_TERMS]
    starts = {match.start: match for match in synonyms.find(words)}
    clauses: list[Clause] = []
    position = 0
    while position < len(words):
        match = starts.get(position)
        if match is not None:
            clauses.append(Clause(text=" ".join(words[match.start:match.stop]),
                                  alternatives=match.group.members, flag=match.group.flag,
                                  synonym=True))
            position = match.stop
            continue
        word = words[position]
        clauses.append(Clause(text=word, alternatives=(word,), reference=reference_of(word)))
        position += 1
    return clauses


def suggestion(clauses: list[Clause], corrections: dict[str, str]) -> str | None:
    """The query again with ``corrections`` (a clause's text → a known word), or None when
    nothing was corrected."""
    if not any(clause.text in corrections for clause in clauses):
        return None
    return " ".join(corrections.get(clause.text, clause.text) for clause in clauses)
