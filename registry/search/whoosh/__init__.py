"""The Whoosh backend of ``registry.search``: local files, French analysis, bitset facets.

Modules: ``analysis`` (French analysis, the index schema, a document's fields), ``postings``
(bitsets and fast reads of Whoosh's postings and columns), ``generation`` (what every search of
one index generation shares), ``store`` (files, locks, writes, rebuilds), ``backend`` (searches:
ranking, filters, facets, snippets, suggestions).

What we do about Whoosh's limits:
* ``LanguageAnalyzer("fr")`` stems without folding accents: our chain folds accents, then stems,
  so ``hopital``, ``Hôpital`` and ``HÔPITAUX`` meet on the same term.
* Only one writer may hold Whoosh's lock (another worker gets ``LockError`` at once): every
  write first takes an ``fcntl`` lock on ``SEARCH_INDEX_DIR/write.lock``, so writers from any
  process wait their turn instead of failing.
* Rebuilds never interrupt searches: a complete index is built in a new directory, then the
  ``current`` symlink is replaced atomically; searchers notice the new target and reopen.
  Writes wait during a rebuild (same lock), then land in the new index.
* Speed (measured in ``bench/``; see ``docs/search.md``). Whoosh's collectors score, sort and
  group in pure Python per matching document, and a page or a count walks every match again.
  We use Whoosh for storage, analysis, postings, spelling and highlighting, and do the rest
  with document *bitsets* (Python ints: ``&`` and ``bit_count()`` run in C):
  - per index generation (shared by the threads of a process, rebuilt when the index
    changes): the live documents, one bitset per facet value, the project id, the sort keys and
    the results-due date of every document;
  - filters are bitsets AND-ed together; facet counts are ``bit_count()`` of intersections
    (disjunctive: a selected facet is counted without its own filter);
  - a text query reads each term's postings once, scores them (BM25F, field boosts) and
    keeps the full ranking in a small per-generation cache, so the next page, another filter
    or an export of the same words costs a walk through that ranking;
  - stored fields (for highlighted snippets) are read for the page's documents only.
* User text is never parsed as Whoosh query syntax: words are analysed and AND-ed, capped at
  ``MAX_TERMS`` terms and ``MAX_TEXT`` characters.
"""

from __future__ import annotations

from registry.search.whoosh.backend import WhooshBackend

__all__ = ["WhooshBackend"]
