"""exactly one version of a policy is in force: a partial unique index on policy_versions

Before this, two concurrent changes of one policy (two ``vigil serve`` processes on one PostgreSQL)
could both read the same version in force and both put a new one in force, so several versions of
one policy were in force at once. A database that went through that is repaired first, the same way
every time: of a policy's versions in force, the highest stays in force and the others are marked
no longer in force (their rows and texts are kept, as for any replaced version). Then the index
``uq_policy_versions_one_in_force`` (``policy_id`` where ``active``) refuses a second one for good.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    versions = sa.table(
        "policy_versions",
        sa.column("policy_id", sa.String),
        sa.column("version", sa.Integer),
        sa.column("active", sa.Boolean),
    )
    newer = versions.alias("newer")
    # a version in force with a higher version of the same policy also in force steps down
    op.execute(
        versions.update()
        .where(
            versions.c.active.is_(True),
            sa.exists()
            .where(
                newer.c.policy_id == versions.c.policy_id,
                newer.c.active.is_(True),
                newer.c.version > versions.c.version,
            )
            .correlate(versions),
        )
        .values(active=False)
    )
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_policy_versions_one_in_force",
            ["policy_id"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )


def downgrade() -> None:
    with op.batch_alter_table("policy_versions", schema=None) as batch_op:
        batch_op.drop_index("uq_policy_versions_one_in_force")
