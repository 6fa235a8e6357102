"""appeals against decisions, and who may not decide an appeal's case

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("excluded_actor", sa.String(length=100), nullable=True))
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("appellant", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_decision_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_appeals_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_appeals_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["result_decision_id"], ["decisions.id"], name=op.f("fk_appeals_result_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeals_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appeals_decision_id"), ["decision_id"], unique=False)


def downgrade() -> None:
    op.drop_table("appeals")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("excluded_actor")
