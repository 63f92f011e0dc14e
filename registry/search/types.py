"""What every search backend takes and gives: the query, the result, the backend protocol, the
facets and the fields of a search document (``registry.search.documents``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from sqlalchemy import Connection

from core.clock import local_today

FACETS = ("status", "theme", "source", "sponsor_kind", "year", "ai", "results", "overdue")
# Every filter a query may carry: the facets (counted), and a named sponsor (the slug of the
# organisation; not counted: there are as many values as organisations).
FILTERS = (*FACETS, "sponsor")
# The keys of a search document (``registry.search.documents.search_document``), all read by the
# backends: ``id`` and ``reference``; the texts; the facets' values and the sponsor's slug;
# ``results_due_on`` and ``has_results`` (overdue is judged at query time); ``updated_at``
# (the "recent" sort).
DOCUMENT_FIELDS = frozenset({
    "id", "reference", "title", "summary", "objective", "public_interest", "sponsor_name",
    "sponsor_slug", "city", "keywords", "sponsor_kind", "themes", "sources", "status",
    "year_authorised", "uses_ai", "has_results", "results_due_on", "updated_at"})
MAX_TERMS = 20
MAX_TEXT = 200


@dataclass
class SearchQuery:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    # relevance (default with text), recent (default without), title, reference, year
    sort: str = ""
    page: int = 1
    per_page: int = 20
    # The day "overdue" is judged on (UTC today when None).
    today: date | None = None

    def normalised(self) -> SearchQuery:
        return SearchQuery(
            text=" ".join("".join(c if c.isprintable() else " " for c in self.text).split())
            [:MAX_TEXT],
            filters={k: [str(v) for v in vs if str(v)] for k, vs in self.filters.items()
                     if k in FILTERS},
            sort=self.sort or ("relevance" if self.text.strip() else "recent"),
            page=max(1, min(int(self.page), 10**6)),
            per_page=max(1, min(int(self.per_page), 100)),
            today=self.today or local_today(),
        )


@dataclass
class SearchResult:
    ids: list[int]
    total: int
    page: int
    pages: int
    facets: dict[str, list[tuple[str, int]]]
    highlights: dict[int, str]
    suggestion: str | None = None
    # False when there is no usable index (never built, or built with an older schema): the
    # answer is empty because nothing could be searched, not because nothing matched.
    ready: bool = True


def stamp(updated_at: datetime) -> int:
    """The version of a project a backend indexed: its ``updated_at`` in milliseconds since
    1970 (UTC). ``flask registry reindex --if-missing`` compares them with the database's."""
    if updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=UTC)
    return int(updated_at.timestamp() * 1000)


class SearchBackend(Protocol):
    """Reads never create an index: without one (or with one of an older schema) searches
    answer nothing (``SearchResult.ready`` is False), counts are 0, and a warning is logged.

    ``transactional``: the index lives in the register's database. A save's search documents
    are then written in the save's own transaction, before it commits
    (``TransactionalBackend.index_in``), and commit or roll back with it; otherwise (Whoosh)
    they are written once the transaction has committed (``index``)."""

    transactional: bool

    def index(self, documents: Iterable[dict]) -> int: ...
    def remove(self, ids: Iterable[int]) -> None: ...
    def search(self, query: SearchQuery) -> SearchResult: ...
    def matching_ids(self, query: SearchQuery) -> list[int]: ...
    def count(self) -> int: ...
    def ids(self) -> set[int]: ...
    def stamps(self) -> dict[int, int]: ...
    # (token, moment) of the index's last change; the token changes with every write and
    # rebuild. Cheap: it goes into the validators of every search-backed response.
    def version(self) -> tuple[str, datetime | None]: ...
    def rebuild(self, documents: Iterable[dict],
                progress: Callable[[int], None] | None = None) -> int: ...
    def exists(self) -> bool: ...


class TransactionalBackend(SearchBackend, Protocol):
    """A backend whose index is in the register's database (``transactional`` is True)."""

    def index_in(self, connection: Connection, documents: Iterable[dict]) -> int:
        """Add or replace ``documents`` through ``connection``, in its transaction (the
        save's): nothing is committed here."""
        ...

    def remove_in(self, connection: Connection, ids: Iterable[int]) -> None:
        """Remove projects through ``connection``, in its transaction (an unpublishing)."""
        ...
