"""What an answer to a notice, and an appeal, bring about: the pipeline's :class:`Answering`.

The review desk and the notice desk record answers; this counts them in the day's figures, sends
the ``notice.decided`` event and writes the audit entry, in their transaction and in that order
(the audit chain is hash-linked: the order of its entries is part of the record). The review layer
is handed :data:`ANSWERS` through the pipeline (``Pipeline.answering``), as it is handed the
decision path itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.domain.decisions import AutomatedDecision, Decision
from vigil.domain.events import AuditAction, EventType
from vigil.domain.ids import iso
from vigil.domain.notices import REDRESS
from vigil.enforce.events import emit
from vigil.store import notices as notice_store
from vigil.store.audit import AuditLog
from vigil.store.tables import Appeal, Notice
from vigil.transparency import daily


class Answers:
    """The :class:`vigil.review.answering.Answering` of every pipeline."""

    def notice_answered(
        self, session: Session, row: Notice, decision_id: str, decision: Decision, actor: str, now: datetime
    ) -> None:
        """Record ``decision`` as the answer to the notice, audit it and tell the platform (DSA
        Art. 16(5)): the outcome, what it rests on, whether automated means took it, and the redress
        available."""
        automated = decision.automated_decision is not AutomatedDecision.NOT_AUTOMATED
        notice_store.record_answer(row, decision_id, decision.outcome, automated, now)
        daily.count_notice_decided(session, row, decision)
        body: dict[str, Any] = {
            "notice_id": row.id,
            "content_id": row.content_id,
            "source": row.source,
            "flagger_id": row.flagger_id,
            "decision_id": decision_id,
            "decided_at": iso(now),
            "outcome": decision.outcome,
            "category": decision.category.value if decision.category else None,
            "ground": decision.ground.to_json() if decision.ground else None,
            "territorial_scope": decision.territorial_scope.to_json(),
            "automated": row.automated,
            "automated_detection": decision.automated_detection,
            "automated_decision": decision.automated_decision.value,
            "redress": list(REDRESS),
        }
        event_id = emit(session, EventType.NOTICE_DECIDED, body, now, decision_id=decision_id)
        AuditLog(session).append(
            actor=actor,
            action=AuditAction.NOTICE_DECIDED,
            subject_type="content",
            subject_id=row.content_id,
            payload={
                "notice_id": row.id,
                "decision_id": decision_id,
                "outcome": row.outcome,
                "automated": row.automated,
                "event_id": event_id,
            },
            at=now,
        )

    def appeal_filed(self, session: Session, row: Appeal) -> None:
        daily.count_appeal_filed(session, row)

    def appeal_decided(self, session: Session, row: Appeal) -> None:
        daily.count_appeal_decided(session, row)


ANSWERS = Answers()
