"""The PostgreSQL search index's writes and state: rows written in the caller's transaction,
rebuilds in one transaction, the version HTTP validators follow.

* A save's documents are written through the save's own connection (``index_in``), before it
  commits: the index commits, or rolls back, with the register.
* Every write replaces the state row's token and moment (``version``), in the same
  transaction; concurrent writers wait for each other on that row, which also orders them.
* A rebuild deletes and rewrites every row in one transaction, holding an EXCLUSIVE lock on
  the documents table: searches go on with the rows before it (MVCC) until it commits, and a
  save's write waits for it, then lands on the new rows.
* Vocabulary words are inserted in sorted order, so two transactions adding the same new
  words never wait for each other in a circle.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from registry.search.postgres import analysis, schema

log = logging.getLogger("registry.search.postgres")

BATCH = 500  # rows per statement in a rebuild
UNUSABLE_WARNING_INTERVAL = 60.0  # seconds between two "no usable index" warnings

_UPSERT = text("""
INSERT INTO search_documents (project_id, reference, title, summary, title_sort, sponsor_slug,
    sponsor_kind, status, themes, sources, year, uses_ai, has_results, results_due_on, updated,
    document)
VALUES (:project_id, :reference, :title, :summary, :title_sort, :sponsor_slug, :sponsor_kind,
    :status, CAST(:themes AS text[]), CAST(:sources AS text[]), :year, :uses_ai, :has_results,
    :results_due_on, :updated,
    setweight(to_tsvector(CAST(:config AS regconfig), :text_a), 'A')
    || setweight(to_tsvector(CAST(:config AS regconfig), :text_b), 'B')
    || setweight(to_tsvector(CAST(:config AS regconfig), :text_c), 'C')
    || setweight(to_tsvector(CAST(:config AS regconfig), :text_d), 'D'))
ON CONFLICT (project_id) DO UPDATE SET reference = EXCLUDED.reference,
    title = EXCLUDED.title, summary = EXCLUDED.summary, title_sort = EXCLUDED.title_sort,
    sponsor_slug = EXCLUDED.sponsor_slug, sponsor_kind = EXCLUDED.sponsor_kind,
    status = EXCLUDED.status, themes = EXCLUDED.themes, sources = EXCLUDED.sources,
    year = EXCLUDED.year, uses_ai = EXCLUDED.uses_ai, has_results = EXCLUDED.has_results,
    results_due_on = EXCLUDED.results_due_on, updated = EXCLUDED.updated,
    document = EXCLUDED.document
""")
# Words PostgreSQL keeps no lexeme of (its own stop words) are left out: a suggestion must
# be a word a search can find.
_WORDS = text("""
INSERT INTO search_words (word, folded)
SELECT w, f FROM unnest(CAST(:words AS text[]), CAST(:folded AS text[])) AS v(w, f)
WHERE to_tsvector(CAST(:config AS regconfig), w) <> ''::tsvector
ORDER BY w
ON CONFLICT (word) DO NOTHING
""")
_MARK = text("""
UPDATE search_state SET token = :token, changed_at = :moment,
    schema_version = CASE WHEN :rebuilt OR schema_version = 0 THEN :version
                          ELSE schema_version END
