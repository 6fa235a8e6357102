"""video hashes: a bank's vPDQ frames, and when each frame of seen content is shown

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_hashes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frames", sa.Text(), nullable=True))
    with op.batch_alter_table("content_hashes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frame_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("content_hashes", schema=None) as batch_op:
        batch_op.drop_column("frame_seconds")
    with op.batch_alter_table("bank_hashes", schema=None) as batch_op:
        batch_op.drop_column("frames")
