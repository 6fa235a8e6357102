"""a notice may name content the platform has not sent yet: it waits for it

Content is the platform's word alone, so a trusted flagger's notice about an item Vigil has not
seen is kept, awaiting the platform's item, instead of carrying the item itself; its ``content_id``
can no longer reference a stored item.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_notices_content_id_content_items"), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_notices_content_id_content_items"), "content_items", ["content_id"], ["id"]
        )
