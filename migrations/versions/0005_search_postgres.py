"""The PostgreSQL search backend (``SEARCH_BACKEND=postgres``): extensions, the French text
search configuration with accent folding, and the index's tables. PostgreSQL only: on SQLite
this revision does nothing (Whoosh is the search there).

``unaccent`` and ``pg_trgm`` are trusted extensions from PostgreSQL 13: the migrating role
needs the CREATE privilege on the database (or a superuser creates them beforehand; ``IF NOT
EXISTS`` then skips them). See docs/search.md.

The tables start empty: ``flask registry reindex --if-missing`` fills them (the set-up step
``make run`` runs).

Revision ID: 0005_search_postgres
Revises: 0004_versions_and_counts
Create Date: 2026-12-04 17:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_search_postgres"
down_revision = "0004_versions_and_counts"
branch_labels = None
depends_on = None

CONFIG = "hdh_french"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # French (Snowball stemmer and stop words), accents folded first: "hôpitaux", "HOPITAL"
    # and "hôpital" meet on "hopital".
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.french)")
    op.execute(f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} "
               "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem")
    op.execute(f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} "
               "ALTER MAPPING FOR numword, numhword WITH unaccent, simple")
    op.create_table(
        "search_documents",
        sa.Column("project_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reference", sa.String(length=20, collation="C"), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("title_sort", sa.Text(collation="C"), nullable=False),
        sa.Column("sponsor_slug", sa.String(length=160), nullable=False),
        sa.Column("sponsor_kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("themes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("sources", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("uses_ai", sa.Boolean(), nullable=False),
        sa.Column("has_results", sa.Boolean(), nullable=False),
        sa.Column("results_due_on", sa.Date(), nullable=True),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.Column("document", postgresql.TSVECTOR(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name="pk_search_documents"),
    )
    op.create_index("ix_search_documents_document", "search_documents", ["document"],
                    postgresql_using="gin")
    op.create_index("ix_search_documents_reference", "search_documents", ["reference"])
    op.create_index("ix_search_documents_sponsor_slug", "search_documents", ["sponsor_slug"])
    op.create_table(
        "search_words",
        sa.Column("word", sa.Text(), nullable=False),
        sa.Column("folded", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("word", name="pk_search_words"),
    )
    op.create_index("ix_search_words_folded", "search_words", ["folded"],
                    postgresql_using="gin", postgresql_ops={"folded": "gin_trgm_ops"})
    op.create_table(
        "search_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_search_state_one_row"),
        sa.PrimaryKeyConstraint("id", name="pk_search_state"),
    )
    # schema_version 0: nothing written yet (searches say the index is not ready).
    op.execute("INSERT INTO search_state (id, token, changed_at, schema_version) "
               "VALUES (1, 'migrated', NULL, 0)")


def downgrade() -> None:
    if not _postgres():
        return
    op.drop_table("search_state")
    op.drop_index("ix_search_words_folded", table_name="search_words")
    op.drop_table("search_words")
    op.drop_index("ix_search_documents_sponsor_slug", table_name="search_documents")
    op.drop_index("ix_search_documents_reference", table_name="search_documents")
    op.drop_index("ix_search_documents_document", table_name="search_documents")
    op.drop_table("search_documents")
    op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")
    # The extensions stay: other objects of the database may use them.
