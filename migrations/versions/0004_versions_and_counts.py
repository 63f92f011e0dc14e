"""The register's version (one row, moved by every register write) and the objection filing
counts the public statistics read; both filled from what the database already holds.

Revision ID: 0004_versions_and_counts
Revises: 0003_objection
Create Date: 2026-12-04 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_versions_and_counts"
down_revision = "0003_objection"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_state")),
    )
    # The latest dated change: the newest published version or organisation change.
    op.execute(
        "INSERT INTO registry_state (id, version, changed_at) SELECT 1, "
        "(SELECT count(*) FROM project_revisions) + (SELECT count(*) FROM organisations), "
        "(SELECT max(moment) FROM (SELECT max(created_at) AS moment FROM project_revisions "
        "UNION ALL SELECT max(updated_at) FROM organisations) AS moments)")
    op.create_table(
        "objection_filing_counts",
        sa.Column("month_filed", sa.String(length=7), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("filings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month_filed", "age_band", "sex",
                                name=op.f("pk_objection_filing_counts")),
    )
    op.execute(
        "INSERT INTO objection_filing_counts (month_filed, age_band, sex, filings) "
        "SELECT month_filed, age_band, sex, count(*) FROM objections "
        "GROUP BY month_filed, age_band, sex")


def downgrade() -> None:
    op.drop_table("objection_filing_counts")
    op.drop_table("registry_state")
