"""The same figures from the source tables: every decision, notice, order and appeal of a day
through the same pure rules, to check the counters and repair them after a bug."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from vigil.domain.decisions import (
    Decision,
    decision_from_json,
)
from vigil.domain.events import AuditAction
from vigil.domain.orders import OrderState
from vigil.store import daily as counter_store
from vigil.store.audit import AuditLog
from vigil.store.daily import CounterRow, Increment
from vigil.store.tables import Appeal, DecisionRecord, Notice, Order, OrderEvent
from vigil.transparency.daily.counting import _automation
from vigil.transparency.daily.figures import DailyFigures
from vigil.transparency.daily.increments import (
    appeal_increments,
    decision_increments,
    notice_decided_increments,
    notice_received_increments,
    order_increments,
)
from vigil.transparency.daily.reading import figures_from_counters, figures_of_day


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in UTC."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _decision_increments_of_day(session: Session, start: datetime, end: datetime) -> Iterable[Increment]:
    """Every decision of the day with the decision before it on the same item (which may be older)."""
    in_day = and_(DecisionRecord.created_at >= start, DecisionRecord.created_at < end)
    items = select(DecisionRecord.content_id).where(in_day, DecisionRecord.content_id.is_not(None))
    rows = session.execute(
        select(DecisionRecord.content_id, DecisionRecord.created_at, DecisionRecord.decision)
        .where(
            or_(
                and_(DecisionRecord.content_id.in_(items), DecisionRecord.created_at < end),
                and_(in_day, DecisionRecord.content_id.is_(None)),
            )
        )
        .order_by(DecisionRecord.content_id, DecisionRecord.created_at, DecisionRecord.id)
        .execution_options(yield_per=5000)
    )
    item: str | None = None
    previous: Decision | dict[str, Any] | None = None
    for content_id, created_at, raw in rows:
        if content_id is None or content_id != item:
            item, previous = content_id, None
        if created_at >= start:
            if isinstance(previous, dict):
                previous = decision_from_json(previous)
            decision = decision_from_json(raw)
            yield from decision_increments(decision, previous)
            previous = decision
        else:  # parsed only if a decision of the day follows it
            previous = raw


def _notice_increments_of_day(session: Session, start: datetime, end: datetime) -> Iterable[Increment]:
    received = session.execute(
        select(Notice.category, Notice.source).where(Notice.received_at >= start, Notice.received_at < end)
    )
    for category, source in received:
        yield from notice_received_increments(category, source)
    decided = session.execute(
        select(
            Notice.category,
            Notice.source,
            Notice.outcome,
            Notice.received_at,
            Notice.decided_at,
            DecisionRecord.decision,
        )
        .join(DecisionRecord, DecisionRecord.id == Notice.decision_id)
        .where(Notice.decided_at >= start, Notice.decided_at < end)
    )
    for category, source, outcome, received_at, decided_at, decision in decided:
        yield from notice_decided_increments(
            category, source, outcome, _automation(decision), decided_at - received_at
        )


def _order_increments_of_day(session: Session, start: datetime, end: datetime) -> Iterable[Increment]:
    received = session.execute(
        select(Order.country, Order.type, Order.category).where(
            Order.received_at >= start, Order.received_at < end
        )
    )
    for country, order_type, category in received:
        yield from order_increments(OrderState.RECEIVED, country, order_type, category, None, None)
    # an answered order's state says only "answered": how it was given effect is in its events
    moved = session.execute(
        select(OrderEvent.kind, Order.country, Order.type, Order.category, Order.refusal_ground)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(
            OrderEvent.kind.in_(
                [OrderState.EXECUTED.value, OrderState.PARTIALLY_EXECUTED.value, OrderState.REFUSED.value]
            ),
            OrderEvent.at >= start,
            OrderEvent.at < end,
        )
    )
    for kind, country, order_type, category, ground in moved:
        yield from order_increments(OrderState(kind), country, order_type, category, ground, None)
    answered = session.execute(
        select(Order.country, Order.type, Order.category, Order.late).where(
            Order.answered_at >= start, Order.answered_at < end
        )
    )
    for country, order_type, category, late in answered:
        yield from order_increments(OrderState.ANSWERED, country, order_type, category, None, late)


def _appeal_increments_of_day(session: Session, start: datetime, end: datetime) -> Iterable[Increment]:
    appealed = (DecisionRecord.category, DecisionRecord.decision)
    filed = session.execute(
        select(*appealed)
        .join(Appeal, Appeal.decision_id == DecisionRecord.id)
        .where(Appeal.received_at >= start, Appeal.received_at < end)
    )
    for category, decision in filed:
        yield from appeal_increments(None, category, _automation(decision))
    decided = session.execute(
        select(Appeal.outcome, *appealed)
        .join(DecisionRecord, Appeal.decision_id == DecisionRecord.id)
        .where(Appeal.decided_at >= start, Appeal.decided_at < end)
    )
    for outcome, category, decision in decided:
        yield from appeal_increments(outcome, category, _automation(decision))


def recompute(session: Session, day: date) -> list[Increment]:
    """The day's counters derived from the decisions, notices, orders and appeals tables, by the
    same rules as the counting (slow: it reads every row of the day)."""
    start, end = day_bounds(day)
    return counter_store.summed(
        chain.from_iterable(
            source(session, start, end)
            for source in (
                _decision_increments_of_day,
                _notice_increments_of_day,
                _order_increments_of_day,
                _appeal_increments_of_day,
            )
        )
    )


def recomputed_figures(session: Session, day: date) -> DailyFigures:
    """The day's figures derived from the source tables, without touching its counters."""
    return figures_from_counters(day, (CounterRow(*i.key, value=i.value) for i in recompute(session, day)))


def rebuild(session: Session, day: date, actor: str, now: datetime) -> DailyFigures:
    """Replace the day's counters by what the source tables say (a repair after a bug), audited, in
    the caller's transaction; returns the day's figures as they now stand."""
    # the day's lock first: no event can then be counted between the reading and the replacing
    counter_store.lock_day(session, day.isoformat())
    before = {
        (c.metric, c.category, c.action, c.source, c.territory, c.automated): c.value
        for c in counter_store.counters_of_day(session, day.isoformat())
    }
    increments = recompute(session, day)
    after = {i.key: i.value for i in increments}
    counter_store.replace_day(session, day.isoformat(), increments)
    AuditLog(session).append(
        actor,
        AuditAction.DAILY_FIGURES_REBUILT,
        "daily_figures",
        day.isoformat(),
        {
            "counters_before": len(before),
            "counters_after": len(after),
            "counters_corrected": sum(
                1 for key in before.keys() | after.keys() if before.get(key) != after.get(key)
            ),
        },
        now,
    )
    return figures_of_day(session, day)
