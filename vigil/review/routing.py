"""Case routing: which decisions open a case, in which queue, at which standing priority.

A decision that asks for review opens a case on its subject, or joins the subject's open case (a
second finding or report never opens a duplicate; the case then reviews the newest decision). The
queue comes from the routing rules of the queue configuration (``queues.py``); the order in a queue
from :func:`vigil.review.priority.priority`, computed when the queue is read, because a deadline makes
it rise with time. A share of the restrictions machines decided alone opens a QA case
(``quality.py``).

The pipeline opens cases through :class:`CaseOpening`, one of the hooks it runs on every recorded
decision (``vigil.pipeline.accountability``); notices (``notice_cases.py``) and appeals
(``appeals.py``) open theirs with :func:`create_case`. What reviewers then do with a case is the
desk's (``cases.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from vigil.domain.cases import CaseReason, CaseState, PriorityFacts, ReviewMode, RoutingFacts
from vigil.domain.content import Content
from vigil.domain.decisions import Decision, Source
from vigil.domain.events import AuditAction
from vigil.domain.ids import new_id
from vigil.domain.signals import Signal
from vigil.domain.taxonomy import Category
from vigil.review.priority import standing_priority
from vigil.review.quality import qa_sampled
from vigil.review.queues import QueueConfig
from vigil.store import cases as case_store
from vigil.store.audit import AuditLog
from vigil.store.content import NewDecision, StoredDecision
from vigil.store.tables import Case


class CaseOpening:
    """The decision hook that puts decisions before a person: a decision that asks for review opens
    or joins its subject's case; a restriction decided by machines alone falls, at ``qa_sample_rate``,
    in the QA sample and opens a ``qa_sample`` case unless the subject has an open case already.

    A :data:`~vigil.pipeline.accountability.DecisionHook`: the pipeline runs it after the others, in
    the decision's transaction.
    """

    def __init__(self, queues: QueueConfig, qa_sample_rate: float = 0.0) -> None:
        self.queues = queues
        self.qa_sample_rate = qa_sample_rate

    def __call__(
        self, session: Session, new: NewDecision, previous: StoredDecision | None, actor: str, now: datetime
    ) -> None:
        decision = new.decision
        if decision.review_needed:
            open_or_join(
                session,
                AuditLog(session),
                self.queues,
                new.id,
                decision,
                new.content,
                tuple(new.signals),
                actor,
                now,
            )
        elif (
            decision.restricts
            and qa_sampled(new.id, self.qa_sample_rate)
            and case_store.open_case_of(session, decision.subject) is None
        ):
            # a share of what machines decide alone is checked by a person, to measure agreement
            create_case(
                session,
                AuditLog(session),
                self.queues,
                CaseReason.QA_SAMPLE,
                new.id,
                decision,
                new.content,
                tuple(new.signals),
                actor,
                now,
            )


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
        restand(case)
        case_store.add_event(
            session, case.id, now, actor, "joined", {"decision_id": decision_id, "replaces": previous}
        )
        return case.id
    return create_case(session, audit, queues, reason, decision_id, decision, content, signals, actor, now)


def restand(case: Case) -> None:
    """Keep the case's stored standing priority in step with what it is computed from."""
    facts = PriorityFacts(
        Category(case.category) if case.category else None,
        case.source,
        CaseReason(case.reason),
        case.reach,
        case.deadline,
    )
    case.standing = standing_priority(facts)


def create_case(
    session: Session,
    audit: AuditLog,
    queues: QueueConfig,
    reason: CaseReason,
    decision_id: str,
    decision: Decision,
    content: Content | None,
    signals: tuple[Signal, ...],
    actor: str,
    now: datetime,
    excluded_actor: str | None = None,
    *,
    deadline: datetime | None = None,
    source: Source | None = None,
    category: Category | None = None,
) -> str:
    """Open a case on ``decision``'s subject in the queue the routing rules choose; returns its id.

    A notice opens its case with its own deadline, source and alleged category in place of the
    reviewed decision's (which may have found nothing): they route and rank the case.
    """
    category = category or decision.category
    facts = RoutingFacts(
        reason=reason,
        category=category,
        source=(source or decision.source).value,
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
        category=category.value if category else None,
        source=facts.source,
        language=facts.language,
        country=facts.country,
        reach=content.reach if content is not None else 0,
        deadline=deadline,
        standing=0,
        decision_id=decision_id,
        assignee=None,
        lease_expires_at=None,
        escalated=False,
        opened_at=now,
        updated_at=now,
        closed_at=None,
        closing_decision_id=None,
        excluded_actor=excluded_actor,
    )
    restand(case)
    case_store.add_case(session, case)
    case_store.add_event(
        session, case.id, now, actor, "opened", {"decision_id": decision_id, "queue": case.queue}
    )
    audit.append(
        actor=actor,
        action=AuditAction.CASE_OPENED,
        subject_type=decision.subject.type.value,
        subject_id=decision.subject.id,
        payload={"case_id": case.id, "queue": case.queue, "reason": reason.value, "decision_id": decision_id},
        at=now,
    )
    return case.id
