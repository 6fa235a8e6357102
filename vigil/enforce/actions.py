"""What the platform is asked to do: the enforcement event built from a decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from vigil.domain.decisions import Decision
from vigil.domain.enforcement import Enforcement
from vigil.domain.events import EventType
from vigil.domain.ids import new_id
from vigil.enforce.events import emit


def request_enforcement(
    session: Session, decision_id: str, decision: Decision, now: datetime, supersedes: str | None = None
) -> str:
    """Send the ``enforcement.requested`` event for a decision's platform actions; returns its id."""
    event_id = new_id("evt")
    body = Enforcement.of(event_id, decision_id, decision, supersedes).body()
    return emit(
        session, EventType.ENFORCEMENT_REQUESTED, body, now, decision_id=decision_id, event_id=event_id
    )
