"""A project's published flag: drafts made in the back-office, and projects unpublished
there, are hidden from every public page, the search, the exports, the sitemap and the figures.
Every existing project is published.

Revision ID: 0009_project_published
Revises: 0008_objection_review
Create Date: 2026-12-04 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_project_published"
down_revision = "0008_objection_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("published", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
        batch.create_index(batch.f("ix_projects_published"), ["published"])


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_index(batch.f("ix_projects_published"))
        batch.drop_column("published")
