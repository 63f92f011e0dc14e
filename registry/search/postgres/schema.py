"""The PostgreSQL search index's tables, as the queries read them.

The migration ``migrations/versions/0005_search_postgres.py`` creates them (and the
extensions and the text search configuration); these declarations only let the backend write
its queries with SQLAlchemy. They are in their own ``MetaData``, not the models' ``Base``:
the tables exist on PostgreSQL only, and the tests' clean-up and Alembic's autogenerate read
``Base.metadata`` (``tests/registry/test_search_postgres.py`` checks the two agree).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR

# The text search configuration the migration creates: French (Snowball stemmer, stop words)
# with accents folded by ``unaccent`` before stemming.
CONFIG = "hdh_french"
# What the rows hold, as this code writes them: a change to how a document becomes a row
# (weights, fields, tokens) bumps it, so ``exists()`` is false and ``flask registry reindex
# --if-missing`` rebuilds. 0 is "never written" (the migration's value).
SCHEMA_VERSION = 1

metadata = MetaData()

# One row per project: what the search reads (filters, facets, sorts, the weighted text).
documents = Table(
    "search_documents", metadata,
    Column("project_id", Integer, primary_key=True, autoincrement=False),
    Column("reference", String(20, collation="C"), nullable=False),  # "HDH-2024-0123"
    Column("title", Text, nullable=False),              # for snippets (``ts_headline``)
    Column("summary", Text, nullable=False),
    Column("title_sort", Text(collation="C"), nullable=False),  # folded, lower case
    Column("sponsor_slug", String(160), nullable=False),
    Column("sponsor_kind", String(40), nullable=False),
    Column("status", String(40), nullable=False),
    Column("themes", ARRAY(Text), nullable=False),
    Column("sources", ARRAY(Text), nullable=False),
    Column("year", Integer),
    Column("uses_ai", Boolean, nullable=False),
    Column("has_results", Boolean, nullable=False),
    Column("results_due_on", Date),
    Column("updated", BigInteger, nullable=False),      # ``registry.search.stamp``
    Column("document", TSVECTOR, nullable=False),       # weighted A (title) to D
)

# The words of the indexed texts, accents kept (suggestions offer real words), with their
# folded form, which the trigram index (``pg_trgm``) compares.
words = Table(
    "search_words", metadata,
    Column("word", Text, primary_key=True),
    Column("folded", Text, nullable=False),
)

# One row (id 1): the index's version for HTTP validators (a new token at every write, in
# the write's transaction) and the version of what its rows hold (``SCHEMA_VERSION``).
state = Table(
    "search_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("token", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True)),
    Column("schema_version", Integer, nullable=False),
)
