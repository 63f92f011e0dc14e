"""The exclusion feed: the published set and its files, the queue of changes (filled by
triggers on ``objections``, so no code path can forget one), the platform's tokens and
extraction reports; on ``objections``, the NIR sealed to the offline escrow key and the first
export that covers each filing.

Revision ID: 0010_exclusions
Revises: 0009_project_published
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_exclusions"
down_revision = "0009_project_published"
branch_labels = None
depends_on = None

IN_FORCE = "('received', 'verified', 'sent_to_platform', 'applied')"
AWAITING_EXPORT_WHERE = "exclusion_sequence IS NULL AND status IN ('received', 'verified')"


def _scope(row: str) -> str:
    return f"CASE WHEN {row}.scope = 'general' THEN 'ALL' ELSE {row}.project_reference END"


def _queue(row: str) -> str:
    return (f"INSERT INTO exclusion_queue (pseudonym, key_id, scope) "
            f"VALUES ({row}.pseudonym, {row}.pseudonym_key_id, {_scope(row)})")


# A change queues the person and scope when the filing enters or leaves the statuses in force,
# or changes pseudonym (re-keying, erasure): then both the old and the new one.
MOVED = (f"(OLD.status IN {IN_FORCE}) <> (NEW.status IN {IN_FORCE}) "
         "OR OLD.pseudonym <> NEW.pseudonym OR OLD.pseudonym_key_id <> NEW.pseudonym_key_id")
RENAMED = "OLD.pseudonym <> NEW.pseudonym OR OLD.pseudonym_key_id <> NEW.pseudonym_key_id"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER objections_queue_insert AFTER INSERT ON objections
        WHEN NEW.status IN {IN_FORCE}
        BEGIN {_queue("NEW")}; END""",
    f"""CREATE TRIGGER objections_queue_update
        AFTER UPDATE OF status, pseudonym, pseudonym_key_id ON objections
        WHEN {MOVED}
        BEGIN
            {_queue("OLD")};
            INSERT INTO exclusion_queue (pseudonym, key_id, scope)
                SELECT NEW.pseudonym, NEW.pseudonym_key_id, {_scope("NEW")} WHERE {RENAMED};
        END""",
)
POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION objections_queue_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_queue("NEW")};
            ELSE
                {_queue("OLD")};
                IF {RENAMED} THEN
                    {_queue("NEW")};
                END IF;
            END IF;
            RETURN NULL;
        END $$""",
    f"""CREATE TRIGGER objections_queue_insert AFTER INSERT ON objections
        FOR EACH ROW WHEN (NEW.status IN {IN_FORCE})
        EXECUTE FUNCTION objections_queue_change()""",
    f"""CREATE TRIGGER objections_queue_update
        AFTER UPDATE OF status, pseudonym, pseudonym_key_id ON objections
        FOR EACH ROW WHEN ({MOVED})
        EXECUTE FUNCTION objections_queue_change()""",
)


def create_triggers(bind) -> None:
    for statement in (POSTGRES_TRIGGERS if bind.dialect.name == "postgresql"
                      else SQLITE_TRIGGERS):
        bind.exec_driver_sql(statement)


def drop_triggers(bind) -> None:
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS objections_queue_insert ON objections")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS objections_queue_update ON objections")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS objections_queue_change()")
    else:
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS objections_queue_insert")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS objections_queue_update")


def _bytewise(length: int):
    """Compared byte by byte on PostgreSQL too (``C`` collation): files' order, index order."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    # Plain ALTER TABLE on both databases (no batch copy of the table on SQLite, which would
    # lose the expression index of one active filing per person and scope).
    op.add_column("objections", sa.Column("nir_sealed", sa.LargeBinary(), nullable=True))
    op.add_column("objections", sa.Column("exclusion_sequence", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_objections_exclusion_sequence"), "objections",
                    ["exclusion_sequence"])
    op.create_index("ix_objections_awaiting_export", "objections", ["status_changed_at"],
                    sqlite_where=sa.text(AWAITING_EXPORT_WHERE),
                    postgresql_where=sa.text(AWAITING_EXPORT_WHERE))
    op.create_table(
        "exclusion_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("compacted_through", sa.Integer(), nullable=False),
        sa.Column("acknowledged_sequence", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusion_state")),
    )
    op.create_table(
        "exclusion_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=13), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusion_queue")),
    )
    op.create_table(
        "exclusion_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", _bytewise(32), nullable=False),
        sa.Column("scope", _bytewise(13), nullable=False),
        sa.Column("pseudonym", _bytewise(64), nullable=False),
        sa.Column("effective_on", sa.String(length=10), nullable=False),
        sa.Column("added_in", sa.Integer(), nullable=False),
        sa.Column("removed_in", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusion_entries")),
    )
    op.create_index(op.f("ix_exclusion_entries_added_in"), "exclusion_entries", ["added_in"])
    op.create_index(op.f("ix_exclusion_entries_removed_in"), "exclusion_entries",
                    ["removed_in"])
    op.create_index("uq_exclusion_entries_current", "exclusion_entries",
                    ["key_id", "scope", "pseudonym"], unique=True,
                    sqlite_where=sa.text("removed_in IS NULL"),
                    postgresql_where=sa.text("removed_in IS NULL"))
    op.create_table(
        "exclusion_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=5), nullable=False),
        sa.Column("previous_sequence", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("additions", sa.Integer(), nullable=False),
        sa.Column("removals", sa.Integer(), nullable=False),
        sa.Column("body_bytes", big, nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("audit_last_id", big, nullable=False),
        sa.Column("audit_last_hash", sa.String(length=64), nullable=False),
        sa.Column("signing_key", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusion_exports")),
        sa.UniqueConstraint("sequence", "kind", name="uq_exclusion_exports_file"),
    )
    op.create_table(
        "platform_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_platform_tokens_token_hash")),
    )
    op.create_table(
        "platform_extractions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_reference", sa.String(length=13), nullable=False),
        sa.Column("extracted_on", sa.Date(), nullable=False),
        sa.Column("exclusion_sequence", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_extractions")),
        sa.UniqueConstraint("project_reference", "extracted_on", "exclusion_sequence",
                            name="uq_platform_extractions"),
    )
    op.create_index(op.f("ix_platform_extractions_project_reference"), "platform_extractions",
                    ["project_reference"])
    op.create_index(op.f("ix_platform_extractions_exclusion_sequence"),
                    "platform_extractions", ["exclusion_sequence"])
    create_triggers(op.get_bind())


def downgrade() -> None:
    drop_triggers(op.get_bind())
    op.drop_index(op.f("ix_platform_extractions_exclusion_sequence"),
                  table_name="platform_extractions")
    op.drop_index(op.f("ix_platform_extractions_project_reference"),
                  table_name="platform_extractions")
    op.drop_table("platform_extractions")
    op.drop_table("platform_tokens")
    op.drop_table("exclusion_exports")
    op.drop_index("uq_exclusion_entries_current", table_name="exclusion_entries")
    op.drop_index(op.f("ix_exclusion_entries_removed_in"), table_name="exclusion_entries")
    op.drop_index(op.f("ix_exclusion_entries_added_in"), table_name="exclusion_entries")
    op.drop_table("exclusion_entries")
    op.drop_table("exclusion_queue")
    op.drop_table("exclusion_state")
    op.drop_index("ix_objections_awaiting_export", table_name="objections")
    op.drop_index(op.f("ix_objections_exclusion_sequence"), table_name="objections")
    op.drop_column("objections", "exclusion_sequence")  # SQLite ≥ 3.35 drops a column itself
    op.drop_column("objections", "nir_sealed")
