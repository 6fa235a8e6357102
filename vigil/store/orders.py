"""Orders, their events and the preservation holds they create."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.domain.ids import iso, new_id
from vigil.store.tables import (
    ContentHash,
    ContentItem,
    DecisionRecord,
    Order,
    OrderEvent,
    OutboxEvent,
    PreservationHold,
    WebhookDelivery,
)

MAX_EVENTS_SHOWN = 500


@dataclass(frozen=True, slots=True)
class OrderEventInfo:
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]


def add_event(
    session: Session, order_id: str, at: datetime, actor: str, kind: str, detail: dict[str, Any]
) -> None:
    session.add(OrderEvent(order_id=order_id, at=at, actor=actor, kind=kind, detail=detail))


def order_events(session: Session, order_id: str) -> list[OrderEventInfo]:
    rows = session.scalars(
        select(OrderEvent)
        .where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.id)
        .limit(MAX_EVENTS_SHOWN)
    )
    return [OrderEventInfo(r.at, r.actor, r.kind, r.detail) for r in rows]


def open_question_id(session: Session, order_id: str) -> str | None:
    """The id of the order's latest request for clarification, which an answer must name."""
    detail = session.scalar(
        select(OrderEvent.detail)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind == "awaiting_clarification")
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    found = detail.get("question_id") if detail else None
    return str(found) if found else None


def approvers(session: Session, order_id: str) -> list[str]:
    """The distinct people who approved the order's disclosure, in order."""
    rows = session.scalars(
        select(OrderEvent.actor)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind == "approved")
        .order_by(OrderEvent.id)
    )
    return list(dict.fromkeys(rows))


def reference_taken(session: Session, authority_id: str, reference: str) -> bool:
    found = session.scalar(
        select(Order.id).where(Order.authority_id == authority_id, Order.reference == reference)
    )
    return found is not None


def list_orders(
    session: Session,
    authority_id: str | None,
    states: Sequence[str] | None,
    limit: int,
    offset: int,
) -> list[Order]:
    """Orders by time left (open ones first, nearest deadline first), then newest received."""
    query = select(Order)
    if authority_id is not None:
        query = query.where(Order.authority_id == authority_id)
    if states:
        query = query.where(Order.state.in_(states))
    query = query.order_by(
        Order.answered_at.is_not(None), Order.deadline.is_(None), Order.deadline, Order.received_at.desc()
    )
    return list(session.scalars(query.limit(limit).offset(offset)))


