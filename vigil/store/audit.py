"""The audit chain in the store: append inside the caller's transaction, read back, verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session

from vigil.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    ChainVerdict,
    canonical_json,
    event_hash,
    verify_chain,
)
from vigil.domain.events import AuditAction
from vigil.domain.ids import iso
from vigil.store.tables import AuditRecord

_CHAIN = "vigil.audit_chain"


@dataclass(slots=True)
class _PendingChain:
    """The chain's head as this transaction sees it, and the events it has yet to write."""

    head: tuple[int, str]
    rows: list[dict[str, Any]] = field(default_factory=list)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    # one multi-row INSERT per transaction instead of one ORM object per event: at a thousand
    # decisions a batch this is a large share of the pipeline's time
    pending: _PendingChain | None = session.info.get(_CHAIN)
    if pending is not None and pending.rows:
        session.execute(insert(AuditRecord), pending.rows)
        pending.rows.clear()


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_CHAIN, None)


class AuditLog:
    """Appends to the chain inside the caller's transaction; the events are written at commit.

    The first append of a transaction takes the store's writer lock (SQLite: the transaction is
    already IMMEDIATE; PostgreSQL: an advisory lock), so no other transaction can read the same head
    and fork the chain. Every AuditLog on one session shares that transaction's head.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def hold(self) -> None:
        """Take the writer lock now, before the writes this event will record.

        Bank hashes are numbered as they are inserted; holding the lock first makes them commit in
        that order too, so a reader that has seen hash N has seen every hash below N.
        """
        self._pending()

    def _pending(self) -> _PendingChain:
        pending: _PendingChain | None = self.session.info.get(_CHAIN)
        if pending is None:
            if self.session.get_bind().dialect.name == "postgresql":
                self.session.execute(text("SELECT pg_advisory_xact_lock(7431)"))
            row = self.session.execute(
                select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
            ).first()
            pending = _PendingChain((row[0], row[1]) if row else (0, GENESIS_HASH))
            self.session.info[_CHAIN] = pending
        return pending

    def append(
        self,
        actor: str,
        action: AuditAction,
        subject_type: str,
        subject_id: str,
        payload: dict[str, Any],
        at: datetime,
    ) -> AuditEvent:
        """Record that ``actor`` did ``action`` to the subject; returns the chained event."""
        pending = self._pending()
        seq, prev_hash = pending.head
        seq += 1
        stamp = iso(at)
        # round-trip through canonical JSON so what is hashed is exactly what is stored and re-read
        body = canonical_json(payload)
        stored_payload = json.loads(body)
        digest = event_hash(prev_hash, seq, stamp, actor, action, subject_type, subject_id, stored_payload)
        pending.rows.append(
            {
                "seq": seq,
                "at": stamp,
                "actor": actor,
                "action": action,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "payload": body,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        pending.head = (seq, digest)
        return AuditEvent(
            seq, stamp, actor, action, subject_type, subject_id, stored_payload, prev_hash, digest
        )


def _event(record: AuditRecord) -> AuditEvent:
    return AuditEvent(
        seq=record.seq,
        at=record.at,
        actor=record.actor,
        action=record.action,
        subject_type=record.subject_type,
        subject_id=record.subject_id,
        payload=json.loads(record.payload),
        prev_hash=record.prev_hash,
        hash=record.hash,
    )


def iter_events(session: Session, after: int = 0, batch: int = 5000) -> Iterator[AuditEvent]:
    """Every event after ``after`` in order, read in batches so a long chain fits in memory."""
    while True:
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.seq > after).order_by(AuditRecord.seq).limit(batch)
        ).all()
        if not records:
            return
        for record in records:
            yield _event(record)
        after = records[-1].seq


def list_events(
    session: Session, after: int = 0, limit: int = 100, subject_id: str | None = None
) -> list[AuditEvent]:
    query = select(AuditRecord).where(AuditRecord.seq > after)
    if subject_id is not None:
        query = query.where(AuditRecord.subject_id == subject_id)
    return [_event(r) for r in session.scalars(query.order_by(AuditRecord.seq).limit(limit))]


def verify(session: Session) -> ChainVerdict:
    """Walk the whole chain and say whether it is intact, or where it first breaks."""
    return verify_chain(iter_events(session))
