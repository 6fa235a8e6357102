"""The orders' clock watch."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from vigil.domain.decisions import (
    Action,
)
from vigil.domain.events import AuditAction, EventType
from vigil.domain.ids import iso, new_id
from vigil.domain.orders import (
    ORDER_RULES,
    OrderState,
    OrderType,
    Urgency,
    urgency,
)
from vigil.enforce.events import emit
from vigil.intake.orders.base import OrderDeskBase
from vigil.intake.orders.model import AUTO_ACTOR, URGENCY_RANK, ExecutionRecord
from vigil.store import content as content_store
from vigil.store import orders as order_store
from vigil.store.audit import AuditLog
from vigil.store.tables import Order


class OrderWatch(OrderDeskBase):
    """The clock watch: answers orders whose effect the platform confirmed, escalates those whose clock
    runs out, informs users once a withholding ends, releases preservation holds whose period is over."""

    def watch(self, limit: int = 200) -> bool:
        """One pass over the unanswered orders: answer those whose effect the platform confirmed,
        escalate those whose clock runs out, and delete the preserved data whose period is over.
        Returns whether a limit was reached (more to do now).

        Every process runs this watch: each order and hold it acts on is locked in this transaction,
        and those another process holds are skipped (``order_store.unanswered``), so an order is
        answered, escalated a step or has its users informed once."""
        now = self.clock()
        executed = (OrderState.EXECUTED.value, OrderState.PARTIALLY_EXECUTED.value)
        with self.store.transaction() as session:
            waiting = order_store.unanswered(session, executed, limit)
            confirmed = order_store.confirmations(
                session,
                {
                    o.id: ExecutionRecord.from_json(o.effect).enforcement_events if o.effect else ()
                    for o in waiting
                },
            )
            for order in waiting:
                if confirmed[order.id].confirmed:
                    self._answer(session, order, confirmed[order.id].at or order.executed_at or now, now)
            running = order_store.unanswered(
                session, [OrderState.VERIFIED.value, OrderState.IN_LEGAL_REVIEW.value, *executed], limit
            )
            for order in running:
                if order.deadline is not None:
                    self._escalate(session, order, now)
            due = order_store.user_notices_due(session, now, limit)
            for order in due:
                self._inform_users(session, order, now)
            released = order_store.release_expired_holds(session, now, limit)
            for hold in released:
                AuditLog(session).append(
                    AUTO_ACTOR,
                    AuditAction.PRESERVATION_RELEASED,
                    "content",
                    hold.content_id,
                    {"hold_id": hold.id, "order_id": hold.order_id, "until": iso(hold.until)},
                    now,
                )
        return limit in (len(waiting), len(running), len(due), len(released))

    def _inform_users(self, session: Session, order: Order, now: datetime) -> None:
        """The authority's withholding is over: tell the users whose content the order restricted, with
        the reasons (TCO Art. 11), by the same decision with ``notify_user`` added. A target whose
        decision in force is no longer the order's (an appeal or a court lifted it) is left alone."""
        assert order.effect is not None  # a notice falls due only when the order is executed
        record = ExecutionRecord.from_json(order.effect)
        ordered = {t.content_id: t.decision_id for t in record.targets if t.decision_id and t.content_id}
        in_force = content_store.current_decisions(session, list(ordered))
        still = [
            cid for cid, decision_id in ordered.items() if cid in in_force and in_force[cid].id == decision_id
        ]
        informed: list[str] = []
        for content in content_store.load_contents(session, still):
            current = in_force[content.id]
            told = replace(current.decision, actions=current.decision.actions | {Action.NOTIFY_USER})
            new_id_, _ = self.pipeline.record_reviewed(
                session, content, told, current.signals, AUTO_ACTOR, now
            )
            informed.append(new_id_)
        order.user_notice_due_at = None
        order.effect = replace(record, user_informed=True, user_informed_at=iso(now)).to_json()
        detail = {"decisions": informed}
        order_store.add_event(session, order.id, now, AUTO_ACTOR, "user_informed", detail)
        AuditLog(session).append(AUTO_ACTOR, AuditAction.ORDER_USER_INFORMED, "order", order.id, detail, now)

    def _escalate(self, session: Session, order: Order, now: datetime) -> None:
        assert order.deadline is not None
        level = urgency(order.deadline, ORDER_RULES[OrderType(order.type)].period, now)
        if URGENCY_RANK[level] <= URGENCY_RANK[Urgency(order.urgency)]:
            return
        order.urgency = level.value
        detail = {"urgency": level.value, "deadline": iso(order.deadline), "state": order.state}
        order_store.add_event(session, order.id, now, AUTO_ACTOR, "escalated", detail)
        AuditLog(session).append(AUTO_ACTOR, AuditAction.ORDER_ESCALATED, "order", order.id, detail, now)
        event_id = new_id("evt")
        # ``event_id`` is deprecated: the envelope's ``id``; goes in 0.3.0 (CHANGELOG.md)
        body = {"event_id": event_id, "order_id": order.id, **detail}
        emit(session, EventType.ORDER_ESCALATED, body, now, event_id=event_id)
