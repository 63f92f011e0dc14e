"""Searches on the PostgreSQL index: full-text matching and ranking (``tsvector``, weights,
``ts_rank``), filters and disjunctive facet counts in SQL, snippets (``ts_headline``),
suggestions (``pg_trgm``). Same answers as the Whoosh backend on the same documents
(``tests/registry/test_search.py`` runs against both)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY

from core.clock import local_today
from registry.search.postgres import analysis, schema
from registry.search.postgres.store import PostgresStore
from registry.search.terms import Clause, plan, suggestion
from registry.search.types import FACETS, SearchQuery, SearchResult
from registry.search.words import fold

D = schema.documents.c
CONFIG = literal_column(f"'{schema.CONFIG}'::regconfig")
WEIGHTS = literal_column(f"ARRAY[{', '.join(map(str, analysis.RANK_WEIGHTS))}]::float4[]")
# Snippets like Whoosh's: up to two fragments of the summary, else the whole title.
SUMMARY_HEADLINE = (f'StartSel="{analysis.MARK_START}", StopSel="{analysis.MARK_STOP}", '
                    'MaxFragments=2, MaxWords=25, MinWords=10, FragmentDelimiter=" … "')
TITLE_HEADLINE = (f'StartSel="{analysis.MARK_START}", StopSel="{analysis.MARK_STOP}", '
                  "HighlightAll=true")
# A suggestion: the known word nearest the one typed (trigrams of their folded forms), at
# most two letters longer or shorter, that some project still has.
SUGGESTION_SIMILARITY = 0.4
_SUGGEST = text("""
SELECT EXISTS (SELECT 1 FROM search_words WHERE word = :word),
    (SELECT w.word FROM search_words AS w
     WHERE w.folded % :folded AND similarity(w.folded, :folded) >= :similarity
       AND abs(length(w.folded) - length(:folded)) <= 2
       AND EXISTS (SELECT 1 FROM search_documents AS d
                   WHERE d.document @@ plainto_tsquery(CAST(:config AS regconfig), w.word))
     ORDER BY similarity(w.folded, :folded) DESC, w.word LIMIT 1)
