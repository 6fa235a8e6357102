"""Webhook endpoints, the outbox of events, and the delivery of each event to each endpoint."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from vigil.domain.enforcement import DeliveryState
from vigil.domain.ids import new_id
from vigil.store.records import from_row
from vigil.store.tables import OutboxEvent, WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    id: str
    url: str
    description: str
    active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    id: int
    event_id: str
    event_type: str
    endpoint_id: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery claimed for one attempt: everything needed to send it without the store."""

    id: int
    event_id: str
    event_type: str
    payload: str
    url: str
    secret: str
    attempts: int


def _endpoint(row: WebhookEndpoint) -> EndpointInfo:
    return from_row(EndpointInfo, row)  # the signing secret is no field of EndpointInfo: never read


def create_endpoint(session: Session, url: str, description: str, now: datetime) -> tuple[EndpointInfo, str]:
    """Register an endpoint; returns it and its signing secret (shown to the caller once)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = WebhookEndpoint(
        id=new_id("wh"), url=url, secret=secret, description=description, active=True, created_at=now
    )
    session.add(row)
    return _endpoint(row), secret


def list_endpoints(session: Session) -> list[EndpointInfo]:
    return [
        _endpoint(r) for r in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at))
    ]


def deactivate_endpoint(session: Session, endpoint_id: str, now: datetime) -> EndpointInfo | None:
    """Stop sending to an endpoint; what was still pending for it goes to the dead-letter list."""
    row = session.get(WebhookEndpoint, endpoint_id)
    if row is None:
        return None
    row.active = False
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.state == DeliveryState.PENDING.value
        )
        .values(state=DeliveryState.DEAD.value, last_error="endpoint_deactivated", locked_until=None)
    )
    return _endpoint(row)


def enqueue(
    session: Session, event_id: str, event_type: str, decision_id: str | None, payload: str, now: datetime
) -> None:
    """Write an event and one pending delivery per active endpoint, in the caller's transaction."""
    session.execute(
        insert(OutboxEvent),
        [
            {
                "id": event_id,
                "event_type": event_type,
                "decision_id": decision_id,
                "payload": payload,
                "created_at": now,
            }
        ],
    )
    endpoints = session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))).all()
    if endpoints:
        session.execute(
            insert(WebhookDelivery),
            [
                {
                    "event_id": event_id,
                    "endpoint_id": endpoint_id,
                    "state": DeliveryState.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "locked_until": None,
                    "last_status": None,
                    "last_error": "",
                    "delivered_at": None,
                    "created_at": now,
                }
                for endpoint_id in endpoints
            ],
        )


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta) -> list[DueDelivery]:
    """Claim up to ``limit`` due deliveries for ``lease``; a crashed sender's claims expire and are retried."""
    rows = session.execute(
        select(WebhookDelivery, OutboxEvent, WebhookEndpoint)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.state == DeliveryState.PENDING.value,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now),
            WebhookEndpoint.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    ).all()
    claimed: list[DueDelivery] = []
    for delivery, event, endpoint in rows:
        delivery.locked_until = now + lease
        claimed.append(
            DueDelivery(
                delivery.id,
                event.id,
                event.event_type,
                event.payload,
                endpoint.url,
                endpoint.secret,
                delivery.attempts,
            )
        )
    return claimed


def record_attempt(
    session: Session,
    delivery_id: int,
    now: datetime,
    succeeded: bool,
    status: int | None,
    error: str,
    retry_at: datetime | None,
) -> None:
    """Record one attempt: delivered, pending again from ``retry_at``, or dead when ``retry_at`` is None."""
    values: dict[str, object] = {
        "attempts": WebhookDelivery.attempts + 1,
        "last_status": status,
        "last_error": error[:1000],
        "locked_until": None,
    }
    if succeeded:
        values |= {"state": DeliveryState.DELIVERED.value, "delivered_at": now}
    elif retry_at is None:
        values |= {"state": DeliveryState.DEAD.value}
    else:
        values |= {"next_attempt_at": retry_at}
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))


def list_deliveries(
    session: Session, state: DeliveryState | None = None, event_id: str | None = None, limit: int = 100
) -> list[DeliveryInfo]:
    query = select(WebhookDelivery, OutboxEvent.event_type).join(
        OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id
    )
    if state is not None:
        query = query.where(WebhookDelivery.state == state.value)
    if event_id is not None:
        query = query.where(WebhookDelivery.event_id == event_id)
    rows = session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit)).all()
    # event_type is the event's, joined in: no column of the delivery
    return [from_row(DeliveryInfo, d, event_type=event_type) for d, event_type in rows]


def events_for_decision(session: Session, decision_id: str) -> list[str]:
    return list(session.scalars(select(OutboxEvent.id).where(OutboxEvent.decision_id == decision_id)))


def retry_delivery(session: Session, delivery_id: int, now: datetime) -> bool:
    """Put a dead delivery back in the queue; False if there is no such dead delivery to an active endpoint."""
    active = select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == DeliveryState.DEAD.value,
            WebhookDelivery.endpoint_id.in_(active),
        )
        .values(state=DeliveryState.PENDING.value, next_attempt_at=now, attempts=0, locked_until=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class DeliveryBacklog:
    """The pending webhook deliveries: how many (up to the cap the count was made with), when the
    oldest of them was created, and when the most overdue of them was due (None: none pending)."""

    pending: int
    oldest_created_at: datetime | None
    earliest_due_at: datetime | None


def delivery_backlog(session: Session, cap: int) -> DeliveryBacklog:
    """The pending deliveries, for the metrics. Bounded: the count and the oldest creation time are
    taken over at most ``cap`` pending rows (found through ``ix_webhook_deliveries_due``), the
    earliest due time is one seek in that index."""
    pending = (
        select(WebhookDelivery.created_at)
        .where(WebhookDelivery.state == DeliveryState.PENDING.value)
        .limit(cap)
        .subquery()
    )
    count, oldest = session.execute(select(func.count(), func.min(pending.c.created_at))).one()
    due = session.scalar(
        select(func.min(WebhookDelivery.next_attempt_at)).where(
            WebhookDelivery.state == DeliveryState.PENDING.value
        )
    )
    return DeliveryBacklog(int(count or 0), oldest, due)
