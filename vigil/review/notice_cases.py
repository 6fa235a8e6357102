"""The case a notice waits on, and notices that wait for the platform to send their content.

A notice about content Vigil has seen opens a case on it or joins its open case (see
:func:`route_notice`). A notice from anyone but the platform about content Vigil has not seen waits
(:attr:`~vigil.domain.notices.NoticeState.AWAITING_CONTENT`): content is the platform's word alone,
so a notifier can neither create an item nor decide what an item is. When the platform sends the
item, its first decision takes the waiting notices up (:func:`take_up_waiting_notices`): answered at
once if the decision restricts the item, otherwise routed to review like any other notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from vigil.domain.cases import CaseReason, RoutingFacts
from vigil.domain.content import Content
from vigil.domain.decisions import RESTRICTING_OUTCOMES, Decision, Source
from vigil.domain.events import AuditAction
from vigil.domain.ids import iso
from vigil.domain.notices import NoticeState
from vigil.domain.signals import Signal
from vigil.domain.taxonomy import Category
from vigil.review.answering import Answering
from vigil.review.priority import SEVERITY, SOURCE_WEIGHT
from vigil.review.queues import QueueConfig
from vigil.review.routing import create_case, restand
from vigil.store import cases as case_store
from vigil.store import content as content_store
from vigil.store import notices as notice_store
from vigil.store.audit import AuditLog
from vigil.store.content import NewDecision
from vigil.store.tables import Notice


def _graver(first: Category | None, second: Category | None) -> Category | None:
    """The more severe of two categories: a case goes to the queue of the worse allegation."""
    if first is None or second is None:
        return first or second
    return second if SEVERITY[second] > SEVERITY[first] else first


def route_notice(
    session: Session,
    audit: AuditLog,
    queues: QueueConfig,
    row: Notice,
    decision_id: str,
    decision: Decision,
    content: Content | None,
    signals: Sequence[Signal],
    now: datetime,
) -> str:
    """The case ``row`` waits on: the content's open case, which it may make more urgent, or a new
    one in the queue its allegation routes to (``content`` is read from the store when a new case
    needs it and the caller did not have it at hand); returns the case's id."""
    alleged = Category(row.category)
    source = Source(row.source)
    case = case_store.open_case_of(session, decision.subject)
    if case is None:
        if content is None:
            [content] = content_store.load_contents(session, [row.content_id])
        return create_case(
            session,
            audit,
            queues,
            CaseReason.NOTICE,
            decision_id,
            decision,
            content,
            tuple(signals),
            row.submitted_by,
            now,
            deadline=row.deadline,
            source=source,
            category=_graver(decision.category, alleged),
        )
    case.deadline = row.deadline if case.deadline is None else min(case.deadline, row.deadline)
    if SOURCE_WEIGHT[source.value] > SOURCE_WEIGHT.get(case.source, 0):
        case.source = source.value
    graver = _graver(Category(case.category) if case.category else None, alleged)
    case.category = graver.value if graver else None
    if case.reason == CaseReason.QA_SAMPLE.value:  # someone outside now waits for this case
        case.reason = CaseReason.NOTICE.value
    restand(case)
    moved_from = None
    if not case.escalated:  # an escalated case stays with the senior reviewers
        facts = RoutingFacts(CaseReason(case.reason), graver, case.source, case.language, case.country)
        queue = queues.route(facts)
        if queue != case.queue:
            moved_from, case.queue, case.assignee, case.lease_expires_at = case.queue, queue, None, None
    case.updated_at = now
    case_store.add_event(
        session,
        case.id,
        now,
        row.submitted_by,
        "noticed",
        {"notice_id": row.id, "source": row.source, "deadline": iso(case.deadline), "moved_from": moved_from},
    )
    return case.id


def take_up_waiting_notices(
    session: Session,
    answering: Answering,
    audit: AuditLog,
    queues: QueueConfig,
    fresh: Sequence[NewDecision],
    actor: str,
    now: datetime,
) -> None:
    """The platform has sent items that notices may wait for (``fresh``: their first decisions):
    answer each waiting notice with its item's decision if that restricts the item, else put it
    before a reviewer."""
    first = {new.content.id: new for new in fresh}
    for row in notice_store.awaiting_content(session, list(first)):
        new = first[row.content_id]
        row.state = NoticeState.RECEIVED.value
        if new.decision.outcome in RESTRICTING_OUTCOMES:
            answering.notice_answered(session, row, new.id, new.decision, actor, now)
        else:
            row.case_id = route_notice(
                session, audit, queues, row, new.id, new.decision, new.content, new.signals, now
            )
        audit.append(
            actor=actor,
            action=AuditAction.NOTICE_CONTENT_ARRIVED,
            subject_type="content",
            subject_id=row.content_id,
            payload={"notice_id": row.id, "decision_id": new.id, "case_id": row.case_id},
            at=now,
        )
