"""a retroactive job's chunk is claimed by one process at a time, for a lease

With several `vigil serve` processes on one PostgreSQL, each used to match the same chunk of the same
job and all but one rolled back after doing the work. A process now claims the job until
``claimed_until`` before it matches a chunk outside the transaction; the claim ends when it records
the chunk, or expires so that another process takes a dead one's job over.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("retro_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("retro_jobs", schema=None) as batch_op:
        batch_op.drop_column("claimed_until")
