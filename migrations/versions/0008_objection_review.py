"""Objection review by staff: postal addresses and letters (filings without e-mail: the paper
form, the telephone), and wrong follow-up codes counted per reference and per connection.

Revision ID: 0008_objection_review
Revises: 0007_staff_accounts
Create Date: 2026-12-04 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_objection_review"
down_revision = "0007_staff_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "objection_postal_addresses",
        sa.Column("objection_id", sa.Integer(), nullable=False),
        sa.Column("address_sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["objection_id"], ["objections.id"],
                                name=op.f("fk_objection_postal_addresses_objection_id_objections"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("objection_id", name=op.f("pk_objection_postal_addresses")),
    )
    op.create_table(
        "objection_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("objection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("dedup", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("printed_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["objection_id"], ["objections.id"],
                                name=op.f("fk_objection_letters_objection_id_objections"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection_letters")),
        sa.UniqueConstraint("objection_id", "kind", "dedup",
                            name="one_letter_per_event"),
    )
    op.create_index(op.f("ix_objection_letters_objection_id"), "objection_letters",
                    ["objection_id"])
    op.create_index(op.f("ix_objection_letters_printed_at"), "objection_letters",
                    ["printed_at"])
    op.create_table(
        "objection_followup_failures",
        sa.Column("objection_id", sa.Integer(), nullable=False),
        sa.Column("address_key", sa.String(length=32), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["objection_id"], ["objections.id"],
                                name=op.f("fk_objection_followup_failures_objection_id_objections"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("objection_id", "address_key",
                                name=op.f("pk_objection_followup_failures")),
    )


def downgrade() -> None:
    op.drop_table("objection_followup_failures")
    op.drop_index(op.f("ix_objection_letters_printed_at"), table_name="objection_letters")
    op.drop_index(op.f("ix_objection_letters_objection_id"), table_name="objection_letters")
    op.drop_table("objection_letters")
    op.drop_table("objection_postal_addresses")
