"""Full-text search of the register, in French.

Public API (used by the pages, the API, the feeds and ``registry.service``)::

    backend = get_search_backend(app)          # one per app and process
    result = backend.search(SearchQuery(text="hôpital", filters={"theme": ["oncologie"]}))
    result.ids, result.total, result.facets, result.highlights, result.suggestion
    index_projects(app, documents)             # add or replace, after a commit
    rebuild(app, documents, total, progress)   # build aside, then swap
    index_exists(app)

``SearchBackend`` is the abstraction; ``WhooshBackend`` is the default (``SEARCH_BACKEND=whoosh``).
A second backend (PostgreSQL full text) plugs in behind the same tests.

What we do about Whoosh's limits:
* ``LanguageAnalyzer("fr")`` stems without folding accents: our chain folds accents, then stems,
  so ``hopital``, ``Hôpital`` and ``HÔPITAUX`` meet on the same term.
* Only one writer may hold Whoosh's lock (another worker gets ``LockError`` at once): every
  write first takes an ``fcntl`` lock on ``SEARCH_INDEX_DIR/write.lock``, so writers from any
  process wait their turn instead of failing.
* Rebuilds never interrupt searches: a complete index is built in a new directory, then the
  ``current`` symlink is replaced atomically; searchers notice the new target and reopen.
  Writes wait during a rebuild (same lock), then land in the new index.
* Speed: searchers are reused and only refreshed when the index changed; results are limited to
  the page; filters are ``filter=`` masks; user text is never parsed as Whoosh query syntax.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from flask import Flask
from whoosh import index as whoosh_index
from whoosh import sorting
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.lang import stopwords_for_language
from whoosh.query import And, Every, Or, Query, Term
from whoosh.support.charset import accent_map

log = logging.getLogger(__name__)

FACETS = ("status", "theme", "source", "sponsor_kind", "year", "ai", "results", "overdue")
TEXT_FIELDS = {"title": 4.0, "summary": 1.5, "objective": 1.0, "public_interest": 0.7,
               "sponsor": 1.5, "keywords": 2.0}
MAX_TERMS = 20
MAX_TEXT = 200
WRITE_LOCK_TIMEOUT = 300.0


def _fold(text: str) -> str:
    return text.translate(accent_map)


_STOPWORDS = frozenset(
    {_fold(w) for w in stopwords_for_language("fr")}
    | {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "le", "la", "les", "un", "une", "au",
       "aux", "ou", "pour", "par", "sur", "dans", "chez", "avec", "sans", "sous", "entre",
       "vers", "the", "of", "and", "in"}
)


def french_analyzer():
    """Tokenise, lower-case, fold accents, drop stop words, stem (Snowball French)."""
    return (RegexTokenizer(r"\w+") | LowercaseFilter() | CharsetFilter(accent_map)
            | StopFilter(stoplist=_STOPWORDS, minsize=1) | StemFilter(lang="fr"))


def spelling_analyzer():
    """Whole words, accents kept (no stemming): "Vouliez-vous dire" offers real, accented words."""
    return RegexTokenizer(r"\w+") | LowercaseFilter() | StopFilter(stoplist=_STOPWORDS, minsize=3)


def build_schema() -> Schema:
    analyzer = french_analyzer()
    return Schema(
        key=ID(unique=True, stored=True),
        reference=ID(stored=True),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=TEXT_FIELDS["title"]),
        summary=TEXT(analyzer=analyzer, stored=True),
        objective=TEXT(analyzer=analyzer),
        public_interest=TEXT(analyzer=analyzer),
        sponsor=TEXT(analyzer=analyzer),
        keywords=TEXT(analyzer=analyzer),
        spell=TEXT(analyzer=spelling_analyzer(), spelling=True),
        status=ID, theme=KEYWORD(commas=True), source=KEYWORD(commas=True),
        sponsor_kind=ID, year=ID, ai=ID, results=ID, overdue=ID,
        title_sort=ID(sortable=True), reference_sort=ID(sortable=True),
        year_sort=NUMERIC(sortable=True, signed=False),
        updated=NUMERIC(sortable=True, bits=64, signed=False),
        has_ai=BOOLEAN, payload=STORED,
    )


# --------------------------------------------------------------------------- query and result

@dataclass
class SearchQuery:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    # relevance (default with text), recent (default without), title, reference, year
    sort: str = ""
    page: int = 1
    per_page: int = 20

    def normalised(self) -> SearchQuery:
        return SearchQuery(
            text=" ".join("".join(c if c.isprintable() else " " for c in self.text).split())
            [:MAX_TEXT],
            filters={k: [str(v) for v in vs if str(v)] for k, vs in self.filters.items()
                     if k in FACETS},
            sort=self.sort or ("relevance" if self.text.strip() else "recent"),
            page=max(1, min(int(self.page), 10**6)),
            per_page=max(1, min(int(self.per_page), 100)),
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


class SearchBackend(Protocol):
    def index(self, documents: Iterable[dict]) -> int: ...
    def remove(self, ids: Iterable[int]) -> None: ...
    def search(self, query: SearchQuery) -> SearchResult: ...
    def count(self) -> int: ...
    def ids(self) -> set[int]: ...
    def rebuild(self, documents: Iterable[dict],
                progress: Callable[[int], None] | None = None) -> int: ...
    def exists(self) -> bool: ...


def _to_fields(doc: dict[str, Any]) -> dict[str, Any]:
    updated = doc.get("updated_at") or datetime.now(UTC)
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=UTC)
    year = doc.get("year_authorised")
    words = " ".join(str(doc.get(k) or "") for k in ("title", "summary", "objective",
                                                     "sponsor_name", "keywords"))
    return {
        "key": str(doc["id"]),
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
        "year": str(year) if year else "",
        "ai": "oui" if doc.get("uses_ai") else "non",
        "results": "oui" if doc.get("has_results") else "non",
        "overdue": "oui" if doc.get("results_overdue") else "non",
        "title_sort": _fold(str(doc.get("title") or "").lower()),
        "reference_sort": str(doc.get("reference", "")).upper(),
        "year_sort": int(year or 0),
        "updated": int(updated.timestamp() * 1000),
        "has_ai": bool(doc.get("uses_ai")),
        "payload": {"id": int(doc["id"])},
    }


_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
_REFERENCE = re.compile(r"^HDH-\d{4}-\d{4}$", re.IGNORECASE)


# --------------------------------------------------------------------------- Whoosh backend

class WhooshBackend:
    """Whoosh on local disk: ``<dir>/current`` → ``<dir>/index-<id>``."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.root = Path(directory)
        self.current = self.root / "current"
        self.lock_path = self.root / "write.lock"
        self.schema = build_schema()
        self.analyzer = french_analyzer()
        self._local = threading.local()

    # -- storage
    def exists(self) -> bool:
        return self.current.exists() and whoosh_index.exists_in(str(self.current))

    def _ensure(self) -> None:
        if self.exists():
            return
        with self._write_lock():
            if not self.exists():
                target = self._new_generation()
                whoosh_index.create_in(str(target), self.schema)
                self._swap(target)

    def _new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / f"index-{time.time_ns()}-{uuid.uuid4().hex[:6]}"
        target.mkdir()
        return target

    def _swap(self, target: Path) -> None:
        previous = self.current.resolve() if self.current.is_symlink() else None
        temporary = self.root / f".current-{uuid.uuid4().hex}"
        os.symlink(target.name, temporary)
        os.replace(temporary, self.current)  # atomic on POSIX
        if previous and previous != target.resolve() and previous.exists():
            shutil.rmtree(previous, ignore_errors=True)

    @contextlib.contextmanager
    def _write_lock(self, timeout: float = WRITE_LOCK_TIMEOUT) -> Iterator[None]:
        """One writer at a time across threads and processes; others wait, never fail."""
        self.root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        with open(self.lock_path, "a+") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("search index write lock not obtained") from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _open(self):
        return whoosh_index.open_dir(str(self.current))

    def _searcher(self):
        """A searcher reused across requests of this thread, reopened when the index moved."""
        self._ensure()
        target = os.readlink(self.current)
        cached = getattr(self._local, "searcher", None)
        if cached is not None and self._local.target == target and cached.up_to_date():
            return cached
            # Not Searcher.refresh(): it reuses segment readers and can keep stale deletions.
        if cached is not None:
            cached.close()
        self._local.searcher = self._open().searcher()
        self._local.target = target
        return self._local.searcher

    # -- writes
    def index(self, documents: Iterable[dict]) -> int:
        docs = [_to_fields(d) for d in documents]
        if not docs:
            return 0
        self._ensure()
        with self._write_lock():
            writer = self._open().writer()
            try:
                for doc in docs:
                    writer.update_document(**doc)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
        return len(docs)

    def remove(self, ids: Iterable[int]) -> None:
        keys = [str(i) for i in ids]
        if not keys:
            return
        self._ensure()
        with self._write_lock():
            writer = self._open().writer()
            for key in keys:
                writer.delete_by_term("key", key)
            writer.commit()

    def rebuild(self, documents: Iterable[dict],
                progress: Callable[[int], None] | None = None) -> int:
        """Build a full index aside, then swap it in; searches go on meanwhile."""
        with self._write_lock():
            target = self._new_generation()
            new_index = whoosh_index.create_in(str(target), self.schema)
            writer = new_index.writer(limitmb=128)
            count = 0
            try:
                for doc in documents:
                    writer.add_document(**_to_fields(doc))
                    count += 1
                    if progress:
                        progress(1)
                writer.commit(optimize=True)
            except BaseException:
                writer.cancel()
                shutil.rmtree(target, ignore_errors=True)
                raise
            self._swap(target)
        return count

    # -- reads
    def count(self) -> int:
        return self._searcher().doc_count()

    def ids(self) -> set[int]:
        searcher = self._searcher()
        return {int(fields["key"]) for fields in searcher.all_stored_fields()}

    def _text_query(self, text: str) -> tuple[Query | None, list[str]]:
        words = _WORD.findall(text)[:MAX_TERMS]
        clauses: list[Query] = []
        for word in words:
            if _REFERENCE.match(word):
                clauses.append(Term("reference", word.upper(), boost=20.0))
                continue
            tokens = [t.text for t in self.analyzer(word)]
            if not tokens:
                continue  # a stop word alone
            per_token = [Or([Term(name, token, boost=boost)
                             for name, boost in TEXT_FIELDS.items()]) for token in tokens]
            clauses.append(per_token[0] if len(per_token) == 1 else And(per_token))
        if not clauses:
            return None, words
        return (clauses[0] if len(clauses) == 1 else And(clauses)), words

    @staticmethod
    def _filter(filters: dict[str, list[str]], skip: str | None = None) -> Query | None:
        parts = [Or([Term(name, value) for value in values])
                 for name, values in filters.items() if values and name != skip]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(parts)

    def _facet_sets(self, searcher) -> dict[str, dict[str, frozenset[int]]]:
        """For each facet, value → document numbers; computed once per index generation."""
        cache = getattr(self._local, "facet_sets", None)
        if cache is not None and cache[0] is searcher:
            return cache[1]
        reader = searcher.reader()
        sets: dict[str, dict[str, frozenset[int]]] = {}
        for name in FACETS:
            values: dict[str, frozenset[int]] = {}
            for raw in reader.lexicon(name):
                value = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                docs = frozenset(doc for doc in searcher.docs_for_query(Term(name, value))
                                 if not reader.is_deleted(doc))
                if value and docs:
                    values[value] = docs
            sets[name] = values
        self._local.facet_sets = (searcher, sets)
        return sets

    def search(self, query: SearchQuery) -> SearchResult:
        query = query.normalised()
        searcher = self._searcher()
        text_query, words = self._text_query(query.text)
        if query.text and text_query is None:  # only stop words or symbols: nothing matches
            return SearchResult(ids=[], total=0, page=query.page, pages=1, facets={},
                                highlights={}, suggestion=None)
        base: Query = text_query or Every()
        facet_sets = self._facet_sets(searcher)
        reader = searcher.reader()
        if text_query is None:
            base_docs: set[int] = set().union(*facet_sets["status"].values())
        else:
            base_docs = {d for d in searcher.docs_for_query(base) if not reader.is_deleted(d)}
        # Filters as document sets: a facet's selected values OR-ed, facets AND-ed.
        selected: dict[str, set[int]] = {
            name: set().union(*(facet_sets[name].get(v, frozenset()) for v in values))
            for name, values in query.filters.items()
        }
        matched = set(base_docs)
        for docs in selected.values():
            matched &= docs
        # Facet counts; a selected facet is counted without its own filter (disjunctive).
        facets: dict[str, list[tuple[str, int]]] = {}
        for name in FACETS:
            candidates = matched
            if name in selected:
                candidates = set(base_docs)
                for other, docs in selected.items():
                    if other != name:
                        candidates &= docs
            counts = [(value, len(docs & candidates)) for value, docs in facet_sets[name].items()]
            facets[name] = sorted(((v, c) for v, c in counts if c),
                                  key=lambda kv: (-kv[1], kv[0]))
        total = len(matched)
        pages = max(1, -(-total // query.per_page))
        ids: list[int] = []
        highlights: dict[int, str] = {}
        if matched and query.page <= pages:
            sort_by: Any = {
                "recent": sorting.FieldFacet("updated", reverse=True),
                "title": sorting.FieldFacet("title_sort"),
                "reference": sorting.FieldFacet("reference_sort", reverse=True),
                "year": sorting.MultiFacet([sorting.FieldFacet("year_sort", reverse=True),
                                            sorting.FieldFacet("reference_sort")]),
            }.get(query.sort)
            if query.sort == "relevance" and text_query is None:
                sort_by = sorting.FieldFacet("updated", reverse=True)
            results = searcher.search_page(
                base, query.page, pagelen=query.per_page,
                filter=matched if query.filters else None, sortedby=sort_by,
                terms=text_query is not None)
            ids = [int(hit["key"]) for hit in results]
            if text_query is not None:
                results.results.formatter = HtmlFormatter(tagname="mark", between=" … ")
                results.results.fragmenter = ContextFragmenter(maxchars=220, surround=60)
                for hit in results:
                    snippet = hit.highlights("summary", top=2) or hit.highlights("title")
                    if snippet:
                        highlights[int(hit["key"])] = snippet
        suggestion = self._suggest(searcher, words) if query.text and total < 3 else None
        return SearchResult(ids=ids, total=total, page=query.page, pages=pages, facets=facets,
                            highlights=highlights, suggestion=suggestion)

    def _suggest(self, searcher, words: list[str]) -> str | None:
        changed, corrected = False, []
        reader = searcher.reader()
        for word in words:
            lowered = word.lower()
            if len(lowered) < 4 or _fold(lowered) in _STOPWORDS or _REFERENCE.match(word) or (
                    "spell", lowered) in reader:
                corrected.append(word)
                continue
            options = searcher.suggest("spell", lowered, limit=1, maxdist=2)
            if options:
                corrected.append(options[0])
                changed = True
            else:
                corrected.append(word)
        return " ".join(corrected) if changed else None


# --------------------------------------------------------------------------- module API

BACKENDS: dict[str, Callable[[Flask], SearchBackend]] = {
    "whoosh": lambda app: WhooshBackend(app.config["SEARCH_INDEX_DIR"]),
}


def get_search_backend(app: Flask) -> SearchBackend:
    """The app's backend, created once per process."""
    backend = app.extensions.get("search_backend")
    if backend is None:
        name = app.config.get("SEARCH_BACKEND", "whoosh")
        if name not in BACKENDS:
            raise RuntimeError(f"SEARCH_BACKEND={name!r} is unknown; use one of {sorted(BACKENDS)}")
        backend = BACKENDS[name](app)
        app.extensions["search_backend"] = backend
    return backend


def index_projects(app: Flask, documents: Iterable[dict]) -> None:
    """Add or replace projects in the index; a failure is logged, the database stays right and
    ``flask registry reindex`` repairs the index."""
    try:
        get_search_backend(app).index(documents)
    except Exception:
        log.exception("search index update failed; run `flask registry reindex`")


def rebuild(app: Flask, documents: Iterable[dict], total: int | None = None,
            progress: Callable[[int], None] | None = None) -> int:
    return get_search_backend(app).rebuild(documents, progress=progress)


def index_exists(app: Flask) -> bool:
    return get_search_backend(app).exists()
