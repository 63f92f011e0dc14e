"""Full-text search of the register, in French: the interface every backend implements.

Public API (used by the pages, the API, the feeds and ``registry.service``)::

    backend = get_search_backend(app)          # one per app and process
    result = backend.search(SearchQuery(text="hôpital", filters={"theme": ["oncologie"]}))
    result.ids, result.total, result.facets, result.highlights, result.suggestion
    backend.matching_ids(query)                # every match, in order (exports, feeds)
    index_projects(app, documents)             # add or replace, after a commit
    writes_in_transaction(app)                 # the index is in the register's database:
    index_in_transaction(app, connection, documents)  # then written before the commit
    rebuild(app, documents, progress)          # build aside, then swap
    index_version(app)                         # (token, moment): for HTTP validators
    index_problem(app, expected)               # why the index does not match the database
    check_config(app.config)                   # problems that must stop a production start

``SearchBackend`` is the abstraction; ``registry.search.whoosh.WhooshBackend`` is the default
(``SEARCH_BACKEND=whoosh``, local files, updated after each commit) and
``registry.search.postgres.PostgresBackend`` the second (``SEARCH_BACKEND=postgres``, tables in
the register's PostgreSQL database, updated in each save's transaction). Both answer the same
tests (``tests/registry/test_search.py`` is parametrised over ``BACKENDS``). What a query's
words mean (clauses, references, synonyms) is decided once for both, in ``terms`` (with
``words`` and ``synonyms``).

Dates matter to one facet: "results overdue" depends on today, so documents carry the date
results are due and whether results exist, and the overdue set is computed at query time
(``SearchQuery.today``), never frozen in the index.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import cast

from flask import Flask
from sqlalchemy import Connection

from registry.search.postgres import PostgresBackend
from registry.search.types import (
    DOCUMENT_FIELDS,
    FACETS,
    FILTERS,
    MAX_TERMS,
    MAX_TEXT,
    SearchBackend,
    SearchQuery,
    SearchResult,
    TransactionalBackend,
    stamp,
)
from registry.search.whoosh import WhooshBackend

__all__ = ["BACKENDS", "DOCUMENT_FIELDS", "FACETS", "FILTERS", "MAX_TERMS", "MAX_TEXT",
           "SearchBackend", "SearchQuery", "SearchResult", "TransactionalBackend",
           "check_config", "get_search_backend", "index_in_transaction", "index_problem",
           "index_projects", "index_version", "rebuild", "remove_in_transaction",
           "remove_projects", "stamp", "writes_in_transaction"]
log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- backends

def _whoosh(app: Flask) -> SearchBackend:
    return WhooshBackend(app.config["SEARCH_INDEX_DIR"])


def _postgres(app: Flask) -> SearchBackend:
    """The app's own engine: the index is in the register's database, and a save writes it
    through the save's connection."""
    return PostgresBackend(app.extensions["database"]["engine"])


def _check_directory(config: Mapping) -> list[str]:
    """A local index directory: set, absolute, a directory, writable."""
    raw = str(config.get("SEARCH_INDEX_DIR") or "").strip()
    if not raw:
        return ["SEARCH_INDEX_DIR is empty: set it to a local directory for the search index."]
    path = Path(raw)
    if not path.is_absolute():
        return [f"SEARCH_INDEX_DIR={raw!r} is relative: use an absolute path, so every "
                "worker finds the same index whatever its working directory."]
    if path.exists() and not path.is_dir():
        return [f"SEARCH_INDEX_DIR={raw!r} exists and is not a directory."]
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        return [f"SEARCH_INDEX_DIR={raw!r}: {str(existing)!r} is not writable by this user "
                "(the index is updated when a project is saved)."]
    return []


POSTGRES_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")


def _check_postgres(config: Mapping) -> list[str]:
    """The index is in the register's database: DATABASE_URL must be PostgreSQL."""
    url = str(config.get("DATABASE_URL") or "")
    if url.startswith(POSTGRES_SCHEMES):
        return []
    scheme = url.partition(":")[0] or "empty"
    return [f"SEARCH_BACKEND=postgres keeps the search index in the register's database, "
            f"which must be PostgreSQL (DATABASE_URL=postgresql://…); it is {scheme}."]


# name → (factory, given the app; configuration check)
BACKENDS: dict[str, tuple[Callable[[Flask], SearchBackend],
                          Callable[[Mapping], list[str]]]] = {
    "whoosh": (_whoosh, _check_directory),
    "postgres": (_postgres, _check_postgres),
}


