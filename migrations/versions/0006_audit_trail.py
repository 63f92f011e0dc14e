"""The audit trail: an append-only table chained by SHA-256 hashes, and its head row.

The database itself refuses to change a row (UPDATE) and to delete one that no checkpoint
covers (a checkpoint row, written by ``flask audit purge`` before it deletes, names the last
row it removes): triggers on SQLite and PostgreSQL alike. In production the application's role
should also get only INSERT and SELECT on ``audit_events`` (docs/deploy.md).

Revision ID: 0006_audit_trail
Revises: 0005_search_postgres
Create Date: 2026-12-04 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_audit_trail"
down_revision = "0005_search_postgres"
branch_labels = None
depends_on = None

REFUSE_UPDATE = "the audit trail is append-only: its rows cannot be changed"
REFUSE_DELETE = "the audit trail is append-only: only rows behind a checkpoint can be deleted"
# A row may be deleted only when a checkpoint covers it (and the checkpoint stays).
UNCOVERED = ("NOT EXISTS (SELECT 1 FROM audit_events AS checkpoint "
             "WHERE checkpoint.covers_through >= OLD.id AND checkpoint.id > OLD.id)")

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, '{REFUSE_UPDATE}'); END""",
    f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        WHEN {UNCOVERED}
        BEGIN SELECT RAISE(ABORT, '{REFUSE_DELETE}'); END""",
)
POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                RAISE EXCEPTION '{REFUSE_UPDATE}';
            END IF;
            IF {UNCOVERED} THEN
                RAISE EXCEPTION '{REFUSE_DELETE}';
            END IF;
            RETURN OLD;
        END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_refuse()""",
)


def create_triggers(bind) -> None:
    statements = POSTGRES_TRIGGERS if bind.dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in statements:
        bind.exec_driver_sql(statement)


def drop_triggers(bind) -> None:
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS audit_events_refuse()")
    else:
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "audit_events",
        sa.Column("id", big, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("covers_through", big, nullable=True),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])
    op.create_index(op.f("ix_audit_events_action"), "audit_events", ["action"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", big, nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    create_triggers(op.get_bind())


def downgrade() -> None:
    drop_triggers(op.get_bind())
    op.drop_table("audit_head")
    op.drop_index(op.f("ix_audit_events_action"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
