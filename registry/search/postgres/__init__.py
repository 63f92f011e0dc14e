"""The PostgreSQL backend of ``registry.search`` (``SEARCH_BACKEND=postgres``): the index is
in the register's own database, written in the same transaction as the project it describes.

Modules: ``schema`` (the tables, which the migration ``0005_search_postgres`` creates, and
the text search configuration's name), ``analysis`` (documents as rows, queries as
``tsquery``, weights, snippets), ``store`` (writes, rebuilds, the index's state and version),
``backend`` (searches: matching, ranking, filters, facets, snippets, suggestions).

What PostgreSQL gives and what we add:
* French full text: a text search configuration, ``hdh_french``, copied from ``french`` with
  ``unaccent`` before the Snowball stemmer, so "hôpitaux", "HOPITAL" and "hôpital" meet.
  Tokens are cut in Python as Whoosh cuts them, and a query's stop words are Whoosh's: both
  backends give the same answers (``registry.search.words``).
* Weights: title (A) above keywords, summary and sponsor (B), objective (C), public interest
  (D); ``ts_rank`` with the weights of ``analysis.RANK_WEIGHTS``, and a reference match first.
* Facets are counted in one statement over the matching rows, each without its own filter;
  "results overdue" is judged at query time from ``SearchQuery.today``.
* Snippets come from ``ts_headline``, escaped in Python; suggestions from ``pg_trgm``
  similarity over the indexed words, accents kept.
* Same transaction: ``index_in`` writes through the save's connection before it commits
  (``registry.service``), so the index never lags behind, nor runs ahead of, the register.
"""

from __future__ import annotations

from registry.search.postgres.backend import PostgresBackend

__all__ = ["PostgresBackend"]
