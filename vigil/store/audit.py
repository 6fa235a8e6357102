"""The audit chain in the store: append inside the caller's transaction, seal, read back, verify.

Appending and chaining are two steps, as in a transparency log. A writer only inserts its events,
unsealed (``audit_unsealed``: no position, no hash), at commit; it reads nothing and locks nothing,
so writers never queue behind each other or behind the sealer. A sealer then takes the unsealed
events in insertion order and gives them their ``seq``, ``prev_hash`` and ``hash`` in
``audit_events``, in one transaction that holds the row lock of the one-row ``audit_chain_head``.
It takes that lock with ``SKIP LOCKED``: a second sealer does not wait, it finds nothing to do, so
two sealers can never fork the chain. An event whose transaction commits late simply gets a later
position than events inserted after it.

On PostgreSQL the sealer is a background duty of ``vigil serve`` (``seal_step``), and readers that
must see every event (listing, verification) seal what is pending first. On SQLite, where one
transaction writes at a time anyway, a transaction's events are sealed as it commits, so the chain
is complete the moment a change is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, delete, event, func, insert, select, update
from sqlalchemy.orm import Session

from vigil.background import PollingThread
from vigil.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    ChainBreak,
    ChainVerdict,
    canonical_json,
    event_hash,
    verify_chain,
)
from vigil.domain.events import AuditAction
from vigil.domain.ids import iso
from vigil.store.db import Store
from vigil.store.tables import AuditChainHead, AuditCheckpoint, AuditRecord, UnsealedAuditRecord

_PENDING = "vigil.audit_pending"
_HEAD_ID = 1
# unsealed events sealed per statement, and per transaction of the background sealer: a batch of a
# thousand decisions appends a few thousand events
SEAL_BATCH = 5000
# how long a reader that must see every event waits for another sealer to finish its batch (the
# sealer's transaction is short; writers are never waited for)
READER_SEAL_WAIT_SECONDS = 5.0
_SEAL_RETRY_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class AppendedEvent:
    """An event as its writer appended it: what it records, not yet its place in the chain (the
    sealer gives it ``seq`` and hashes after the transaction commits)."""

    at: str
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    body: str  # ``payload`` as canonical JSON, exactly as it is stored and hashed


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: list[AppendedEvent] | None = session.info.get(_PENDING)
    if not pending:
        return
    if session.get_bind().dialect.name == "sqlite":
        # one writer at a time: chain this transaction's events now, as they commit
        head = _locked_head(session, wait_seconds=0.0)
        if head is None:
            raise RuntimeError(
                "the audit chain has no head row (audit_chain_head): run 'vigil init' to migrate"
            )
        _seal(session, head, pending)
    else:
        # one multi-row INSERT per transaction instead of one ORM object per event: at a thousand
        # decisions a batch this is a large share of the pipeline's time
        session.execute(
            insert(UnsealedAuditRecord),
            [
                {
                    "at": e.at,
                    "actor": e.actor,
                    "action": e.action,
                    "subject_type": e.subject_type,
                    "subject_id": e.subject_id,
                    "payload": e.body,
                }
                for e in pending
            ],
        )
    pending.clear()


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


class AuditLog:
    """Appends to the chain inside the caller's transaction; the events are written at commit, and
    take their place in the chain when they are sealed (see the module's docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        actor: str,
        action: AuditAction,
        subject_type: str,
        subject_id: str,
        payload: dict[str, Any],
        at: datetime,
    ) -> AppendedEvent:
        """Record that ``actor`` did ``action`` to the subject; returns the event as it is stored."""
        # round-trip through canonical JSON so what is hashed is exactly what is stored and re-read
        body = canonical_json(payload)
        appended = AppendedEvent(iso(at), actor, action, subject_type, subject_id, json.loads(body), body)
        self.session.info.setdefault(_PENDING, []).append(appended)
        return appended


# --- sealing


def _locked_head(session: Session, wait_seconds: float) -> tuple[int, str] | None:
    """The chain's head, row-locked for this transaction; None if another sealer holds it for longer
    than ``wait_seconds`` (PostgreSQL; SQLite's write transaction is the lock already)."""
    deadline = time.monotonic() + wait_seconds
    query = select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == _HEAD_ID)
    while True:
        row = session.execute(query.with_for_update(skip_locked=True)).first()
        if row is not None:
            return (row[0], row[1])
        # no row: another sealer holds it (or, on a database never migrated to 0017, it is missing)
        if time.monotonic() >= deadline:
            return None
        time.sleep(_SEAL_RETRY_SECONDS)


