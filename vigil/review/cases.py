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

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from vigil.domain.cases import CaseReason, CaseState, PriorityFacts, ReviewMode, RoutingFacts
from vigil.domain.content import Content, Subject
from vigil.domain.decisions import (
    PLATFORM_ACTIONS,
    Action,
    AutomatedDecision,
    Decision,
    PolicyRef,
    Source,
)
from vigil.domain.ids import new_id
from vigil.domain.jurisdictions import GLOBAL
from vigil.domain.roles import Role
from vigil.domain.signals import Signal
from vigil.domain.taxonomy import Category
from vigil.review.priority import SOURCE_WEIGHT, standing_priority
from vigil.review.queues import QueueConfig
from vigil.store import cases as case_store
from vigil.store import content as content_store
from vigil.store import notices as notice_store
from vigil.store.appeals import close_appeals
from vigil.store.audit import AuditLog
from vigil.store.tables import Case

if TYPE_CHECKING:  # the pipeline opens cases through open_or_join, so it imports this module
    from vigil.pipeline.service import Pipeline

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
        action="case.opened",
        subject_type=decision.subject.type.value,
        subject_id=decision.subject.id,
        payload={"case_id": case.id, "queue": case.queue, "reason": reason.value, "decision_id": decision_id},
        at=now,
    )
    return case.id


def _brought_by(reviewed: Decision, noticed: tuple[Source, str | None] | None) -> tuple[Source, str | None]:
    """Who a reviewer's decision says brought the content (the statement of reasons' source and
    source identity): the notices it answers, unless what was reviewed came more urgently (an order)."""
    if noticed is not None and SOURCE_WEIGHT[noticed[0].value] >= SOURCE_WEIGHT.get(reviewed.source.value, 0):
        return noticed
    return reviewed.source, reviewed.source_identity


def _close(
    session: Session,
    row: Case,
    reviewed: Decision | None,
    decision_id: str,
    decision: Decision,
    actor: str,
    now: datetime,
    kind: str,
    detail: dict[str, Any],
) -> None:
    """Close ``row`` with ``decision`` and answer what waited on it: the appeals it decides and the
    notices on its content."""
    row.state, row.closed_at, row.closing_decision_id, row.updated_at = (
        CaseState.CLOSED.value,
        now,
        decision_id,
        now,
    )
    row.lease_expires_at = None  # the assignee stays: who decided (appeals go to someone else)
    case_store.add_event(
        session,
        row.id,
        now,
        actor,
        kind,
        {"decision_id": decision_id, "actions": sorted(a.value for a in decision.actions), **detail},
    )
    if reviewed is not None:
        close_appeals(session, row.id, reviewed, decision_id, decision, actor, now)
    notice_store.answer_waiting(session, row.content_id, decision_id, decision, actor, now)
    AuditLog(session).append(
        actor=actor,
        action=f"case.{kind}",
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        payload={"case_id": row.id, "decision_id": decision_id, "reviewed": row.decision_id, **detail},
        at=now,
    )


def close_by_order(
    session: Session,
    subject: Subject,
    decision_id: str,
    decision: Decision,
    actor: str,
    now: datetime,
    order_id: str,
) -> str | None:
    """An authority's order has decided ``subject``: its open case closes with that decision, so that
    a later verdict on the older decision cannot lift what the order put in force, and the notices
    and appeals waiting on it are answered. Returns the closed case's id, if there was one."""
    row = case_store.open_case_of(session, subject)
    if row is None:
        return None
    reviewed = content_store.get_decision(session, row.decision_id)
    row.assignee = None  # no reviewer decided: a claim held on the case lapses with it
    _close(
        session,
        row,
        reviewed.decision if reviewed is not None else None,
        decision_id,
        decision,
        actor,
        now,
        "closed_by_order",
        {"order_id": order_id},
    )
    return row.id


class CaseError(Exception):
    """A refused case operation, said so the reviewer can act on it."""


class CaseNotFoundError(CaseError, LookupError):
    pass


class CaseForbiddenError(CaseError):
    """The caller's role may not see this case's queue."""


class CaseConflictError(CaseError):
    """Someone else holds the case, it is closed, or the caller must claim it first."""


class VerdictError(CaseError, ValueError):
    """A verdict that cannot become a decision (an unknown policy, a restriction without one)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A reviewer's decision on a case: the actions to put in force (none: no violation), the policy
    whose category and ground they rest on, and a note for the record."""

    actions: frozenset[Action]
    policy_id: str | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Reviewer:
    actor: str
    role: Role