WHERE id = 1
""")


class PostgresStore:
    """The index in the register's database (``engine``: the app's); ``PostgresBackend``
    adds the searches."""

    transactional = True  # a save's documents are written in its transaction

    def __init__(self, engine: Engine):
        if engine.dialect.name != "postgresql":
            raise RuntimeError("SEARCH_BACKEND=postgres needs DATABASE_URL on PostgreSQL "
                               f"(postgresql://…), not {engine.dialect.name}")
        self.engine = engine
        self.lexemes = analysis.Lexemes(schema.CONFIG)
        self._warned_at = -math.inf

    # -- writes
    @staticmethod
    def _write(connection: Connection, documents: list[dict]) -> None:
        rows = sorted((analysis.row(doc) for doc in documents),
                      key=lambda r: r["project_id"])
        connection.execute(_UPSERT, [{**r, "config": schema.CONFIG} for r in rows])
        words = sorted(set().union(*(analysis.spelling_words(doc) for doc in documents)))
        if words:
            connection.execute(_WORDS, {"words": words, "config": schema.CONFIG,
                                        "folded": [analysis.fold(w) for w in words]})

    @staticmethod
    def _mark(connection: Connection, rebuilt: bool = False) -> None:
        """Record that the index changed, in the writing transaction: a new token and the
        moment (``version``); the rows' version when a rebuild wrote them all, or when these
        are the first rows ever written (the table was empty: they are all current)."""
        connection.execute(_MARK, {"token": uuid.uuid4().hex, "moment": datetime.now(UTC),
                                   "rebuilt": rebuilt, "version": schema.SCHEMA_VERSION})

    def index_in(self, connection: Connection, documents: Iterable[dict]) -> int:
        """Add or replace ``documents`` in the transaction of ``connection`` (a save's); the
        caller commits."""
        docs = list(documents)
        if not docs:
            return 0
        self._write(connection, docs)
        self._mark(connection)
        return len(docs)

    def index(self, documents: Iterable[dict]) -> int:
        docs = list(documents)
        if not docs:
            return 0
        with self.engine.begin() as connection:
            return self.index_in(connection, docs)

    def remove(self, ids: Iterable[int]) -> None:
        with self.engine.begin() as connection:
            self.remove_in(connection, ids)

    def remove_in(self, connection: Connection, ids: Iterable[int]) -> None:
        """Remove projects in the transaction of ``connection`` (an unpublishing)."""
        keys = sorted({int(i) for i in ids})
        if not keys:
            return
        connection.execute(schema.documents.delete().where(
            schema.documents.c.project_id.in_(keys)))
        self._mark(connection)

    def rebuild(self, documents: Iterable[dict],
                progress: Callable[[int], None] | None = None) -> int:
        """Replace every row in one transaction; searches see the previous rows until it
        commits, and saves wait for it."""
        count = 0
        with self.engine.begin() as connection:
            connection.execute(text("LOCK TABLE search_documents IN EXCLUSIVE MODE"))
            connection.execute(schema.documents.delete())
            connection.execute(schema.words.delete())
            iterator = iter(documents)
            while batch := list(islice(iterator, BATCH)):
                self._write(connection, batch)
                count += len(batch)
                if progress:
                    progress(len(batch))
            self._mark(connection, rebuilt=True)
        return count

    # -- state
    def version(self) -> tuple[str, datetime | None]:
        """(token, moment) of the index's last change: one primary-key read."""
        with self.engine.connect() as connection:
            found = connection.execute(select(schema.state.c.token, schema.state.c.changed_at)
                                       .where(schema.state.c.id == 1)).first()
        return (found[0], found[1]) if found else ("none", None)

    def _schema_version(self, connection: Connection) -> int | None:
        """The version of what the rows hold (0: never written), or None without the tables
        (the migration has not run)."""
        try:
            return connection.scalar(select(schema.state.c.schema_version)
                                     .where(schema.state.c.id == 1))
        except DBAPIError:  # the callers then return at once: nothing else runs in it
            connection.rollback()
            return None

    def _ready(self, connection: Connection) -> bool:
        """Whether the rows are usable; if not, a warning (at most once a minute) says what
        to run, and searches answer nothing."""
        found = self._schema_version(connection)
        if found == schema.SCHEMA_VERSION:
            return True
        now = time.monotonic()
        if now - self._warned_at >= UNUSABLE_WARNING_INTERVAL:
            self._warned_at = now
            if found is None:
                log.warning("no search tables in the database: run `flask db upgrade`, then "
                            "`flask registry reindex`")
            else:
                log.warning("the search index is empty or was built by an older version: "
                            "run `flask registry reindex`")
        return False

    def exists(self) -> bool:
        """The tables are there and their rows were written by this version of the code."""
        with self.engine.connect() as connection:
            return self._schema_version(connection) == schema.SCHEMA_VERSION

    # -- reads of the whole index
    def stamps(self) -> dict[int, int]:
        """Project id → ``registry.search.stamp`` of the version indexed (empty without the
        tables), so set-up can tell an index that drifted from the database."""
        with self.engine.connect() as connection:
            if self._schema_version(connection) is None:
                return {}
            return dict(connection.execute(select(schema.documents.c.project_id,
                                                  schema.documents.c.updated)).all())

    def ids(self) -> set[int]:
        return set(self.stamps())

    def count(self) -> int:
        with self.engine.connect() as connection:
            if self._schema_version(connection) is None:
                return 0
            return connection.scalar(select(func.count()).select_from(schema.documents)) or 0
