"""Answering what waited on a decision: the notices on its content and the appeals of its case.

The store records the answers; what an answer brings about besides (the day's figures, the
``notice.decided`` event that tells the notifier, the audit entry) belongs to the layers above the
review desk, which are given to it as an :class:`Answering` (the pipeline's,
:class:`vigil.pipeline.answers.Answers`), so that review imports neither ``transparency`` nor
``enforce`` (docs/architecture.md). Everything happens in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from vigil.domain.decisions import Decision
from vigil.domain.events import AuditAction
from vigil.store import appeals as appeal_store
from vigil.store import notices as notice_store
from vigil.store.audit import AuditLog
from vigil.store.tables import Appeal, Notice


class Answering(Protocol):
    """What answering a notice, and filing or deciding an appeal, brings about beyond the record."""

    def notice_answered(
        self, session: Session, row: Notice, decision_id: str, decision: Decision, actor: str, now: datetime
    ) -> None:
        """Record ``decision`` as the answer to the notice ``row``, count it, audit it and tell the
        platform (DSA Art. 16(5))."""

    def appeal_filed(self, session: Session, row: Appeal) -> None:
        """Count a new appeal in the day's figures."""

    def appeal_decided(self, session: Session, row: Appeal) -> None:
        """Count a decided appeal in the day's figures."""


def answer_waiting(
    session: Session,
    answering: Answering,
    content_id: str | None,
    decision_id: str,
    decision: Decision,
    actor: str,
    now: datetime,
) -> None:
    """Answer every notice still waiting on ``content_id`` with ``decision``."""
    if content_id is None:
        return
    for row in notice_store.waiting_on(session, content_id):
        answering.notice_answered(session, row, decision_id, decision, actor, now)


def close_appeals(
    session: Session,
    answering: Answering,
    case_id: str,
    appealed: Decision,
    result_id: str,
    result: Decision,
    actor: str,
    now: datetime,
) -> None:
    """Record how the open appeals decided through ``case_id`` ended, in the audit chain too."""
    for row in appeal_store.open_appeals_of_case(session, case_id):
        appeal_store.record_outcome(row, appeal_store.outcome_of(appealed, result), result_id, now)
        answering.appeal_decided(session, row)
        AuditLog(session).append(
            actor=actor,
            action=AuditAction.APPEAL_DECIDED,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            payload={"appeal_id": row.id, "outcome": row.outcome, "decision_id": result_id},
            at=now,
        )
