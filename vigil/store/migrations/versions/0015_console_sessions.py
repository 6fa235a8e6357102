"""console sessions and reviewer wellness in the database, shared by every serving process

Console sessions (found by the SHA-256 of the cookie's token), each reviewer's wellness setting per
UTC day and the sensitive cases they opened that day move out of the serving process's memory, so
that a session signed in on one ``vigil serve`` works on all, and signing out ends it on all.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("bound_to", sa.String(length=200), nullable=True),
        sa.Column("issuer", sa.String(length=2000), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flash_kind", sa.String(length=16), nullable=True),
        sa.Column("flash_text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_sessions_key_id"), ["key_id"], unique=False)

    op.create_table(
        "reviewer_days",
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reveal_sensitive", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("actor", "day", name=op.f("pk_reviewer_days")),
    )
    with op.batch_alter_table("reviewer_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviewer_days_day"), ["day"], unique=False)

    op.create_table(
        "reviewer_exposures",
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("actor", "day", "case_id", name=op.f("pk_reviewer_exposures")),
    )
    with op.batch_alter_table("reviewer_exposures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviewer_exposures_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reviewer_exposures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewer_exposures_day"))
    op.drop_table("reviewer_exposures")
    with op.batch_alter_table("reviewer_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewer_days_day"))
    op.drop_table("reviewer_days")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_key_id"))
        batch_op.drop_index(batch_op.f("ix_console_sessions_expires_at"))
    op.drop_table("console_sessions")