def _seal(session: Session, head: tuple[int, str], events: Sequence[AppendedEvent]) -> tuple[int, str]:
    """Chain ``events`` after ``head`` into ``audit_events`` and move the head; returns the new head."""
    seq, prev_hash = head
    rows: list[dict[str, Any]] = []
    for e in events:
        seq += 1
        digest = event_hash(prev_hash, seq, e.at, e.actor, e.action, e.subject_type, e.subject_id, e.payload)
        rows.append(
            {
                "seq": seq,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "subject_type": e.subject_type,
                "subject_id": e.subject_id,
                "payload": e.body,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    session.execute(insert(AuditRecord), rows)
    session.execute(
        update(AuditChainHead).where(AuditChainHead.id == _HEAD_ID).values(seq=seq, hash=prev_hash)
    )
    return (seq, prev_hash)


def seal_pending(session: Session, *, limit: int | None = None, wait_seconds: float = 0.0) -> int | None:
    """Seal the unsealed events (at most ``limit`` of them) into the chain, in the caller's
    transaction, oldest insertion first; returns how many, or None when another sealer is at work.

    Non-blocking by default: if another transaction holds the chain's head, this one does not wait
    for it (``wait_seconds`` lets a reader that must see every event wait that long for it). Commit
    soon after: the head stays locked, and other sealers skip, until this transaction ends.
    """
    head = _locked_head(session, wait_seconds)
    if head is None:
        return None
    sealed = 0
    while limit is None or sealed < limit:
        batch = SEAL_BATCH if limit is None else min(SEAL_BATCH, limit - sealed)
        rows = session.execute(
            select(
                UnsealedAuditRecord.id,
                UnsealedAuditRecord.at,
                UnsealedAuditRecord.actor,
                UnsealedAuditRecord.action,
                UnsealedAuditRecord.subject_type,
                UnsealedAuditRecord.subject_id,
                UnsealedAuditRecord.payload,
            )
            .order_by(UnsealedAuditRecord.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        events = [AppendedEvent(r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[6]) for r in rows]
        head = _seal(session, head, events)
        # by id, not by range: a lower id may still be uncommitted, and is sealed when it commits
        session.execute(delete(UnsealedAuditRecord).where(UnsealedAuditRecord.id.in_([r[0] for r in rows])))
        sealed += len(rows)
        if len(rows) < batch:
            break
    return sealed


def seal_for_reading(session: Session) -> None:
    """Seal every committed event before reading the chain, in the caller's transaction, waiting a
    few seconds at most for a sealer at work to finish (never for writers)."""
    seal_pending(session, wait_seconds=READER_SEAL_WAIT_SECONDS)


def seal_step(store: Store) -> bool:
    """One turn of the background sealer: seal a batch in a short transaction of
    its own, unless another sealer is at work; True when there may be more to seal at once."""
    with store.transaction() as session:
        sealed = seal_pending(session, limit=SEAL_BATCH)
    return (sealed or 0) >= SEAL_BATCH


def sealer(store: Store, poll_seconds: float) -> PollingThread | None:
    """The background sealer for a process on PostgreSQL (not started), or None on SQLite, where
    each transaction seals its own events as it commits. Every process may run one, `vigil serve`
    and `vigil worker` alike: a second sealer finds the head locked and skips, so a cluster of
    workers alone still has its chain sealed."""
    if store.dialect != "postgresql":
        return None
    return PollingThread("audit-sealer", lambda: seal_step(store), poll_seconds)


def unsealed_count(session: Session) -> int:
    """How many events are appended and committed but not yet sealed into the chain."""
    return session.execute(select(func.count()).select_from(UnsealedAuditRecord)).scalar_one()


# --- reading


_EVENT_COLUMNS = (
    AuditRecord.seq,
    AuditRecord.at,
    AuditRecord.actor,
    AuditRecord.action,
    AuditRecord.subject_type,
    AuditRecord.subject_id,
    AuditRecord.payload,
    AuditRecord.prev_hash,
    AuditRecord.hash,
)


# seq, at, actor, action, subject_type, subject_id, payload, prev_hash, hash
_EventRow = Row[int, str, str, str, str, str, str, str, str]


def _event(row: _EventRow) -> AuditEvent:
    seq, at, actor, action, subject_type, subject_id, payload, prev_hash, digest = row
    return AuditEvent(
        seq, at, actor, action, subject_type, subject_id, json.loads(payload), prev_hash, digest
    )


def _sealed_events(
    session: Session, after: int = 0, upto: int | None = None, batch: int = 5000
) -> Iterator[AuditEvent]:
    """The sealed events after ``after`` (up to ``upto``) in order, read in batches (as rows, not ORM
    objects, so that a long walk does not keep the chain in the session)."""
    while True:
        query = select(*_EVENT_COLUMNS).where(AuditRecord.seq > after)
        if upto is not None:
            query = query.where(AuditRecord.seq <= upto)
        rows = session.execute(query.order_by(AuditRecord.seq).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield _event(row)
        after = rows[-1][0]


def iter_events(session: Session, after: int = 0, batch: int = 5000) -> Iterator[AuditEvent]:
    """Every event after ``after`` in order, read in batches so a long chain fits in memory; what is
    pending is sealed first (in the caller's transaction), so every committed event is there."""
    seal_for_reading(session)
    yield from _sealed_events(session, after, batch=batch)


def list_events(
    session: Session, after: int = 0, limit: int = 100, subject_id: str | None = None
) -> list[AuditEvent]:
    """Up to ``limit`` events after ``after``, optionally of one subject; what is pending is sealed
    first (in the caller's transaction), so every committed event can be listed."""
    seal_for_reading(session)
    query = select(*_EVENT_COLUMNS).where(AuditRecord.seq > after)
    if subject_id is not None:
        query = query.where(AuditRecord.subject_id == subject_id)
    return [_event(r) for r in session.execute(query.order_by(AuditRecord.seq).limit(limit))]


# --- verifying


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain was verified intact up to event ``seq``, whose hash was ``hash``, at ``at``."""

    seq: int
    hash: str
    at: str
    from_seq: int
    events_checked: int
    full: bool


@dataclass(frozen=True, slots=True)
class Verification:
    """What one verification found.

    ``verdict`` covers the events it walked: from ``from_seq`` (1 for a full walk, else the event
    after the checkpoint it started from) to ``to_seq``. ``partial``: it stopped at its bound before
    the chain's head. ``unsealed``: events committed but not yet in the chain, so not checked.
    ``checkpoint``: how far the chain is now known intact (the one recorded, else the one it
    started from).
    """

    verdict: ChainVerdict
    full: bool
    from_seq: int
    to_seq: int
    head_seq: int
    partial: bool
    unsealed: int
    started_from: Checkpoint | None
    checkpoint: Checkpoint | None

    def to_json(self) -> dict[str, Any]:
        """As ``vigil audit verify --json`` and ``GET /v1/audit/verify`` report it: the first five
        keys as they were before checkpoints existed, then where the walk began and ended."""
        verdict, checkpoint = self.verdict, self.checkpoint
        return {
            "intact": verdict.intact,
            "events_checked": verdict.events_checked,
            "head_hash": verdict.head_hash,
            "first_broken_seq": verdict.broken.seq if verdict.broken else None,
            "reason": verdict.broken.reason if verdict.broken else None,
            "full": self.full,
            "from_seq": self.from_seq,
            "to_seq": self.to_seq,
            "head_seq": self.head_seq,
            "partial": self.partial,
            "unsealed": self.unsealed,
            "checkpoint": None
            if checkpoint is None
            else {
                "seq": checkpoint.seq,
                "hash": checkpoint.hash,
                "at": checkpoint.at,
                "events_checked": checkpoint.events_checked,
                "full": checkpoint.full,
            },
        }


def _checkpoint(record: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(record.seq, record.hash, record.at, record.from_seq, record.events_checked, record.full)


def last_checkpoint(session: Session) -> Checkpoint | None:
    """The newest checkpoint, if the chain was ever verified intact."""
    record = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    return _checkpoint(record) if record else None


def _anchor_break(session: Session, start: Checkpoint, head_seq: int) -> ChainBreak | None:
    """Whether the checkpointed event is still what it was: rewriting any event up to it (even with
    every hash recomputed) changes its hash, and removing events removes it."""
    if start.seq > head_seq:
        return ChainBreak(start.seq, f"the chain ends at event {head_seq}, before its checkpoint")
    row = session.execute(select(*_EVENT_COLUMNS).where(AuditRecord.seq == start.seq)).first()
    if row is None:
        return ChainBreak(start.seq, "the checkpointed event is missing")
    anchored = _event(row)
    if anchored.hash != start.hash:
        return ChainBreak(
            start.seq, f"does not have the hash checkpointed at {start.at}: history was rewritten"
        )
    recomputed = event_hash(
        anchored.prev_hash,
        anchored.seq,
        anchored.at,
        anchored.actor,
        anchored.action,
        anchored.subject_type,
        anchored.subject_id,
        anchored.payload,
    )
    if recomputed != anchored.hash:
        return ChainBreak(start.seq, "content does not match its hash")
    return None


def check(
    session: Session, now: datetime, *, full: bool = False, limit: int | None = None, record: bool = True
) -> Verification:
    """Verify the sealed chain: from the genesis (``full``), or from the last checkpoint after
    checking its anchor; at most ``limit`` events. If what was walked is intact and reaches past the
    checkpoint, a new checkpoint is recorded (``record``) in the caller's transaction.

    Events sealed while this runs are left for the next verification: the walk ends at the head as
    it was when it began, and must end exactly there with exactly the head's hash (an intact chain
    whose newest events were deleted would otherwise verify).
    """
    head_row = session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == _HEAD_ID)
    ).first()
    head = (head_row[0], head_row[1]) if head_row else (0, GENESIS_HASH)
    started_from = None if full else last_checkpoint(session)
    after = (started_from.seq, started_from.hash) if started_from else (0, GENESIS_HASH)
    end = head[0] if limit is None else min(head[0], after[0] + limit)
    anchor = _anchor_break(session, started_from, head[0]) if started_from else None
    if anchor is not None:
        verdict = ChainVerdict(0, after[1], anchor)
    else:
        verdict = verify_chain(_sealed_events(session, after[0], upto=end), after=after)
    walked_to = after[0] + verdict.events_checked
    last = last_checkpoint(session) if full else None
    if full and verdict.intact and last is not None:
        # a full walk also holds the chain to its last checkpoint: a history rewritten with every
        # hash recomputed walks as intact, and must not be blessed with a checkpoint of its own
        anchor = _anchor_break(session, last, head[0])
        if anchor is not None:
            verdict = ChainVerdict(verdict.events_checked, verdict.head_hash, anchor)
    if verdict.intact and walked_to < end:
        verdict = ChainVerdict(
            verdict.events_checked,
            verdict.head_hash,
            ChainBreak(
                walked_to + 1, f"missing: the chain ends at event {walked_to}, its head is event {end}"
            ),
        )
    elif verdict.intact and end == head[0] and verdict.head_hash != head[1]:
        verdict = ChainVerdict(
            verdict.events_checked,
            verdict.head_hash,
            ChainBreak(end, "does not have the hash of the chain's head"),
        )
    checkpoint = started_from
    if record and verdict.intact and walked_to > after[0]:
        checkpoint = Checkpoint(
            walked_to, verdict.head_hash, iso(now), after[0] + 1, verdict.events_checked, full
        )
        session.add(
            AuditCheckpoint(
                seq=checkpoint.seq,
                hash=checkpoint.hash,
                at=checkpoint.at,
                from_seq=checkpoint.from_seq,
                events_checked=checkpoint.events_checked,
                full=checkpoint.full,
            )
        )
    return Verification(
        verdict=verdict,
        full=full,
        from_seq=after[0] + 1,
        to_seq=walked_to,
        head_seq=head[0],
        partial=verdict.intact and end < head[0],
        unsealed=unsealed_count(session),
        started_from=started_from,
        checkpoint=checkpoint,
    )


def seal_and_check(
    store: Store, now: datetime, *, full: bool = False, limit: int | None = None
) -> Verification:
    """What `vigil audit verify` and ``GET /v1/audit/verify`` do: seal what is committed, in a short
    transaction of its own, then :func:`check` the chain and record the checkpoint."""
    with store.transaction() as session:
        seal_for_reading(session)
    with store.transaction() as session:
        return check(session, now, full=full, limit=limit)


def verify(session: Session) -> ChainVerdict:
    """Walk the whole chain (what is pending sealed first) and say whether it is intact, or where it
    first breaks; records no checkpoint."""
    seal_for_reading(session)
    return check(session, datetime.now(UTC), full=True, record=False).verdict
