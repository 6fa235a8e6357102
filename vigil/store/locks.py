"""Transaction-scoped locks that only the writers of one kind of row take.

There is no lock every writer takes: such a lock serialises the whole cluster (the audit chain's
advisory lock used to). Each lock here has a namespace of its own, so unrelated writers never
queue behind each other, and is released when its transaction ends.

On SQLite there is nothing to take: every write transaction is ``BEGIN IMMEDIATE``
(``vigil.store.db``), so a writer already holds the database's one write lock.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import text
from sqlalchemy.orm import Session


class LockSpace(IntEnum):
    """The namespaces of PostgreSQL's two-key advisory locks (the first key); the second key names
    the thing within it. Numbers are arbitrary but must never be reused for something else."""

    # a notice about an item, or the item itself, being recorded (store/notices.py ``hold_items``);
    # its number predates this enum, and processes of two versions must agree on it
    CONTENT_ITEMS = 7432
    BANK_HASHES = 74_310_001
    DAILY_COUNTERS = 74_310_002


def lock(session: Session, space: LockSpace, key: int = 0, *, shared: bool = False) -> None:
    """Take ``space``/``key`` for the rest of the caller's transaction, waiting for it if need be.

    A shared lock waits only for the exclusive one: holders of the shared lock never wait on each
    other.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    session.execute(text(f"SELECT {function}(:space, :key)"), {"space": int(space), "key": key})
