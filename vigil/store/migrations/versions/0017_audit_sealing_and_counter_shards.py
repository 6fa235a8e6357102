"""audit events are sealed into the chain apart from their writers; daily counters are sharded

Until now every transaction that audited anything took one advisory lock (PostgreSQL) to read the
chain's head and write the next events, so every writer of the cluster queued behind it. Writers now
insert their events into ``audit_unsealed`` without a position or hash, and a sealer, one at a time
(the row lock of ``audit_chain_head``), gives them their ``seq`` and hashes in ``audit_events``.
Existing events stay as they are; the head starts at the last of them. ``audit_checkpoints`` records
how far the chain has been verified, so that a verification need not walk it all again.

The daily counters gain a ``shard`` column in their key, so that concurrent transactions counting
the same figure mostly update different rows; existing rows become shard 0.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
COUNTER_KEY = ("day", "metric", "category", "action", "source", "territory", "automated")


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "audit_unsealed",
        _id(),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_unsealed")),
    )
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_checkpoints",
        _id(),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("events_checked", sa.BigInteger(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    # the head starts at the last event already chained (or the genesis of an empty chain)
    last = (
        op.get_bind().execute(sa.text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")).first()
    )
    op.bulk_insert(
        head, [{"id": 1, "seq": last[0] if last else 0, "hash": last[1] if last else GENESIS_HASH}]
    )

    with op.batch_alter_table("daily_counters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shard", sa.Integer(), nullable=False, server_default="0"))
        batch_op.drop_constraint("pk_daily_counters", type_="primary")
        batch_op.create_primary_key("pk_daily_counters", [*COUNTER_KEY, "shard"])


def downgrade() -> None:
    # the shards of one figure are added back into one row before the column goes
    counters = sa.table(
        "daily_counters",
        *(sa.column(c, sa.String) for c in COUNTER_KEY),
        sa.column("shard", sa.Integer),
        sa.column("value", sa.BigInteger),
    )
    keys = [counters.c[c] for c in COUNTER_KEY]
    totals = op.get_bind().execute(sa.select(*keys, sa.func.sum(counters.c.value)).group_by(*keys)).all()
    op.execute(counters.delete())
    with op.batch_alter_table("daily_counters", schema=None) as batch_op:
        batch_op.drop_constraint("pk_daily_counters", type_="primary")
        batch_op.drop_column("shard")
        batch_op.create_primary_key("pk_daily_counters", list(COUNTER_KEY))
    if totals:
        plain = sa.table(
            "daily_counters",
            *(sa.column(c, sa.String) for c in COUNTER_KEY),
            sa.column("value", sa.BigInteger),
        )
        op.bulk_insert(
            plain,
            [{**dict(zip(COUNTER_KEY, row[:-1], strict=True)), "value": int(row[-1])} for row in totals],
        )
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_chain_head")
    # events appended but never sealed have no place in the old schema: seal before downgrading
    op.drop_table("audit_unsealed")
