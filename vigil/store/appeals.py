"""Appeals against decisions (DSA Art. 20) and how they ended.

The repository takes and returns records; the day's figures and the audit entries of an appeal are
written by the desks (:mod:`vigil.review.appeals`, :mod:`vigil.review.answering`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.domain.content import Subject, SubjectType
from vigil.domain.decisions import Decision
from vigil.store.tables import Appeal, Case


@dataclass(frozen=True, slots=True)
class AppealInfo:
    id: str
    decision_id: str
    subject: Subject
    appellant: str
    statement: str
    received_at: datetime
    case_id: str
    state: str  # open, decided
    outcome: str | None  # upheld, overturned, changed
    decided_at: datetime | None
    result_decision_id: str | None


def _info(row: Appeal) -> AppealInfo:
    return AppealInfo(
        row.id,
        row.decision_id,
        Subject(SubjectType(row.subject_type), row.subject_id),
        row.appellant,
        row.statement,
        row.received_at,
        row.case_id,
        row.state,
        row.outcome,
        row.decided_at,
        row.result_decision_id,
    )


def add_appeal(session: Session, appeal: Appeal) -> AppealInfo:
    session.add(appeal)
    session.flush()
    return _info(appeal)


def get_appeal(session: Session, appeal_id: str) -> AppealInfo | None:
    row = session.get(Appeal, appeal_id)
    return _info(row) if row else None


def open_appeal_of(session: Session, decision_id: str, appellant: str) -> AppealInfo | None:
    row = session.scalar(
        select(Appeal).where(
            Appeal.decision_id == decision_id, Appeal.appellant == appellant, Appeal.state == "open"
        )
    )
    return _info(row) if row else None


def decider_of(session: Session, decision_id: str) -> str | None:
    """The reviewer whose verdict produced ``decision_id``, if a person took it."""
    return session.scalar(select(Case.assignee).where(Case.closing_decision_id == decision_id))


def outcome_of(appealed: Decision, result: Decision) -> str:
    """``upheld`` (the same restrictions), ``overturned`` (none left) or ``changed``."""
    if result.platform_actions == appealed.platform_actions:
        return "upheld"
    return "overturned" if not result.platform_actions else "changed"


def open_appeals_of_case(session: Session, case_id: str) -> list[Appeal]:
    """The appeals still open that ``case_id`` decides."""
    return list(session.scalars(select(Appeal).where(Appeal.case_id == case_id, Appeal.state == "open")))


def record_outcome(row: Appeal, outcome: str, result_decision_id: str, now: datetime) -> None:
    """Record how the appeal ``row`` ended: ``outcome`` (see :func:`outcome_of`), by which decision."""
    row.state, row.outcome, row.decided_at, row.result_decision_id = (
        "decided",
        outcome,
        now,
        result_decision_id,
    )
