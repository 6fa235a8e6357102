"""retroactive matching jobs; PDQ quality of content hashes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("content_hashes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality", sa.Integer(), nullable=True))
    op.create_table(
        "retro_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("first_hash_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash_id", sa.BigInteger(), nullable=False),
        sa.Column("content_cursor", sa.BigInteger(), nullable=False),
        sa.Column("content_last", sa.BigInteger(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["banks.id"], name=op.f("fk_retro_jobs_bank_id_banks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_jobs")),
    )
    with op.batch_alter_table("retro_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retro_jobs_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_retro_jobs_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("retro_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retro_jobs_state"))
        batch_op.drop_index(batch_op.f("ix_retro_jobs_bank_id"))
    op.drop_table("retro_jobs")
    with op.batch_alter_table("content_hashes", schema=None) as batch_op:
        batch_op.drop_column("quality")
