"""The life of a case: opened by a decision that needs review, claimed, decided by a person.

Every decision that asks for review opens a case on its subject, or joins the subject's open case
(a second finding or report never opens a duplicate; the case then reviews the newest decision).
The queue comes from the routing rules of the queue configuration (``queues.py``), the order in a
queue from :func:`vigil.review.priority.priority`, computed when the queue is read, because a
deadline makes it rise with time.

A reviewer claims a case and holds it under a lease that expires (:data:`LEASE`), so no two
reviewers work on one case and a case left open in a closed browser tab returns to the queue. The
reviewer's verdict becomes a Decision on the same path as automated ones (recorded, enforced through
the outbox, audited), which closes the case.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from vigil.domain.cases import CaseReason, CaseState, ReviewMode, RoutingFacts
from vigil.domain.content import Content
from vigil.domain.decisions import Decision
from vigil.domain.ids import new_id
from vigil.domain.signals import Signal
from vigil.review.queues import QueueConfig
from vigil.store import cases as case_store
from vigil.store.audit import AuditLog
from vigil.store.tables import Case

LEASE = timedelta(minutes=15)


def _language(content: Content | None, signals: tuple[Signal, ...]) -> str:
    if content is not None and content.language:
        return content.language[:2].lower()
    return next((s.language for s in signals if s.language), "")


def open_or_join(
    session: Session,
    audit: AuditLog,
    queues: QueueConfig,
    decision_id: str,
    decision: Decision,
    content: Content | None,
    signals: tuple[Signal, ...],
    actor: str,
    now: datetime,
) -> str:
    """The id of the case that reviews ``decision``: the subject's open case, or a new one."""
    reason = CaseReason.REVIEW_BEFORE if decision.review is ReviewMode.BEFORE else CaseReason.REVIEW_AFTER
    case = case_store.open_case_of(session, decision.subject)
    if case is not None:
        previous = case.decision_id
        case.decision_id = decision_id
        case.updated_at = now
        if reason is CaseReason.REVIEW_BEFORE:  # what now waits for a person matters more
            case.reason = reason.value
        if content is not None:
            case.reach = max(case.reach, content.reach)
        case_store.add_event(
            session, case.id, now, actor, "joined", {"decision_id": decision_id, "replaces": previous}
        )
        return case.id
    facts = RoutingFacts(
        reason=reason,
        category=decision.category,
        source=decision.source.value,
        language=_language(content, signals),
        country=(content.country or "") if content is not None else "",
    )
    case = Case(
        id=new_id("case"),
        subject_type=decision.subject.type.value,
        subject_id=decision.subject.id,
        content_id=content.id if content is not None else None,
        state=CaseState.OPEN.value,
        reason=reason.value,
        queue=queues.route(facts),
        category=decision.category.value if decision.category else None,
        source=decision.source.value,
        language=facts.language,
        country=facts.country,
        reach=content.reach if content is not None else 0,
        deadline=None,
        decision_id=decision_id,
        assignee=None,
        lease_expires_at=None,
        escalated=False,
        opened_at=now,
        updated_at=now,
        closed_at=None,
        closing_decision_id=None,
    )
    case_store.add_case(session, case)
    case_store.add_event(
        session, case.id, now, actor, "opened", {"decision_id": decision_id, "queue": case.queue}
    )
    audit.append(
        actor=actor,
        action="case.opened",
        subject_type=decision.subject.type.value,
        subject_id=decision.subject.id,
        payload={"case_id": case.id, "queue": case.queue, "reason": reason.value, "decision_id": decision_id},
        at=now,
    )
    return case.id
