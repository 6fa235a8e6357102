"""The audit chain in the store: append inside the caller's transaction, read back, verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vigil.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    ChainVerdict,
    canonical_json,
    event_hash,
    verify_chain,
)
from vigil.domain.ids import iso
from vigil.store.tables import AuditRecord


class AuditLog:
    """Appends to the chain inside one transaction.

    The first append takes the store's writer lock (SQLite: the transaction is already IMMEDIATE;
    PostgreSQL: an advisory lock), so no other transaction can read the same head and fork the chain.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._head: tuple[int, str] | None = None

    def _lock_head(self) -> tuple[int, str]:
        if self._head is None:
            if self.session.get_bind().dialect.name == "postgresql":
                self.session.execute(text("SELECT pg_advisory_xact_lock(7431)"))
            row = self.session.execute(
                select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
            ).first()
            self._head = (row[0], row[1]) if row else (0, GENESIS_HASH)
        return self._head

    def append(
        self,
        actor: str,
        action: str,
        subject_type: str,
        subject_id: str,
        payload: dict[str, Any],
        at: datetime,
    ) -> AuditEvent:
        """Record that ``actor`` did ``action`` to the subject; returns the chained event."""
        seq, prev_hash = self._lock_head()
        seq += 1
        stamp = iso(at)
        # round-trip through canonical JSON so what is hashed is exactly what is stored and re-read
        body = canonical_json(payload)
        stored_payload = json.loads(body)
        digest = event_hash(prev_hash, seq, stamp, actor, action, subject_type, subject_id, stored_payload)
        self.session.add(
            AuditRecord(
                seq=seq,
                at=stamp,
                actor=actor,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                payload=body,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        self._head = (seq, digest)
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
