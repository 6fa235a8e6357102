"""Reading orders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from vigil.domain.orders import (
    ORDER_RULES,
    OrderState,
    OrderType,
    time_left,
    urgency,
)
from vigil.domain.roles import Role
from vigil.intake.orders.base import OrderDeskBase
from vigil.intake.orders.model import Caller, OrderNotFoundError, OrderView
from vigil.store import orders as order_store
from vigil.store.authorities import get_authority
from vigil.store.tables import Order


class OrderReading(OrderDeskBase):
    """Reading orders: an order or a list of them as the API and the legal console show them; an
    authority sees only its own."""

    def _own_row(self, session: Session, order_id: str, caller: Caller, lock: bool = False) -> Order:
        order = session.get(Order, order_id, with_for_update=lock)
        # an authority sees only its own orders; another's is answered as if it did not exist
        if order is None or (caller.role is Role.AUTHORITY and order.authority_id != caller.bound_to):
            raise OrderNotFoundError(f"no order {order_id!r}")
        return order

    def get(self, order_id: str, caller: Caller) -> OrderView:
        with self.store.transaction() as session:
            return self._view(session, self._own_row(session, order_id, caller))

    def list(
        self, caller: Caller, states: Sequence[OrderState] | None = None, limit: int = 100, offset: int = 0
    ) -> list[OrderView]:
        """Orders by time left; an authority's key lists its own only."""
        with self.store.transaction() as session:
            rows = order_store.list_orders(
                session,
                caller.bound_to if caller.role is Role.AUTHORITY else None,
                [s.value for s in states] if states else None,
                limit,
                offset,
            )
            return [self._view(session, row, with_events=False) for row in rows]

    def _view(self, session: Session, order: Order, with_events: bool = True) -> OrderView:
        now = self.clock()
        rule = ORDER_RULES[OrderType(order.type)]
        authority = get_authority(session, order.authority_id)
        running = order.deadline is not None and order.answered_at is None
        return OrderView(
            id=order.id,
            authority_id=order.authority_id,
            authority_name=authority.name if authority else order.authority_id,
            country=order.country,
            reference=order.reference,
            type=OrderType(order.type),
            state=OrderState(order.state),
            document=order.document,
            received_at=order.received_at,
            clock_started_at=order.clock_started_at,
            deadline=order.deadline,
            statutory_deadline=rule.statutory,
            urgency=urgency(order.deadline, rule.period, now) if running and order.deadline else None,
            seconds_left=int(time_left(order.deadline, now).total_seconds())
            if running and order.deadline
            else None,
            safeguards=order.safeguards,
            senior_review=order.senior_review,
            executed_at=order.executed_at,
            effect=order.effect,
            refusal_ground=order.refusal_ground,
            refusal_explanation=order.refusal_explanation,
            answered_at=order.answered_at,
            late=order.late,
            events=tuple(order_store.order_events(session, order.id)) if with_events else (),
        )
