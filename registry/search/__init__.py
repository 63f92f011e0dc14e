"""Full-text search of the register, in French: the interface every backend implements.

Public API (used by the pages, the API, the feeds and ``registry.service``)::

    backend = get_search_backend(app)          # one per app and process
    result = backend.search(SearchQuery(text="hôpital", filters={"theme": ["oncologie"]}))
    result.ids, result.total, result.facets, result.highlights, result.suggestion
    backend.matching_ids(query)                # every match, in order (exports, feeds)
    index_projects(app, documents)             # add or replace, after a commit
    rebuild(app, documents, progress)          # build aside, then swap
    index_version(app)                         # (token, moment): for HTTP validators
    index_problem(app, expected)               # why the index does not match the database
    check_config(app.config)                   # problems that must stop a production start

``SearchBackend`` is the abstraction; ``registry.search.whoosh.WhooshBackend`` is the default
(``SEARCH_BACKEND=whoosh``). A second backend (PostgreSQL full text) plugs in behind the same
tests (``tests/registry/test_search.py`` is parametrised over ``BACKENDS``).

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

from flask import Flask

from registry.search.types import (
    DOCUMENT_FIELDS,
    FACETS,
    MAX_TERMS,
    MAX_TEXT,
    SearchBackend,
    SearchQuery,
    SearchResult,
    stamp,
)
from registry.search.whoosh import WhooshBackend

__all__ = ["BACKENDS", "DOCUMENT_FIELDS", "FACETS", "MAX_TERMS", "MAX_TEXT", "SearchBackend",
           "SearchQuery", "SearchResult", "check_config", "get_search_backend",
           "index_problem", "index_projects", "index_version", "rebuild", "stamp"]
log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- backends

def _whoosh(config: Mapping) -> SearchBackend:
    return WhooshBackend(config["SEARCH_INDEX_DIR"])


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


# name → (factory, configuration check)
BACKENDS: dict[str, tuple[Callable[[Mapping], SearchBackend],
                          Callable[[Mapping], list[str]]]] = {
    "whoosh": (_whoosh, _check_directory),
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
        backend = BACKENDS[name][0](app.config)
        app.extensions["search_backend"] = backend
    return backend


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
