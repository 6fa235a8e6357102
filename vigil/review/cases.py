"""The case desk: what reviewers do with a case, from claim to verdict.

Cases are opened by decisions that need review, in the queue the routing rules choose
(:mod:`vigil.review.routing`). A reviewer claims a case and holds it under a lease that expires
(:data:`LEASE`), so no two reviewers work on one case and a case left open in a closed browser tab
returns to the queue. The reviewer's verdict becomes a Decision on the same path as automated ones
(recorded, enforced through the outbox, audited), which closes the case.

The desk records through the pipeline, which it is given as a :class:`DecisionPath`; it does not
import it (the pipeline opens cases through :class:`vigil.review.routing.CaseOpening`, a decision
hook), so the review layer stays below the pipeline (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from vigil.domain.cases import CaseState
from vigil.domain.content import Content, Subject
from vigil.domain.decisions import (
    PLATFORM_ACTIONS,
    Action,
    AutomatedDecision,
    Decision,
    PolicyRef,
    Source,
)
from vigil.domain.errors import ErrorKind, NotFoundError, VigilError
from vigil.domain.events import AuditAction
from vigil.domain.jurisdictions import GLOBAL
from vigil.domain.roles import Role
from vigil.domain.signals import Signal
from vigil.policy.engine import CompiledPolicy
from vigil.review.answering import Answering, answer_waiting, close_appeals
from vigil.review.priority import SOURCE_WEIGHT
from vigil.review.queues import QueueConfig
from vigil.store import cases as case_store
from vigil.store import content as content_store
from vigil.store import notices as notice_store
from vigil.store.audit import AuditLog
from vigil.store.db import Store
from vigil.store.tables import Case

LEASE = timedelta(minutes=15)

# how a case closed (its history's kind) and the audit action that records it
_CLOSED_BY = {"decided": AuditAction.CASE_DECIDED, "closed_by_order": AuditAction.CASE_CLOSED_BY_ORDER}


class DecisionPath(Protocol):
    """What the desk needs of the decision path (:class:`vigil.pipeline.service.Pipeline`): its store
    and queues, what answering notices and appeals brings about, the policies in force, and
    recording a person's decision like any other."""

    @property
    def store(self) -> Store: ...

    @property
    def queues(self) -> QueueConfig: ...

    @property
    def answering(self) -> Answering: ...

    def policies_in_force(self, session: Session) -> tuple[CompiledPolicy, ...]: ...

    def record_reviewed(
        self,
        session: Session,
        content: Content,
        decision: Decision,
        signals: Sequence[Signal],
        actor: str,
        now: datetime,
    ) -> tuple[str, Decision]: ...


def _brought_by(reviewed: Decision, noticed: tuple[Source, str | None] | None) -> tuple[Source, str | None]:
    """Who a reviewer's decision says brought the content (the statement of reasons' source and
    source identity): the notices it answers, unless what was reviewed came more urgently (an order)."""
    if noticed is not None and SOURCE_WEIGHT[noticed[0].value] >= SOURCE_WEIGHT.get(reviewed.source.value, 0):
        return noticed
    return reviewed.source, reviewed.source_identity


def _close(
    session: Session,
    answering: Answering,
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
        close_appeals(session, answering, row.id, reviewed, decision_id, decision, actor, now)
    answer_waiting(session, answering, row.content_id, decision_id, decision, actor, now)
    AuditLog(session).append(
        actor=actor,
        action=_CLOSED_BY[kind],
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        payload={"case_id": row.id, "decision_id": decision_id, "reviewed": row.decision_id, **detail},
        at=now,
    )


def close_by_order(
    session: Session,
    answering: Answering,
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
        answering,
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


class CaseError(VigilError):
    """A refused case operation, said so the reviewer can act on it."""

    kind = ErrorKind.CONFLICT
    code = "conflict"


class CaseNotFoundError(CaseError, NotFoundError):
    kind = ErrorKind.NOT_FOUND
    code = "not_found"


class CaseForbiddenError(CaseError):
    """The caller's role may not see this case's queue."""

    kind = ErrorKind.FORBIDDEN
    code = "forbidden"


class CaseConflictError(CaseError):
    """Someone else holds the case, it is closed, or the caller must claim it first."""


class VerdictError(CaseError, ValueError):
    """A verdict that cannot become a decision (an unknown policy, a restriction without one)."""

    kind = ErrorKind.INVALID
    code = "invalid_verdict"


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

    def __init__(
        self, pipeline: DecisionPath, clock: Callable[[], datetime], lease: timedelta = LEASE
    ) -> None:
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
                action=AuditAction.CASE_ESCALATED,
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
                self.pipeline.answering,
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
