"""How a search document becomes a row, and a query's clauses a ``tsquery``, for PostgreSQL.

Tokens are cut in Python with the pattern Whoosh uses (``registry.search.words.TOKEN``) and
handed to PostgreSQL joined by spaces: its own parser would read "HDH-2024-0123" as "hdh",
"-2024", "-0123", drop "alert" from "<script>alert(1)</script>", and keep "a/b" whole, so the
two backends would not answer alike. PostgreSQL then lower-cases, folds accents (``unaccent``),
drops its stop words and stems (``french_stem``), in the configuration ``schema.CONFIG``.
A query's stop words are dropped in Python (``registry.search.words``): the same as Whoosh's.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, text

from registry.search.terms import Clause
from registry.search.types import stamp
from registry.search.words import STOPWORDS, TOKEN, fold, tokens

# Field → weight class, A the highest. Whoosh's weights (``whoosh.backend.TEXT_FIELDS``:
# title 4, keywords 2, summary 1.5, sponsor 1.5, objective 1, public interest 0.7) fitted to
# PostgreSQL's four classes; ``RANK_WEIGHTS`` are those weights divided by the title's, in
# ``ts_rank``'s order {D, C, B, A}. The one place relevance is tuned for this backend.
WEIGHT_CLASSES = {"A": ("title",), "B": ("keywords", "summary", "sponsor"),
                  "C": ("objective",), "D": ("public_interest",)}
RANK_WEIGHTS = (0.175, 0.25, 0.45, 1.0)
RANK_NORMALISATION = 1  # ts_rank divides by 1 + log(the document's length)
REFERENCE_BOOST = 1000.0  # a word shaped like a reference puts that project first
# Fields whose words are offered as spelling suggestions (as Whoosh's ``spell`` field).
SPELLING_FIELDS = ("title", "summary", "objective", "sponsor_name", "keywords")
MIN_SPELLED = 3

# Snippets: PostgreSQL marks matches with these (characters no text has), and reads the text
# with these characters standing in for the ones its parser would glue words with ("<b>" a
# tag, "a-b" a compound, "a/b" a path). Python puts them back, escapes, then writes <mark>.
MARK_START, MARK_STOP = "\ue000", "\ue001"
GLUE = "<>&-/@"
STAND_INS = "\ue002\ue003\ue004\ue005\ue006\ue007"
_RESTORE = str.maketrans(STAND_INS, GLUE)


def tokenised(value: object) -> str:
    """``value``'s tokens joined by spaces: what PostgreSQL's parser reads."""
    return " ".join(TOKEN.findall(str(value or "")))


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def row(doc: dict[str, Any]) -> dict[str, Any]:
    """The row of a search document (``registry.search.documents``), with its texts by
    weight class (``text_a`` … ``text_d``), which the insert turns into the ``tsvector``."""
    texts = {"title": doc.get("title"), "summary": doc.get("summary"),
             "objective": doc.get("objective"), "public_interest": doc.get("public_interest"),
             "sponsor": f"{doc.get('sponsor_name') or ''} {doc.get('city') or ''}",
             "keywords": doc.get("keywords")}
    year = doc.get("year_authorised")
    return {
        "project_id": int(doc["id"]),
        "reference": str(doc.get("reference", "")).upper(),
        "title": str(doc.get("title") or ""),
        "summary": str(doc.get("summary") or ""),
        "title_sort": fold(str(doc.get("title") or "").lower()),
        "sponsor_slug": str(doc.get("sponsor_slug") or ""),
        "sponsor_kind": str(doc.get("sponsor_kind") or ""),
        "status": str(doc.get("status") or ""),
        "themes": [str(t) for t in doc.get("themes") or []],
        "sources": [str(s) for s in doc.get("sources") or []],
        "year": int(year) if year else None,
        "uses_ai": bool(doc.get("uses_ai")),
        "has_results": bool(doc.get("has_results")),
        "results_due_on": _day(doc.get("results_due_on")),
        "updated": stamp(doc.get("updated_at") or datetime.now(UTC)),
        **{f"text_{weight.lower()}": " ".join(tokenised(texts[name]) for name in names)
           for weight, names in WEIGHT_CLASSES.items()},
    }


def spelling_words(doc: dict[str, Any]) -> set[str]:
    """The words a suggestion may offer from ``doc``: whole, lower case, accents kept, no
    stop word, three letters or more."""
    found = set()
    for name in SPELLING_FIELDS:
        for token in TOKEN.findall(str(doc.get(name) or "")):
            lowered = token.lower()
            if len(lowered) >= MIN_SPELLED and lowered not in STOPWORDS:
                found.add(lowered)
    return found


def quoted(lexeme: str) -> str:
    """A lexeme as a ``tsquery`` operand."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