""")
YES_NO = {"oui": True, "non": False}


def _overdue(today) -> ColumnElement[bool]:
    """Results due before ``today`` and not published: judged at query time."""
    return and_(D.has_results.is_(False), D.results_due_on.is_not(None),
                D.results_due_on < today)


def _yes_no(condition: ColumnElement[bool], values: list[str]) -> ColumnElement[bool]:
    choices = [condition if YES_NO[v] else not_(condition) for v in values if v in YES_NO]
    return or_(false(), *choices)


def filter_condition(name: str, values: list[str], today) -> ColumnElement[bool]:
    """The projects having any of ``values`` for the filter ``name`` (unknown values match
    nothing, as in Whoosh)."""
    if name in ("status", "sponsor_kind"):
        return D[name].in_(values)
    if name == "sponsor":
        return D.sponsor_slug.in_(values)
    if name in ("theme", "source"):
        column = D.themes if name == "theme" else D.sources
        return column.overlap(cast(values, ARRAY(Text)))
    if name == "year":
        return D.year.in_([int(v) for v in values if v.isdigit() and str(int(v)) == v])
    if name == "ai":
        return _yes_no(D.uses_ai, values)
    if name == "results":
        return _yes_no(D.has_results, values)
    if name == "overdue":
        return _yes_no(_overdue(today), values)
    return false()


def _tsquery(query_text: str) -> ColumnElement:
    return cast(literal(query_text, Text), TSQUERY)


class PostgresBackend(PostgresStore):
    """The search backend in the register's database (``SEARCH_BACKEND=postgres``)."""

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection whose statements all see one snapshot of the index."""
        with self.engine.connect() as connection:
            connection.execution_options(isolation_level="REPEATABLE READ")
            yield connection

    @staticmethod
    def _text_conditions(analysed: list[analysis.Analysed], today) -> list[ColumnElement]:
        conditions = []
        for query_text, reference, flag, _lexemes in analysed:
            parts: list[ColumnElement] = []
            if query_text:
                parts.append(D.document.op("@@")(_tsquery(query_text)))
            if reference:
                parts.append(D.reference == reference)
            if flag:
                parts.append(filter_condition(flag[0], [flag[1]], today))
            conditions.append(or_(*parts))
        return conditions

    @staticmethod
    def _order(sort: str, analysed: list[analysis.Analysed]) -> list[ColumnElement]:
        if sort == "relevance" and analysed:
            ranked = analysis.rank_query(analysed)
            score: ColumnElement = (func.ts_rank(WEIGHTS, D.document, _tsquery(ranked),
                                                 analysis.RANK_NORMALISATION)
                                    if ranked else literal(0.0))
            for _query, reference, _flag, _lexemes in analysed:
                if reference:
                    score = score + case((D.reference == reference, analysis.REFERENCE_BOOST),
                                         else_=0.0)
            return [score.desc(), D.project_id]
        if sort == "title":
            return [D.title_sort, D.project_id]
        if sort == "reference":
            return [D.reference.desc()]
        if sort == "year":
            return [func.coalesce(D.year, 0).desc(), D.reference]
        return [D.updated.desc(), D.project_id]  # recent

    def _match(self, connection: Connection, query: SearchQuery
               ) -> tuple[list[Clause], list[analysis.Analysed], list[ColumnElement],
                          dict[str, ColumnElement]] | None:
        """(clauses, analysed clauses, text conditions, filter conditions), or None when the
        text is only stop words or symbols: nothing can match."""
        clauses = plan(query.text)
        analysed = analysis.analyse(connection, self.lexemes, clauses) if clauses else []
        if query.text and not analysed:
            return None
        today = query.today or local_today()
        filters = {name: filter_condition(name, values, today)
                   for name, values in query.filters.items()}
        return clauses, analysed, self._text_conditions(analysed, today), filters

    def search(self, query: SearchQuery) -> SearchResult:
        query = query.normalised()
        empty = SearchResult(ids=[], total=0, page=query.page, pages=1, facets={},
                             highlights={}, suggestion=None)
        with self._reading() as connection:
            if not self._ready(connection):
                empty.ready = False
                return empty
            match = self._match(connection, query)
            if match is None:
                return empty
            clauses, analysed, conditions, filters = match
            total, facets = self._facets(connection, conditions, filters,
                                         query.today or local_today())
            pages = max(1, -(-total // query.per_page))
            ids: list[int] = []
            if total and query.page <= pages:
                ids = list(connection.scalars(
                    select(D.project_id).where(*conditions, *filters.values())
                    .order_by(*self._order(query.sort, analysed))
                    .limit(query.per_page).offset((query.page - 1) * query.per_page)))
            highlights = (self._highlights(connection, ids, analysed)
                          if query.text and ids else {})
            suggested = (self._suggest(connection, clauses)
                         if query.text and total < 3 else None)
        return SearchResult(ids=ids, total=total, page=query.page, pages=pages, facets=facets,
                            highlights=highlights, suggestion=suggested)

    def matching_ids(self, query: SearchQuery) -> list[int]:
        """Every matching project id, in the query's order (for exports and feeds)."""
        query = query.normalised()
        with self._reading() as connection:
            if not self._ready(connection):
                return []
            match = self._match(connection, query)
            if match is None:
                return []
            _clauses, analysed, conditions, filters = match
            return list(connection.scalars(
                select(D.project_id).where(*conditions, *filters.values())
                .order_by(*self._order(query.sort, analysed))))

    @staticmethod
    def _facets(connection: Connection, conditions: list[ColumnElement],
                filters: dict[str, ColumnElement], today
                ) -> tuple[int, dict[str, list[tuple[str, int]]]]:
        """(total, facet → (value, count), most frequent first), in one statement: each facet
        counted with every filter but its own (disjunctive: a selected value's siblings keep
        their counts), the total with all of them."""
        matched = select(
            D.status, D.themes, D.sources, D.sponsor_kind, D.year, D.uses_ai, D.has_results,
            _overdue(today).label("overdue"),
            *(condition.label(f"f_{name}") for name, condition in filters.items()),
        ).where(*conditions).cte("matched")
        m = matched.c

        def others(facet: str | None) -> list:
            return [m[f"f_{name}"] for name in filters if name != facet]

        values = {
            "status": m.status, "sponsor_kind": m.sponsor_kind, "year": cast(m.year, Text),
            "ai": case((m.uses_ai, "oui"), else_="non"),
            "results": case((m.has_results, "oui"), else_="non"),
            "overdue": case((m.overdue, "oui"), else_="non"),
        }
        parts = [select(literal("", Text).label("facet"), literal("", Text).label("value"),
                        func.count().label("n")).select_from(matched).where(*others(None))]
        for facet in FACETS:
            if facet in ("theme", "source"):
                column = m.themes if facet == "theme" else m.sources
                unnested = select(func.unnest(column).label("value")).where(
                    *others(facet)).subquery()
                parts.append(select(literal(facet, Text), unnested.c.value, func.count())
                             .group_by(unnested.c.value))
            else:
                value = values[facet]
                parts.append(select(literal(facet, Text), value, func.count())
                             .select_from(matched).where(*others(facet)).group_by(value))
        total = 0
        counts: dict[str, list[tuple[str, int]]] = {facet: [] for facet in FACETS}
        for facet, value, count in connection.execute(union_all(*parts)):
            if not facet:
                total = count
            elif value and count:
                counts[facet].append((value, count))
        return total, {facet: sorted(found, key=lambda kv: (-kv[1], kv[0]))
                       for facet, found in counts.items()}

    @staticmethod
    def _highlights(connection: Connection, ids: list[int],
                    analysed: list[analysis.Analysed]) -> dict[int, str]:
        """Snippets with the matched words in ``<mark>``, for the page's projects only: from
        the summary, else the title, else none."""
        ranked = analysis.rank_query(analysed)
        if not ranked:
            return {}
        query = _tsquery(ranked)

        def hidden(column: ColumnElement) -> ColumnElement:
            return func.translate(column, analysis.GLUE, analysis.STAND_INS)

        snippets: dict[int, str] = {}
        for project_id, summary, title in connection.execute(select(
                D.project_id,
                func.ts_headline(CONFIG, hidden(D.summary), query, SUMMARY_HEADLINE),
                func.ts_headline(CONFIG, hidden(D.title), query, TITLE_HEADLINE),
        ).where(D.project_id.in_(ids))):
            found = analysis.snippet(summary) or analysis.snippet(title)
            if found:
                snippets[project_id] = found
        return snippets

    @staticmethod
    def _suggest(connection: Connection, clauses: list[Clause]) -> str | None:
        """The query with its unknown words replaced by the nearest known word, or None when
        every word is known (or nothing is near)."""
        corrections: dict[str, str] = {}
        for clause in clauses:
            if not clause.correctable:
                continue
            lowered = clause.text.lower()
            known, nearest = connection.execute(_SUGGEST, {
                "word": lowered, "folded": fold(lowered), "config": schema.CONFIG,
                "similarity": SUGGESTION_SIMILARITY}).one()
            if not known and nearest:
                corrections[clause.text] = nearest
        return suggestion(clauses, corrections)
