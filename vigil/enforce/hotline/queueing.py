"""Queueing a report, in the transaction of the decision that asks for it (a decision hook)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from vigil.domain.decisions import Action, AutomatedDecision, Decision
from vigil.domain.events import AuditAction
from vigil.enforce.hotline.report_xml import INCIDENT_TYPES
from vigil.store import hotline as hotline_store
from vigil.store.audit import AuditLog
from vigil.store.content import NewDecision, StoredDecision


def reportable(decision: Decision) -> bool:
    """Whether a decision is reported: a person's, on child abuse material, that asks for it."""
    return (
        Action.REPORT_HOTLINE in decision.actions
        and decision.automated_decision is AutomatedDecision.NOT_AUTOMATED
        and decision.category in INCIDENT_TYPES
    )


def queue_hotline_report(
    session: Session, new: NewDecision, previous: StoredDecision | None, actor: str, now: datetime
) -> None:
    """The decision hook: queue one report per content item, from the first person's decision that
    asks for it (a later decision on the same item does not report it again; one after a report that
    failed for good does)."""
    if not reportable(new.decision):
        return
    if hotline_store.live_report_of_content(session, new.content.id) is not None:
        return
    report_id = hotline_store.queue(session, new.id, new.content.id, now)
    AuditLog(session).append(
        actor=actor,
        action=AuditAction.HOTLINE_QUEUED,
        subject_type="hotline_report",
        subject_id=report_id,
        payload={"decision_id": new.id, "content_id": new.content.id},
        at=now,
    )