class CaseDesk:
    """What reviewers do with cases; every change is a case event, and the audit chain records the
    claims, escalations and verdicts."""

    def __init__(self, pipeline: Pipeline, clock: Callable[[], datetime], lease: timedelta = LEASE) -> None:
        self.pipeline = pipeline
        self.store = pipeline.store
        self.queues = pipeline.queues
        self.clock = clock
        self.lease = lease

    def _row(self, session: Session, case_id: str, reviewer: Reviewer) -> Case:
        row = case_store.case_row(session, case_id)
        if row is None:
            raise CaseNotFoundError(f"no case {case_id!r}")
        if not self.queues.may_review(row.queue, reviewer.role):
            raise CaseForbiddenError(f"the {reviewer.role.value} role may not review the {row.queue} queue")
        return row

    def _open_row(self, session: Session, case_id: str, reviewer: Reviewer, now: datetime) -> Case:
        row = self._row(session, case_id, reviewer)
        if row.state != CaseState.OPEN.value:
            raise CaseConflictError(f"case {case_id} is closed")
        if row.assignee != reviewer.actor or row.lease_expires_at is None or row.lease_expires_at <= now:
            raise CaseConflictError(f"claim case {case_id} first")
        return row

    def _may_decide(self, row: Case, reviewer: Reviewer) -> None:
        if row.excluded_actor is not None and row.excluded_actor == reviewer.actor:
            raise CaseForbiddenError(
                "you took the decision under appeal; another reviewer decides the appeal (DSA Art. 20(6))"
            )

    def get(self, case_id: str, reviewer: Reviewer) -> case_store.CaseInfo:
        with self.store.transaction() as session:
            self._row(session, case_id, reviewer)
            info = case_store.get_case(session, case_id)
        assert info is not None
        return info

    def claim(self, case_id: str, reviewer: Reviewer) -> case_store.CaseInfo:
        """Take the case under a lease; of two reviewers claiming at once, one gets it."""
        now = self.clock()
        with self.store.transaction() as session:
            row = self._row(session, case_id, reviewer)
            if row.state != CaseState.OPEN.value:
                raise CaseConflictError(f"case {case_id} is closed")
            self._may_decide(row, reviewer)
            if not case_store.take_lease(session, case_id, reviewer.actor, now, now + self.lease):
                raise CaseConflictError(f"case {case_id} is being reviewed by someone else")
            case_store.add_event(session, case_id, now, reviewer.actor, "claimed", {})
            session.expire(row)  # the lease was taken by an UPDATE the loaded row has not seen
            info = case_store.get_case(session, case_id)
        assert info is not None
        return info

    def release(self, case_id: str, reviewer: Reviewer) -> None:
        now = self.clock()
        with self.store.transaction() as session:
            row = self._open_row(session, case_id, reviewer, now)
            row.assignee, row.lease_expires_at, row.updated_at = None, None, now
            case_store.add_event(session, case_id, now, reviewer.actor, "released", {})

    def note(self, case_id: str, reviewer: Reviewer, text: str) -> None:
        """An internal note: seen by reviewers, never sent to the platform or the user."""
        now = self.clock()
        with self.store.transaction() as session:
            self._row(session, case_id, reviewer)
            case_store.add_event(session, case_id, now, reviewer.actor, "noted", {"text": text})

    def escalate(self, case_id: str, reviewer: Reviewer, note: str) -> str:
        """Send the case to its queue's escalation queue (senior review); returns that queue."""
        now = self.clock()
        with self.store.transaction() as session:
            row = self._open_row(session, case_id, reviewer, now)
            target = self.queues.queue(row.queue).escalate_to
            if target is None:
                raise CaseConflictError(f"the {row.queue} queue escalates nowhere")
            case_store.add_event(
                session,
                case_id,
                now,
                reviewer.actor,
                "escalated",
                {"from": row.queue, "to": target, "note": note},
            )
            row.queue, row.escalated, row.assignee, row.lease_expires_at, row.updated_at = (
                target,
                True,
                None,
                None,
                now,
            )
            AuditLog(session).append(
                actor=reviewer.actor,
                action="case.escalated",
                subject_type=row.subject_type,
                subject_id=row.subject_id,
                payload={"case_id": case_id, "to": target},
                at=now,
            )
        return target

    def decide(self, case_id: str, reviewer: Reviewer, verdict: Verdict) -> tuple[str, Decision]:
        """Turn the verdict into a decision on the usual path (recorded, enforced, audited) and close
        the case. Returns the new decision's id and the decision."""
        now = self.clock()
        with self.store.transaction() as session:
            row = self._open_row(session, case_id, reviewer, now)
            self._may_decide(row, reviewer)
            reviewed = content_store.get_decision(session, row.decision_id)
            if reviewed is None or row.content_id is None:
                raise CaseConflictError(f"case {case_id} has no content decision to review")
            [content] = content_store.load_contents(session, [row.content_id])
            brought_by = _brought_by(reviewed.decision, notice_store.waiting_source(session, row.content_id))
            decision = self._decision(session, reviewed.decision, verdict, *brought_by)
            decision_id, decision = self.pipeline.record_reviewed(
                session, content, decision, reviewed.signals, reviewer.actor, now
            )
            _close(
                session,
                row,
                reviewed.decision,
                decision_id,
                decision,
                reviewer.actor,
                now,
                "decided",
                {"policy": verdict.policy_id, "note": verdict.note},
            )
        return decision_id, decision

    def _decision(
        self,
        session: Session,
        reviewed: Decision,
        verdict: Verdict,
        source: Source,
        source_identity: str | None,
    ) -> Decision:
        if not verdict.actions:
            return replace(
                Decision.no_action(reviewed.subject, source, reviewed.automated_detection, source_identity),
                automated_decision=AutomatedDecision.NOT_AUTOMATED,
            )
        if verdict.policy_id is None:
            raise VerdictError("a restriction needs the policy it rests on (policy_id)")
        found = {p.definition.id: p for p in self.pipeline.policies_in_force(session)}.get(verdict.policy_id)
        if found is None:
            raise VerdictError(f"no policy {verdict.policy_id!r} is in force")
        definition, version = found.definition, found.version
        scope = GLOBAL
        if Action.GEO_RESTRICT in verdict.actions:
            if definition.territorial_scope.is_global:
                raise VerdictError(
                    f"policy {definition.id!r} names no countries; geo_restrict needs one that does"
                )
            scope = definition.territorial_scope
        return Decision(
            subject=reviewed.subject,
            actions=verdict.actions,
            category=definition.category,
            additional_categories=(),
            ground=definition.ground,
            territorial_scope=scope,
            automated_detection=reviewed.automated_detection,
            automated_decision=AutomatedDecision.NOT_AUTOMATED,
            review=None,
            source=source,
            policies=(PolicyRef(definition.id, version),),
            strikes=definition.strikes if verdict.actions & PLATFORM_ACTIONS else 0,
            source_identity=source_identity,
        )
