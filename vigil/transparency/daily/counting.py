"""Counting, in the event's own transaction: each hook adds its event's increments to the day's
counters (``vigil.store.daily``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.domain.decisions import (
    Decision,
)
from vigil.domain.orders import OrderState
from vigil.store import daily as counter_store
from vigil.store.content import NewDecision, StoredDecision
from vigil.store.tables import Appeal, DecisionRecord, Notice, Order
from vigil.transparency.daily.increments import (
    appeal_increments,
    day_of,
    decision_increments,
    notice_decided_increments,
    notice_received_increments,
    order_increments,
)


def count_decision(
    session: Session, new: NewDecision, previous: StoredDecision | None, actor: str, now: datetime
) -> None:
    """The decision hook (``vigil.pipeline.accountability``): adds the decision to the day it was
    taken, in one statement, or does nothing when it adds nothing (most decisions find nothing)."""
    increments = decision_increments(new.decision, previous.decision if previous is not None else None)
    if increments:
        counter_store.add(session, day_of(now), increments)


def count_notice_received(session: Session, notice: Notice) -> None:
    """Count a notice on the day it was received."""
    counter_store.add(
        session, day_of(notice.received_at), notice_received_increments(notice.category, notice.source)
    )


def count_notice_decided(session: Session, notice: Notice, decision: Decision) -> None:
    """Count a notice on the day it was answered (``decided_at`` and ``outcome`` already set)."""
    assert notice.decided_at is not None
    assert notice.outcome is not None
    counter_store.add(
        session,
        day_of(notice.decided_at),
        notice_decided_increments(
            notice.category,
            notice.source,
            notice.outcome,
            decision.automated_decision.value,
            notice.decided_at - notice.received_at,
        ),
    )


def count_order(session: Session, order: Order, now: datetime) -> None:
    """Count what the order's new state adds (call it each time the state changes, and at receipt)."""
    increments = order_increments(
        OrderState(order.state), order.country, order.type, order.category, order.refusal_ground, order.late
    )
    if increments:
        counter_store.add(session, day_of(now), increments)


def _automation(decision: Mapping[str, Any]) -> str:
    return str(decision["automated_decision"])


def _count_appeal(session: Session, appeal: Appeal, outcome: str | None, at: datetime) -> None:
    appealed = session.get(DecisionRecord, appeal.decision_id)
    assert appealed is not None  # an appeal names a recorded decision (a foreign key)
    counter_store.add(
        session, day_of(at), appeal_increments(outcome, appealed.category, _automation(appealed.decision))
    )


def count_appeal_filed(session: Session, appeal: Appeal) -> None:
    """Count an appeal on the day it was filed."""
    _count_appeal(session, appeal, None, appeal.received_at)


def count_appeal_decided(session: Session, appeal: Appeal) -> None:
    """Count an appeal on the day it was decided (``outcome`` and ``decided_at`` already set)."""
    assert appeal.outcome is not None
    assert appeal.decided_at is not None
    _count_appeal(session, appeal, appeal.outcome, appeal.decided_at)
