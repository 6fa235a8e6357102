"""Statements of reasons and their way to the DSA Transparency Database: a durable queue.

A statement is written in its decision's transaction with a submission row beside it; the
submission loop (``vigil/transparency/dsa_database.py``) claims due submissions under a lease,
sends them, and records how each attempt ended. A crashed sender's claims expire and are claimed
again, so nothing is lost; the database's unique ``puid`` (and the loop's look-up of it after an
attempt whose outcome is unknown) keeps anything from being published twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import event, insert, or_, select, update
from sqlalchemy.orm import Session

from vigil.domain.content import Subject
from vigil.domain.errors import ErrorKind, VigilError
from vigil.domain.events import AuditAction
from vigil.store.audit import AuditLog
from vigil.store.tables import Statement, StatementSubmission


class StatementState(StrEnum):
    """Whether the decision a statement explains is still the one in force on its subject."""

    IN_FORCE = "in_force"
    SUPERSEDED = "superseded"  # a later decision changed the restriction; ``superseded_by`` explains it
    REVOKED = "revoked"  # a later decision lifted every restriction


class SubmissionState(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    REJECTED = "rejected"  # the database refused it; ``rejection`` holds its reasons, per field
    NOT_APPLICABLE = "not_applicable"  # restricted only outside the EEA: not for the DSA database


OUTCOME_UNKNOWN = "outcome unknown: "
"""How ``last_error`` begins after an attempt the database may have acted on (a timeout after the
request was sent, a 5xx): the statement's puid is looked up before it is sent again."""


@dataclass(frozen=True, slots=True)
class NewStatement:
    id: str
    decision_id: str
    content_id: str
    subject: Subject
    statement: dict[str, Any]
    submission: SubmissionState  # pending, or not_applicable


@dataclass(frozen=True, slots=True)
class StatementInfo:
    id: str
    puid: str
    decision_id: str
    content_id: str | None
    subject_type: str
    subject_id: str
    state: StatementState
    superseded_by: str | None
    statement: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SubmissionInfo:
    id: int
    statement_id: str
    decision_id: str
    puid: str
    state: SubmissionState
    attempts: int
    next_attempt_at: datetime
    last_error: str
    rejection: dict[str, Any] | None
    database_uuid: str | None
    submitted_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DueStatement:
    """A submission claimed for one attempt: everything needed to send it without the store."""

    submission_id: int
    statement_id: str
    puid: str
    statement: dict[str, Any]
    attempts: int
    unsure: bool  # an earlier attempt may have been stored: look the puid up first


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """How one attempt ended: submitted, rejected, or pending again from ``retry_at``."""

    submission_id: int
    statement_id: str
    state: SubmissionState
    attempts: int
    error: str = ""
    retry_at: datetime | None = None
    rejection: dict[str, Any] | None = None
    database_uuid: str | None = None


def _statement(row: Statement) -> StatementInfo:
    return StatementInfo(
        row.id,
        row.puid,
        row.decision_id,
        row.content_id,
        row.subject_type,
        row.subject_id,
        StatementState(row.state),
        row.superseded_by,
        row.statement,
        row.created_at,
        row.updated_at,
    )


_PENDING = "vigil.statements"


@dataclass(slots=True)
class _Pending:
    """Statements this transaction issued, and their submissions, yet to be written."""

    statements: list[dict[str, Any]] = field(default_factory=list)
    submissions: list[dict[str, Any]] = field(default_factory=list)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    # one multi-row INSERT per table and transaction: a statement is issued with nearly every
    # restrictive decision, and a thousand single-row inserts cost a batch far more than the rest
    pending: _Pending | None = session.info.pop(_PENDING, None)
    if pending is not None and pending.statements:
        session.execute(insert(Statement), pending.statements)
        session.execute(insert(StatementSubmission), pending.submissions)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def add(session: Session, new: NewStatement, now: datetime) -> None:
    """Issue a statement (in force) and its submission in the caller's transaction; both are
    written when it commits, so readers in the same transaction do not see them yet."""
    pending: _Pending = session.info.setdefault(_PENDING, _Pending())
    pending.statements.append(
        {
            "id": new.id,
            "puid": new.decision_id,
            "decision_id": new.decision_id,
            "content_id": new.content_id,
            "subject_type": new.subject.type.value,
            "subject_id": new.subject.id,
            "state": StatementState.IN_FORCE.value,
            "superseded_by": None,
            "statement": new.statement,
            "created_at": now,
            "updated_at": now,
        }
    )
    pending.submissions.append(
        {
            "statement_id": new.id,
            "state": new.submission.value,
            "attempts": 0,
            "next_attempt_at": now,
            "locked_until": None,
            "last_error": "",
            "rejection": None,
            "database_uuid": None,
            "submitted_at": None,
            "created_at": now,
        }
    )