class Lexemes:
    """Token → its lexemes in ``schema.CONFIG``, asked of the database once per process (the
    configuration changes only with a migration, which a deployment follows)."""

    LIMIT = 50_000

    def __init__(self, config: str):
        self.config = config
        self._known: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def of(self, connection: Connection, words: Iterable[str]) -> dict[str, tuple[str, ...]]:
        wanted = {word.lower() for word in words}
        with self._lock:
            found = {word: self._known[word] for word in wanted if word in self._known}
        missing = sorted(wanted - found.keys())
        if missing:
            # ``to_tsvector``, not ``plainto_tsquery``: no NOTICE for a stop word.
            rows = connection.execute(text(
                "SELECT t, tsvector_to_array(to_tsvector(CAST(:config AS regconfig), t)) "
                "FROM unnest(CAST(:tokens AS text[])) AS t"),
                {"config": self.config, "tokens": missing})
            fresh = {word: tuple(lexemes or ()) for word, lexemes in rows}
            found.update(fresh)
            with self._lock:
                if len(self._known) > self.LIMIT:
                    self._known.clear()
                self._known.update(fresh)
        return found


# A clause, analysed: (tsquery text or None, reference or None, facet flag or None, the
# lexemes it names: they rank the matches).
Analysed = tuple[str | None, str | None, tuple[str, str] | None, tuple[str, ...]]


def analyse(connection: Connection, lexemes: Lexemes, clauses: list[Clause]) -> list[Analysed]:
    """The clauses that can match anything, as ``tsquery`` texts: each alternative's lexemes
    AND-ed, the alternatives OR-ed. Alternatives that are only stop words are dropped, and a
    clause left with nothing to match by is dropped (a stop word alone adds nothing)."""
    per_clause = [[tokens(alternative) for alternative in clause.alternatives]
                  for clause in clauses]
    known = lexemes.of(connection, (token for alternatives in per_clause
                                    for alternative in alternatives for token in alternative))
    analysed: list[Analysed] = []
    for clause, alternatives in zip(clauses, per_clause, strict=True):
        groups = []
        for alternative in alternatives:
            group = tuple(dict.fromkeys(lexeme for token in alternative
                                        for lexeme in known[token.lower()]))
            if group and group not in groups:
                groups.append(group)
        query = " | ".join("(" + " & ".join(map(quoted, group)) + ")" for group in groups)
        if query or clause.reference or clause.flag:
            named = tuple(dict.fromkeys(lexeme for group in groups for lexeme in group))
            analysed.append((query or None, clause.reference, clause.flag, named))
    return analysed


def rank_query(analysed: list[Analysed]) -> str:
    """Every lexeme of the query, OR-ed: ``ts_rank`` then adds up what each contributes."""
    named = dict.fromkeys(lexeme for *_rest, lexemes in analysed for lexeme in lexemes)
    return " | ".join(map(quoted, named))


def snippet(headline: str | None) -> str | None:
    """A ``ts_headline`` result as HTML: the text escaped, the matches in ``<mark>``; None
    when nothing in it matched."""
    if not headline or MARK_START not in headline:
        return None
    escaped = html.escape(headline.translate(_RESTORE).strip(), quote=False)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")