def unanswered(session: Session, states: Sequence[str], limit: int) -> list[Order]:
    """Orders in ``states`` not yet answered, nearest deadline first, locked for this transaction.

    Orders another transaction holds are skipped (``SKIP LOCKED``): with several processes each order
    is looked at by one of them at a time, and the row returned is the newest, so what one process
    did (answered, escalated) is seen by the next before it acts. SQLite has one writer at a time.
    """
    return list(
        session.scalars(
            select(Order)
            .where(Order.state.in_(states), Order.answered_at.is_(None))
            .order_by(Order.deadline.is_(None), Order.deadline)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


@dataclass(frozen=True, slots=True)
class EffectConfirmation:
    """Whether the platform confirmed every event that gives effect to an order."""

    confirmed: bool
    at: datetime | None  # the last confirmation, once all are confirmed


def confirmations(
    session: Session, events_by_order: Mapping[str, Sequence[str]]
) -> dict[str, EffectConfirmation]:
    """Per order, whether the platform confirmed every event that gives it effect, in one query.

    An event is confirmed when one of its deliveries succeeded; an event with no deliveries (no
    webhook endpoint was registered) has nothing to wait for."""
    every = sorted({e for events in events_by_order.values() for e in events})
    delivered: dict[str, tuple[int, datetime | None]] = {}
    for chunk in range(0, len(every), 500):
        rows = session.execute(
            select(
                WebhookDelivery.event_id,
                func.count(WebhookDelivery.id),
                func.max(WebhookDelivery.delivered_at),
            )
            .where(WebhookDelivery.event_id.in_(every[chunk : chunk + 500]))
            .group_by(WebhookDelivery.event_id)
        ).all()
        delivered.update({event_id: (count, at) for event_id, count, at in rows})
    return {order_id: _confirmed(events, delivered) for order_id, events in events_by_order.items()}


def _confirmed(
    event_ids: Sequence[str], delivered: Mapping[str, tuple[int, datetime | None]]
) -> EffectConfirmation:
    last: datetime | None = None
    for event_id in event_ids:
        count, at = delivered.get(event_id, (0, None))
        if count == 0:
            continue
        if at is None:
            return EffectConfirmation(False, None)
        last = at if last is None or at > last else last
    return EffectConfirmation(True, last)


def event_ids_of_decision(session: Session, decision_id: str) -> list[str]:
    return list(session.scalars(select(OutboxEvent.id).where(OutboxEvent.decision_id == decision_id)))


def account_items(session: Session, account_id: str, limit: int) -> list[ContentItem]:
    return list(
        session.scalars(
            select(ContentItem)
            .where(ContentItem.author_id == account_id)
            .order_by(ContentItem.received_at, ContentItem.id)
            .limit(limit)
        )
    )


def _snapshot(session: Session, item: ContentItem) -> dict[str, Any]:
    hashes = session.scalars(
        select(ContentHash).where(ContentHash.content_id == item.id).order_by(ContentHash.id)
    )
    decisions = session.scalars(
        select(DecisionRecord).where(DecisionRecord.content_id == item.id).order_by(DecisionRecord.created_at)
    )
    return {
        "content": {
            "id": item.id,
            "kind": item.kind,
            "audience": item.audience,
            "author_id": item.author_id,
            "channel_id": item.channel_id,
            "country": item.country,
            "reach": item.reach,
            "language": item.language,
            "text": item.text,
            "created_at": iso(item.created_at),
            "received_at": iso(item.received_at),
            "media_signals": item.media_signals or [],
        },
        "media_hashes": [
            {"media_id": h.media_id, "type": h.hash_type, "value": h.value, "quality": h.quality}
            for h in hashes
        ],
        "decisions": [
            {"id": d.id, "created_at": iso(d.created_at), "decision": d.decision, "signals": d.signals}
            for d in decisions
        ],
    }


def preserve(
    session: Session,
    content_ids: Sequence[str],
    order_id: str | None,
    reason: str,
    now: datetime,
    until: datetime,
) -> list[str]:
    """Keep a snapshot of each item, its media hashes and its decisions until ``until``; returns the
    holds' ids. The media itself stays with the platform, which the enforcement event tells to keep it."""
    held: list[str] = []
    for item in session.scalars(
        select(ContentItem).where(ContentItem.id.in_(content_ids)).order_by(ContentItem.id)
    ):
        hold = PreservationHold(
            id=new_id("hold"),
            content_id=item.id,
            order_id=order_id,
            reason=reason,
            snapshot=_snapshot(session, item),
            preserved_at=now,
            until=until,
            released_at=None,
        )
        session.add(hold)
        held.append(hold.id)
    return held


def user_notices_due(session: Session, now: datetime, limit: int) -> list[Order]:
    """Executed orders whose users may be told now that the authority's withholding is over, locked
    for this transaction (those another transaction holds are skipped, as in ``unanswered``)."""
    return list(
        session.scalars(
            select(Order)
            .where(Order.user_notice_due_at <= now)
            .order_by(Order.user_notice_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def release_expired_holds(session: Session, now: datetime, limit: int) -> list[PreservationHold]:
    """End the holds whose period is over: the snapshot is deleted (TCO Art. 6: kept six months,
    then deleted) and the hold stays as the record that it existed. Returns the holds released.
    Holds another transaction is releasing are skipped (``SKIP LOCKED``), so each is released once."""
    rows = list(
        session.scalars(
            select(PreservationHold)
            .where(PreservationHold.until <= now, PreservationHold.released_at.is_(None))
            .order_by(PreservationHold.until)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.snapshot = {}
        row.released_at = now
    return rows


@dataclass(frozen=True, slots=True)
class OrderClocks:
    """The clocks of the orders not yet answered: how many are in each state, how many are past
    their deadline, and the nearest deadline (None: no clock runs)."""

    open_by_state: Mapping[str, int]
    overdue: int
    nearest_deadline: datetime | None


def open_clocks(session: Session, states: Sequence[str], now: datetime) -> OrderClocks:
    """The clocks of the unanswered orders in ``states``, for the metrics: one grouped query over
    ``ix_orders_state_deadline`` (open orders are few; answered ones are not read)."""
    rows = session.execute(
        select(
            Order.state,
            func.count(),
            func.min(Order.deadline),
            func.count(Order.deadline).filter(Order.deadline < now),
        )
        .where(Order.state.in_(states), Order.answered_at.is_(None))
        .group_by(Order.state)
    ).all()
    deadlines = [deadline for _, _, deadline, _ in rows if deadline is not None]
    return OrderClocks(
        open_by_state={state: int(count) for state, count, _, _ in rows},
        overdue=sum(int(late or 0) for _, _, _, late in rows),
        nearest_deadline=min(deadlines) if deadlines else None,
    )