def retire(session: Session, content_id: str, superseded_by: str | None, now: datetime) -> list[str]:
    """Mark the statements in force on ``content_id`` superseded by ``superseded_by`` (a changed
    restriction) or, when it is None, revoked (no restriction left); returns their ids."""
    state = StatementState.SUPERSEDED if superseded_by is not None else StatementState.REVOKED
    retired: list[str] = []
    pending: _Pending | None = session.info.get(_PENDING)
    for row in pending.statements if pending is not None else ():
        if row["content_id"] == content_id and row["state"] == StatementState.IN_FORCE.value:
            row.update(state=state.value, superseded_by=superseded_by, updated_at=now)
            retired.append(row["id"])
    retired += session.scalars(
        update(Statement)
        .where(Statement.content_id == content_id, Statement.state == StatementState.IN_FORCE.value)
        .values(state=state.value, superseded_by=superseded_by, updated_at=now)
        .returning(Statement.id)
    )
    return retired


def get(session: Session, statement_id: str) -> StatementInfo | None:
    row = session.get(Statement, statement_id)
    return _statement(row) if row else None


def of_decision(session: Session, decision_id: str) -> StatementInfo | None:
    """The statement a decision issued, if it issued one."""
    row = session.scalar(select(Statement).where(Statement.decision_id == decision_id))
    return _statement(row) if row else None


def issued_by(session: Session, content_id: str, at: datetime) -> StatementInfo | None:
    """The newest statement on ``content_id`` issued at or before ``at``: the one that explains a
    decision which confirmed a restriction without changing it (and so issued none of its own)."""
    row = session.scalar(
        select(Statement)
        .where(Statement.content_id == content_id, Statement.created_at <= at)
        .order_by(Statement.created_at.desc(), Statement.id.desc())
        .limit(1)
    )
    return _statement(row) if row else None


def _submission(row: StatementSubmission, statement: Statement) -> SubmissionInfo:
    return SubmissionInfo(
        row.id,
        row.statement_id,
        statement.decision_id,
        statement.puid,
        SubmissionState(row.state),
        row.attempts,
        row.next_attempt_at,
        row.last_error,
        row.rejection,
        row.database_uuid,
        row.submitted_at,
        row.created_at,
    )


def submission_of(session: Session, statement_id: str) -> SubmissionInfo | None:
    found = session.execute(
        select(StatementSubmission, Statement)
        .join(Statement, Statement.id == StatementSubmission.statement_id)
        .where(StatementSubmission.statement_id == statement_id)
    ).first()
    return _submission(*found) if found else None


def list_submissions(
    session: Session, state: SubmissionState | None, after: int, limit: int
) -> list[SubmissionInfo]:
    """Submissions in id order from ``after`` (exclusive), optionally only those in ``state``."""
    query = (
        select(StatementSubmission, Statement)
        .join(Statement, Statement.id == StatementSubmission.statement_id)
        .where(StatementSubmission.id > after)
    )
    if state is not None:
        query = query.where(StatementSubmission.state == state.value)
    rows = session.execute(query.order_by(StatementSubmission.id).limit(limit)).all()
    return [_submission(submission, statement) for submission, statement in rows]


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta) -> list[DueStatement]:
    """Claim up to ``limit`` due submissions for ``lease``; a crashed sender's claims expire."""
    rows = session.execute(
        select(StatementSubmission, Statement)
        .join(Statement, Statement.id == StatementSubmission.statement_id)
        .where(
            StatementSubmission.state == SubmissionState.PENDING.value,
            StatementSubmission.next_attempt_at <= now,
            or_(StatementSubmission.locked_until.is_(None), StatementSubmission.locked_until <= now),
        )
        .order_by(StatementSubmission.next_attempt_at, StatementSubmission.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=StatementSubmission)
    ).all()
    claimed: list[DueStatement] = []
    for submission, statement in rows:
        submission.locked_until = now + lease
        claimed.append(
            DueStatement(
                submission.id,
                statement.id,
                statement.puid,
                statement.statement,
                submission.attempts,
                submission.last_error.startswith(OUTCOME_UNKNOWN),
            )
        )
    return claimed


