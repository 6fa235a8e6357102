"""Appeals (DSA Art. 20): a user contests a decision, and a person who did not take it decides.

The platform files the appeal for its user (``POST /v1/appeals``) within six months of the
decision. The appeal opens a case on the subject (or joins its open case) in the appeals queue of
the routing rules (child-safety appeals stay with the child-safety reviewers); the reviewer who took
the appealed decision may not claim or decide it. The reviewer is not bound by the appealed
decision: the verdict is a new decision on the usual path, so an overturned restriction is lifted
through the outbox like any other change, and the appeal records whether the decision was upheld,
overturned or changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from vigil.domain.cases import CaseReason, RoutingFacts
from vigil.domain.errors import ErrorKind, NotFoundError, VigilError
from vigil.domain.events import AuditAction
from vigil.domain.ids import new_id
from vigil.domain.taxonomy import Category
from vigil.review.cases import DecisionPath
from vigil.review.routing import create_case, restand
from vigil.store import appeals as appeal_store
from vigil.store import cases as case_store
from vigil.store import content as content_store
from vigil.store.appeals import AppealInfo
from vigil.store.audit import AuditLog
from vigil.store.tables import Appeal

# DSA Art. 20(1): the complaint-handling system is open "for a period of at least six months
# following the decision"; Vigil accepts appeals for that long and refuses later ones
APPEAL_WINDOW = timedelta(days=183)


class AppealError(VigilError, ValueError):
    """An appeal that cannot be taken, said so the platform can tell its user."""

    code = "appeal_refused"


class AppealedDecisionNotFoundError(AppealError, NotFoundError):
    kind = ErrorKind.NOT_FOUND
    code = "not_found"


class AppealDesk:
    """Takes appeals and puts them before a reviewer; the decision path (:class:`DecisionPath`, the
    pipeline) gives it its store, its queues and what an appeal brings about (the day's figures)."""

    def __init__(self, pipeline: DecisionPath, clock: Callable[[], datetime]) -> None:
        self.store = pipeline.store
        self.queues = pipeline.queues
        self.answering = pipeline.answering
        self.clock = clock

    def file(self, decision_id: str, appellant: str, statement: str, actor: str) -> tuple[AppealInfo, bool]:
        """Take an appeal; returns it and whether it is new (the same user appealing the same
        decision again gets the open appeal back)."""
        now = self.clock()
        with self.store.transaction() as session:
            appealed = content_store.get_decision(session, decision_id)
            if appealed is None or appealed.content_id is None:
                raise AppealedDecisionNotFoundError(f"no decision {decision_id!r}")
            if now - appealed.created_at > APPEAL_WINDOW:
                raise AppealError(
                    f"decision {decision_id} was taken on {appealed.created_at:%Y-%m-%d}; appeals are"
                    " accepted for six months"
                )
            current = content_store.current_decisions(session, [appealed.content_id])[appealed.content_id]
            if current.id != decision_id:
                raise AppealError(f"decision {decision_id} was replaced by {current.id}; appeal that one")
            existing = appeal_store.open_appeal_of(session, decision_id, appellant)
            if existing is not None:
                return existing, False
            excluded = appeal_store.decider_of(session, decision_id)
            audit = AuditLog(session)
            case = case_store.open_case_of(session, appealed.decision.subject)
            if case is not None:
                # one open case per subject: the appeal joins it, moves it to the queue appeals are
                # routed to, and brings its reviewer rule along
                facts = RoutingFacts(
                    CaseReason.APPEAL,
                    Category(case.category) if case.category else None,
                    case.source,
                    case.language,
                    case.country,
                )
                case.reason, case.decision_id, case.updated_at = CaseReason.APPEAL.value, decision_id, now
                case.queue, case.assignee, case.lease_expires_at = self.queues.route(facts), None, None
                restand(case)
                case.excluded_actor = excluded
                case_store.add_event(
                    session,
                    case.id,
                    now,
                    actor,
                    "appealed",
                    {"decision_id": decision_id, "queue": case.queue},
                )
                case_id = case.id
            else:
                [content] = content_store.load_contents(session, [appealed.content_id])
                case_id = create_case(
                    session,
                    audit,
                    self.queues,
                    CaseReason.APPEAL,
                    decision_id,
                    appealed.decision,
                    content,
                    appealed.signals,
                    actor,
                    now,
                    excluded_actor=excluded,
                )
            row = Appeal(
                id=new_id("apl"),
                decision_id=decision_id,
                subject_type=appealed.decision.subject.type.value,
                subject_id=appealed.decision.subject.id,
                appellant=appellant,
                statement=statement,
                received_at=now,
                case_id=case_id,
                state="open",
                outcome=None,
                decided_at=None,
                result_decision_id=None,
            )
            info = appeal_store.add_appeal(session, row)
            self.answering.appeal_filed(session, row)
            audit.append(
                actor=actor,
                action=AuditAction.APPEAL_RECEIVED,
                subject_type=info.subject.type.value,
                subject_id=info.subject.id,
                payload={"appeal_id": info.id, "decision_id": decision_id, "case_id": case_id},
                at=now,
            )
        return info, True

    def get(self, appeal_id: str) -> AppealInfo | None:
        with self.store.transaction() as session:
            return appeal_store.get_appeal(session, appeal_id)
