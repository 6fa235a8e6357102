"""Retroactive matching jobs: their progress lives in the store, so they resume after a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from vigil.domain.content import Audience
from vigil.store.tables import Bank, BankHash, ContentHash, ContentItem, RetroJob


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: int
    bank: str
    first_hash_id: int
    last_hash_id: int
    content_cursor: int
    content_last: int
    matched: int
    state: JobState
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def progress(self) -> float:
        """Share of the content seen before the job that has been matched so far (0 to 1)."""
        if self.state is JobState.DONE or self.content_last <= 0:
            return 1.0
        return min(1.0, self.content_cursor / self.content_last)


@dataclass(frozen=True, slots=True)
class ContentHashRow:
    id: int
    content_id: str
    hash_type: str
    value: str
    quality: int | None


def _info(job: RetroJob, bank: str) -> JobInfo:
    return JobInfo(
        job.id,
        bank,
        job.first_hash_id,
        job.last_hash_id,
        job.content_cursor,
        job.content_last,
        job.matched,
        JobState(job.state),
        job.created_at,
        job.updated_at,
        job.finished_at,
    )


def create_job(
    session: Session, bank_id: int, first_hash_id: int, last_hash_id: int, now: datetime
) -> int | None:
    """Queue matching of all content seen so far against bank hashes ``first..last``; None if there is none."""
    content_last = session.scalar(select(func.max(ContentHash.id))) or 0
    if content_last == 0:
        return None
    job = RetroJob(
        bank_id=bank_id,
        first_hash_id=first_hash_id,
        last_hash_id=last_hash_id,
        content_cursor=0,
        content_last=content_last,
        matched=0,
        state=JobState.PENDING.value,
        created_at=now,
        updated_at=now,
        finished_at=None,
    )
    session.add(job)
    session.flush()
    return job.id


def claim_next_job(session: Session, now: datetime, lease: timedelta) -> JobInfo | None:
    """Claim the oldest unfinished job that no process holds, until ``now + lease``; None if there is none.

    Matching a chunk happens outside a transaction, so the claim is a lease rather than a row lock:
    the row is locked (``SKIP LOCKED``: another claimer passes on to the next job) only while the
    lease is written, and a process that dies leaves a lease that expires, after which any process
    takes the job over. ``advance`` ends the lease with the chunk.
    """
    row = session.execute(
        select(RetroJob, Bank.name)
        .join(Bank, Bank.id == RetroJob.bank_id)
        .where(
            RetroJob.state != JobState.DONE.value,
            or_(RetroJob.claimed_until.is_(None), RetroJob.claimed_until <= now),
        )
        .order_by(RetroJob.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=RetroJob)
    ).first()
    if row is None:
        return None
    job, bank = row
    job.claimed_until = now + lease
    return _info(job, bank)


def job_hashes(session: Session, job: JobInfo) -> list[tuple[str, str]]:
    """The (hash type, value) pairs the job matches against (a video's value: its frame list)."""
    rows = session.execute(
        select(BankHash.hash_type, func.coalesce(BankHash.frames, BankHash.value))
        .join(Bank, Bank.id == BankHash.bank_id)
        .where(Bank.name == job.bank, BankHash.id.between(job.first_hash_id, job.last_hash_id))
    )
    return [(hash_type, value) for hash_type, value in rows]


def content_hash_chunk(session: Session, job: JobInfo, size: int) -> list[ContentHashRow]:
    """The next ``size`` content hashes after the job's cursor, up to where the job ends.

    Reported private messages are left out: each was processed for the report that brought it, and
    is never matched again (a chunk of nothing else ends the job, which is then truly done).
    """
    rows = session.scalars(
        select(ContentHash)
        .join(ContentItem, ContentItem.id == ContentHash.content_id)
        .where(
            ContentHash.id > job.content_cursor,
            ContentHash.id <= job.content_last,
            ContentItem.audience != Audience.PRIVATE_REPORTED.value,
        )
        .order_by(ContentHash.id)
        .limit(size)
    )
    return [ContentHashRow(r.id, r.content_id, r.hash_type, r.value, r.quality) for r in rows]


class StaleJobError(RuntimeError):
    """Another process advanced the job first; this chunk's work must be rolled back."""


def advance(session: Session, job_id: int, expected: int, cursor: int, matched: int, now: datetime) -> None:
    """Move the cursor from ``expected`` to ``cursor``; the job is done when it reaches its end.

    The row is locked and the cursor compared first, so a process whose lease expired while it
    worked cannot record a chunk another process recorded since: it raises StaleJobError and its
    transaction rolls back. Recording the chunk ends the lease.
    """
    job = session.get(RetroJob, job_id, with_for_update=True)
    if job is None or job.content_cursor != expected:
        raise StaleJobError(f"retroactive job {job_id} moved on")
    job.content_cursor = cursor
    job.matched += matched
    job.updated_at = now
    job.claimed_until = None
    if cursor >= job.content_last:
        job.state = JobState.DONE.value
        job.finished_at = now
    else:
        job.state = JobState.RUNNING.value


def list_jobs(session: Session, bank: str | None = None, limit: int = 100) -> list[JobInfo]:
    query = select(RetroJob, Bank.name).join(Bank, Bank.id == RetroJob.bank_id)
    if bank is not None:
        query = query.where(Bank.name == bank)
    return [
        _info(job, name) for job, name in session.execute(query.order_by(RetroJob.id.desc()).limit(limit))
    ]


def unfinished_counts(session: Session) -> dict[str, int]:
    """Jobs not yet done, by state (``pending``, ``running``), for the metrics (``state`` is indexed)."""
    rows = session.execute(
        select(RetroJob.state, func.count())
        .where(RetroJob.state.in_((JobState.PENDING.value, JobState.RUNNING.value)))
        .group_by(RetroJob.state)
    )
    return {state: int(count) for state, count in rows}