def record_results(session: Session, results: Sequence[SubmissionResult], actor: str, now: datetime) -> None:
    """Record a batch of attempts in one transaction, with an audit event for each statement the
    database took or refused."""
    if not results:
        return
    session.execute(
        update(StatementSubmission),
        [
            {
                "id": r.submission_id,
                "state": r.state.value,
                "attempts": r.attempts,
                "next_attempt_at": r.retry_at or now,
                "locked_until": None,
                "last_error": r.error[:2000],
                "rejection": r.rejection,
                "database_uuid": r.database_uuid,
                "submitted_at": now if r.state is SubmissionState.SUBMITTED else None,
            }
            for r in results
        ],
    )
    audit = AuditLog(session)
    for r in results:
        if r.state is SubmissionState.SUBMITTED:
            payload: dict[str, Any] = {"submission_id": r.submission_id, "database_uuid": r.database_uuid}
            audit.append(actor, AuditAction.STATEMENT_SUBMITTED, "statement", r.statement_id, payload, now)
        elif r.state is SubmissionState.REJECTED:
            payload = {"submission_id": r.submission_id, "reasons": r.rejection}
            audit.append(actor, AuditAction.STATEMENT_REJECTED, "statement", r.statement_id, payload, now)


class RetryRefusedError(VigilError, ValueError):
    """A submission that is not waiting or refused: there is nothing to send again."""

    kind = ErrorKind.CONFLICT
    code = "conflict"


def retry(session: Session, submission_id: int, actor: str, now: datetime) -> SubmissionInfo | None:
    """Send a refused (or waiting) submission again now, from a fresh count of attempts; None if
    there is no such submission. Raises RetryRefusedError for a submitted or not-applicable one."""
    found = session.execute(
        select(StatementSubmission, Statement)
        .join(Statement, Statement.id == StatementSubmission.statement_id)
        .where(StatementSubmission.id == submission_id)
        .with_for_update(of=StatementSubmission)
    ).first()
    if found is None:
        return None
    submission, statement = found
    state = SubmissionState(submission.state)
    if state not in (SubmissionState.REJECTED, SubmissionState.PENDING):
        raise RetryRefusedError(
            f"submission {submission_id} is {state.value}; only rejected or pending ones are sent again"
        )
    previous = {"state": state.value, "attempts": submission.attempts, "reasons": submission.rejection}
    submission.state = SubmissionState.PENDING.value
    submission.attempts = 0
    submission.next_attempt_at = now
    submission.locked_until = None
    submission.rejection = None
    # an unknown outcome stays on record: the puid must still be looked up before sending
    if not submission.last_error.startswith(OUTCOME_UNKNOWN):
        submission.last_error = ""
    AuditLog(session).append(
        actor,
        AuditAction.STATEMENT_RETRY,
        "statement",
        statement.id,
        {"submission_id": submission_id, "was": previous},
        now,
    )
    session.flush()
    return _submission(submission, statement)


def export(session: Session, start: datetime | None, end: datetime | None) -> Iterator[dict[str, Any]]:
    """The stored statements issued in [``start``, ``end``), oldest first, as the database receives them."""
    query = select(Statement.statement)
    if start is not None:
        query = query.where(Statement.created_at >= start)
    if end is not None:
        query = query.where(Statement.created_at < end)
    yield from session.scalars(
        query.order_by(Statement.created_at, Statement.id).execution_options(yield_per=500)
    )
