"""Cases of human review and their events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from vigil.domain.cases import CaseReason, CaseState
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


def open_cases(session: Session, queue: str) -> list[CaseInfo]:
    """Every open case in ``queue`` (the caller orders them by priority, which moves with time)."""
    rows = session.scalars(select(Case).where(Case.queue == queue, Case.state == CaseState.OPEN.value))
    return [_info(r) for r in rows]


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


def case_events(session: Session, case_id: str) -> list[CaseEventInfo]:
    rows = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
    return [CaseEventInfo(r.at, r.actor, r.kind, r.detail) for r in rows]