def check_config(config: Mapping) -> list[str]:
    """Problems with the search settings (empty when they are usable), for start-up checks."""
    name = str(config.get("SEARCH_BACKEND") or "whoosh")
    if name not in BACKENDS:
        return [f"SEARCH_BACKEND={name!r} is unknown; available: {', '.join(sorted(BACKENDS))}."]
    return BACKENDS[name][1](config)


def get_search_backend(app: Flask) -> SearchBackend:
    """The app's backend, created once per process."""
    backend = app.extensions.get("search_backend")
    if backend is None:
        name = app.config.get("SEARCH_BACKEND", "whoosh")
        if name not in BACKENDS:
            raise RuntimeError(f"SEARCH_BACKEND={name!r} is unknown; "
                               f"available: {', '.join(sorted(BACKENDS))}")
        backend = BACKENDS[name][0](app)
        app.extensions["search_backend"] = backend
    return backend


def writes_in_transaction(app: Flask) -> bool:
    """Whether the app's backend keeps its index in the register's database, so that a
    save's documents are written in the save's transaction (``index_in_transaction``, before
    the commit) rather than after it (``index_projects``)."""
    return get_search_backend(app).transactional


def index_in_transaction(app: Flask, connection: Connection, documents: Iterable[dict]
                         ) -> None:
    """Add or replace projects through ``connection``, in its transaction (the save's), for a
    backend that ``writes_in_transaction``. A failure is not caught: the save fails with it,
    so the register and its index never disagree."""
    backend = get_search_backend(app)
    if not backend.transactional:
        raise RuntimeError(f"{type(backend).__name__} does not write in a transaction")
    cast(TransactionalBackend, backend).index_in(connection, documents)


def remove_in_transaction(app: Flask, connection: Connection, ids: Iterable[int]) -> None:
    """Remove projects (unpublished) through ``connection``, in the save's transaction."""
    cast(TransactionalBackend, get_search_backend(app)).remove_in(connection, ids)


def remove_projects(app: Flask, ids: Iterable[int]) -> None:
    """Remove projects (unpublished) from the index; a failure is logged (``flask registry
    reindex`` repairs the index, and pages hide unpublished projects whatever it holds)."""
    try:
        get_search_backend(app).remove(ids)
    except Exception:
        log.exception("search index removal failed; run `flask registry reindex`")


def index_projects(app: Flask, documents: Iterable[dict]) -> None:
    """Add or replace projects in the index; a failure is logged, the database stays right and
    ``flask registry reindex`` repairs the index."""
    try:
        get_search_backend(app).index(documents)
    except Exception:
        log.exception("search index update failed; run `flask registry reindex`")


def rebuild(app: Flask, documents: Iterable[dict],
            progress: Callable[[int], None] | None = None) -> int:
    """Build a complete index from ``documents`` aside, then swap it in; ``progress(n)`` is
    called as documents are indexed (the caller knows the total, for a progress bar)."""
    return get_search_backend(app).rebuild(documents, progress=progress)


def index_version(app: Flask) -> tuple[str, datetime | None]:
    """(token, moment) of the index's last change (``SearchBackend.version``): what an ETag
    and a Last-Modified of a response built from a search must follow, since the index may
    change without the database (a rebuild) or after it (the update that follows a commit)."""
    try:
        return get_search_backend(app).version()
    except Exception:  # an unreadable index: the response will say so, never a 500 here
        log.exception("search index version unreadable")
        return "unreadable", None


def index_problem(app: Flask, expected: Mapping[int, int]) -> str | None:
    """Why the index cannot serve the register as it is (a French sentence for set-up), or
    None when it holds exactly the projects of ``expected`` (id → ``stamp``), each in the
    version the database has."""
    backend = get_search_backend(app)
    if not backend.exists():
        return "L'index de recherche n'existe pas ou a été construit avec un schéma plus ancien"
    indexed = backend.stamps()
    if len(indexed) != len(expected):
        return (f"L'index de recherche contient {len(indexed)} projet(s), "
                f"le registre {len(expected)}")
    if indexed.keys() != expected.keys():
        return "L'index de recherche ne contient pas les mêmes projets que le registre"
    stale = sum(1 for key, value in expected.items() if indexed[key] != value)
    if stale:
        return f"L'index de recherche a {stale} projet(s) dans une version plus ancienne"
    return None
