"""statements of reasons and their submission queue, daily counters, evidence, hotline reports

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_counters",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("metric", sa.String(length=48), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("territory", sa.String(length=8), nullable=False),
        sa.Column("automated", sa.String(length=16), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "metric",
            "category",
            "action",
            "source",
            "territory",
            "automated",
            name=op.f("pk_daily_counters"),
        ),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=True),
        sa.Column("content_id", sa.String(length=200), nullable=True),
        sa.Column("media_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["content_id"], ["content_items.id"], name=op.f("fk_evidence_content_id_content_items")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_evidence_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_content_id"), ["content_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_decision_id"), ["decision_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "hotline_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("content_id", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("report_xml", sa.Text(), nullable=False),
        sa.Column("report_id", sa.String(length=64), nullable=True),
        sa.Column("file_ids", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["content_id"], ["content_items.id"], name=op.f("fk_hotline_reports_content_id_content_items")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_hotline_reports_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_reports")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_hotline_reports_decision_id")),
    )
    with op.batch_alter_table("hotline_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotline_reports_content_id"), ["content_id"], unique=False)
        batch_op.create_index("ix_hotline_reports_due", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "statements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("puid", sa.String(length=500), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("content_id", sa.String(length=200), nullable=True),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("superseded_by", sa.String(length=32), nullable=True),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"], ["content_items.id"], name=op.f("fk_statements_content_id_content_items")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_statements_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_statements_decision_id")),
        sa.UniqueConstraint("puid", name=op.f("uq_statements_puid")),
    )
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statements_content_id"), ["content_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_statements_created_at"), ["created_at"], unique=False)

    op.create_table(
        "statement_submissions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("statement_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=False),
        sa.Column("rejection", sa.JSON(), nullable=True),
        sa.Column("database_uuid", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["statements.id"], name=op.f("fk_statement_submissions_statement_id_statements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_submissions")),
        sa.UniqueConstraint("statement_id", name=op.f("uq_statement_submissions_statement_id")),
    )
    with op.batch_alter_table("statement_submissions", schema=None) as batch_op:
        batch_op.create_index("ix_statement_submissions_due", ["state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_table("hotline_reports")
    op.drop_table("evidence")
    op.drop_table("daily_counters")
    op.drop_table("statement_submissions")
    op.drop_table("statements")
