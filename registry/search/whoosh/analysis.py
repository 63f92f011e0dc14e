"""French analysis for Whoosh, the index schema, and a search document as index fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, TEXT, Schema
from whoosh.support.charset import accent_map

from registry.search.types import stamp
from registry.search.words import STOPWORDS, TOKEN, fold

__all__ = ["EPOCH", "SCHEMA_FIELDS", "STOPWORDS", "build_schema", "day_number", "fold",
           "french_analyzer", "spelling_analyzer", "to_fields"]
EPOCH = date(1970, 1, 1)


def french_analyzer():
    """Tokenise, lower-case, fold accents, drop stop words, stem (Snowball French)."""
    return (RegexTokenizer(TOKEN) | LowercaseFilter() | CharsetFilter(accent_map)
            | StopFilter(stoplist=STOPWORDS, minsize=1) | StemFilter(lang="fr"))


def spelling_analyzer():
    """Whole words, accents kept (no stemming): "Vouliez-vous dire" offers real, accented words."""
    return RegexTokenizer(TOKEN) | LowercaseFilter() | StopFilter(stoplist=STOPWORDS, minsize=3)


def _keyed(field):
    """An ID/KEYWORD field that also records per-document lengths.

    Whoosh looks up a field length for every posting it writes and, for fields without a
    lengths column, checks the disk for that column each time (one ``stat`` per posting:
    half of the index build time). A lengths column makes the lookup a cached read.
    """
    field.scorable = True
    return field


def build_schema() -> Schema:
    analyzer = french_analyzer()
    return Schema(
        key=_keyed(ID(unique=True, stored=True)),
        reference=_keyed(ID()),
        title=TEXT(analyzer=analyzer, phrase=False, stored=True),
        summary=TEXT(analyzer=analyzer, phrase=False, stored=True),
        objective=TEXT(analyzer=analyzer, phrase=False),
        public_interest=TEXT(analyzer=analyzer, phrase=False),
        sponsor=TEXT(analyzer=analyzer, phrase=False),
        keywords=TEXT(analyzer=analyzer, phrase=False),
        spell=TEXT(analyzer=spelling_analyzer(), phrase=False, spelling=True),
        # The sponsor's slug: the named-sponsor filter (read from its postings, not counted).
        sponsor_slug=_keyed(ID()),
        status=_keyed(ID()), theme=_keyed(KEYWORD(commas=True)),
        source=_keyed(KEYWORD(commas=True)), sponsor_kind=_keyed(ID()), year=_keyed(ID()),
        ai=_keyed(ID()), results=_keyed(ID()),
        # Columns only (one value per document, not searchable): the project id, the sort
        # keys, and the day results are due (days since 1970-01-01, 0 when not known):
        # "overdue" is computed from it at query time, so it never goes stale.
        pid=COLUMN(NumericColumn("q")),
        results_due=COLUMN(NumericColumn("i")),
        title_sort=COLUMN(VarBytesColumn()), reference_sort=COLUMN(VarBytesColumn()),
        year_sort=COLUMN(NumericColumn("i")), updated=COLUMN(NumericColumn("q")),
    )


SCHEMA_FIELDS = frozenset(build_schema().names())


def day_number(value: Any) -> int:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return (value - EPOCH).days
    if isinstance(value, str) and value:
        return (date.fromisoformat(value[:10]) - EPOCH).days
    return 0


def to_fields(doc: dict[str, Any]) -> dict[str, Any]:
    year = doc.get("year_authorised")
    words = " ".join(str(doc.get(k) or "") for k in ("title", "summary", "objective",
                                                     "sponsor_name", "keywords"))
    return {
        "key": str(doc["id"]),
        "pid": int(doc["id"]),
        "reference": str(doc.get("reference", "")).upper(),
        "title": str(doc.get("title") or ""),
        "summary": str(doc.get("summary") or ""),
        "objective": str(doc.get("objective") or ""),
        "public_interest": str(doc.get("public_interest") or ""),
        "sponsor": f"{doc.get('sponsor_name') or ''} {doc.get('city') or ''}",
        "keywords": str(doc.get("keywords") or ""),
        "spell": words,
        "status": str(doc.get("status") or ""),
        "theme": ",".join(doc.get("themes") or []),
        "source": ",".join(doc.get("sources") or []),
        "sponsor_kind": str(doc.get("sponsor_kind") or ""),
        "sponsor_slug": str(doc.get("sponsor_slug") or ""),
        "year": str(year) if year else "",
        "ai": "oui" if doc.get("uses_ai") else "non",
        "results": "oui" if doc.get("has_results") else "non",
        "results_due": max(0, day_number(doc.get("results_due_on"))),
        "title_sort": fold(str(doc.get("title") or "").lower()).encode(),
        "reference_sort": str(doc.get("reference", "")).upper().encode(),
        "year_sort": int(year or 0),
        "updated": stamp(doc.get("updated_at") or datetime.now(UTC)),
    }
