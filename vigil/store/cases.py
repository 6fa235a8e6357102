"""Cases of human review and their events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from vigil.domain.cases import CaseReason, CaseState, PriorityFacts
from vigil.domain.content import Subject, SubjectType
from vigil.domain.taxonomy import Category
from vigil.store.tables import Case, CaseEvent


@dataclass(frozen=True, slots=True)
class CaseInfo:
    id: str
    subject: Subject
    content_id: str | None
    state: CaseState
    reason: CaseReason
    queue: str
    category: Category | None
    source: str
    language: str
    country: str
    reach: int
    deadline: datetime | None
    decision_id: str
    assignee: str | None
    lease_expires_at: datetime | None
    escalated: bool
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closing_decision_id: str | None

    @property
    def priority_facts(self) -> PriorityFacts:
        return PriorityFacts(self.category, self.source, self.reason, self.reach, self.deadline)

    def leased_to_other(self, actor: str, now: datetime) -> bool:
        """Whether someone else holds an unexpired lease on the case."""
        return (
            self.assignee is not None
            and self.assignee != actor
            and self.lease_expires_at is not None
            and self.lease_expires_at > now
        )


@dataclass(frozen=True, slots=True)
class CaseEventInfo:
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]


def _info(row: Case) -> CaseInfo:
    return CaseInfo(
        id=row.id,
        subject=Subject(SubjectType(row.subject_type), row.subject_id),
        content_id=row.content_id,
        state=CaseState(row.state),
        reason=CaseReason(row.reason),
        queue=row.queue,
        category=Category(row.category) if row.category else None,
        source=row.source,
        language=row.language,
        country=row.country,
        reach=row.reach,
        deadline=row.deadline,
        decision_id=row.decision_id,
        assignee=row.assignee,
        lease_expires_at=row.lease_expires_at,
        escalated=row.escalated,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        closing_decision_id=row.closing_decision_id,
    )


def open_case_of(session: Session, subject: Subject) -> Case | None:
    """The open case on ``subject``, if there is one (there is never more than one)."""
    return session.scalar(
        select(Case).where(
            Case.subject_type == subject.type.value,
            Case.subject_id == subject.id,
            Case.state == CaseState.OPEN.value,
        )
    )


def add_case(session: Session, case: Case) -> None:
    session.add(case)
    session.flush()


def add_event(
    session: Session, case_id: str, at: datetime, actor: str, kind: str, detail: dict[str, Any]
) -> None:
    session.add(CaseEvent(case_id=case_id, at=at, actor=actor, kind=kind, detail=detail))


def get_case(session: Session, case_id: str) -> CaseInfo | None:
    row = session.get(Case, case_id)
    return _info(row) if row else None


def case_row(session: Session, case_id: str) -> Case | None:
    return session.get(Case, case_id)


@dataclass(frozen=True, slots=True)
class QueuedCase:
    """What ranking an open case needs, read as plain columns: a queue may hold tens of thousands."""

    id: str
    category: Category | None
    source: str
    reason: CaseReason
    reach: int
    deadline: datetime | None
    opened_at: datetime
    assignee: str | None
    lease_expires_at: datetime | None
    standing: int  # the priority without a deadline's part

    @property
    def priority_facts(self) -> PriorityFacts:
        return PriorityFacts(self.category, self.source, self.reason, self.reach, self.deadline)


def _queued(row: Any) -> QueuedCase:
    case_id, category, source, reason, reach, deadline, opened_at, assignee, lease, standing = row
    return QueuedCase(
        case_id,
        Category(category) if category else None,
        source,
        CaseReason(reason),
        reach,
        deadline,
        opened_at,
        assignee,
        lease,
        standing,
    )


_QUEUED_COLUMNS = (
    Case.id,
    Case.category,
    Case.source,
    Case.reason,
    Case.reach,
    Case.deadline,
    Case.opened_at,
    Case.assignee,
    Case.lease_expires_at,
    Case.standing,
)


def queued_cases(
    session: Session, queue: str, limit: int | None = None, free_for: tuple[str, datetime] | None = None
) -> list[QueuedCase]:
    """A queue's open cases that rank can order: every case with a deadline (its priority moves with
    time), and the first ``limit`` of the others in the order of their standing priority (which does
    not), oldest first among equals. ``free_for=(actor, now)`` leaves out cases someone else holds.
    """
    where = [Case.queue == queue, Case.state == CaseState.OPEN.value]
    if free_for is not None:
        actor, now = free_for
        where.append(or_(Case.assignee.is_(None), Case.assignee == actor, Case.lease_expires_at <= now))
    timed = session.execute(select(*_QUEUED_COLUMNS).where(*where, Case.deadline.is_not(None)))
    standing = (
        select(*_QUEUED_COLUMNS)
        .where(*where, Case.deadline.is_(None))
        .order_by(Case.standing.desc(), Case.opened_at, Case.id)
    )
    if limit is not None:
        standing = standing.limit(limit)
    return [_queued(r) for r in timed] + [_queued(r) for r in session.execute(standing)]


def get_cases(session: Session, case_ids: list[str]) -> dict[str, CaseInfo]:
    """The cases with ``case_ids``, by id."""
    if not case_ids:
        return {}
    return {r.id: _info(r) for r in session.scalars(select(Case).where(Case.id.in_(case_ids)))}


def open_counts(session: Session) -> dict[str, int]:
    """Open cases per queue."""
    rows = session.execute(
        select(Case.queue, func.count()).where(Case.state == CaseState.OPEN.value).group_by(Case.queue)
    )
    return {queue: count for queue, count in rows}


def take_lease(session: Session, case_id: str, actor: str, now: datetime, until: datetime) -> bool:
    """Give ``actor`` the lease on an open case unless someone else holds an unexpired one.

    One conditional UPDATE, so that of two reviewers claiming at once exactly one succeeds.
    """
    result = session.execute(
        update(Case)
        .where(
            Case.id == case_id,
            Case.state == CaseState.OPEN.value,
            or_(Case.assignee.is_(None), Case.assignee == actor, Case.lease_expires_at <= now),
        )
        .values(assignee=actor, lease_expires_at=until, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


MAX_EVENTS_SHOWN = 200


def case_events(session: Session, case_id: str, limit: int = MAX_EVENTS_SHOWN) -> list[CaseEventInfo]:
    """The case's latest ``limit`` events, oldest first (a case can gather thousands of notes)."""
    rows = session.execute(
        select(CaseEvent.at, CaseEvent.actor, CaseEvent.kind, CaseEvent.detail)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id.desc())
        .limit(limit)
    ).all()
    return [CaseEventInfo(at, actor, kind, detail) for at, actor, kind, detail in reversed(rows)]
