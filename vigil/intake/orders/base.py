"""What every part of the order desk shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.domain.events import AuditAction
from vigil.domain.ids import iso
from vigil.domain.orders import (
    OrderState,
    OrderTarget,
    OrderType,
    answered_late,
    check_transition,
)
from vigil.intake.orders.model import AUTO_ACTOR, OrderNotFoundError, Resolved, TargetOutcome, _targets
from vigil.intake.safeguards import Assessment, LegalConfig, OrderFacts, assess
from vigil.pipeline.service import Pipeline
from vigil.store import content as content_store
from vigil.store import orders as order_store
from vigil.store.audit import AuditLog
from vigil.store.authorities import AuthorityInfo, get_authority
from vigil.store.tables import Order
from vigil.transparency import daily


class OrderDeskBase:
    """The order desk's state and what all its parts share: moving an order from state to state
    (recorded, counted, audited), resolving its targets, assessing it by the safeguards, answering it."""

    def __init__(
        self,
        pipeline: Pipeline,
        legal: LegalConfig,
        accepted_languages: frozenset[str],
        clock: Callable[[], datetime],
    ) -> None:
        self.pipeline = pipeline
        self.store = pipeline.store
        self.legal = legal
        self.accepted_languages = accepted_languages
        self.clock = clock

    def _move(
        self,
        session: Session,
        order: Order,
        target: OrderState,
        actor: str,
        now: datetime,
        detail: dict[str, Any],
    ) -> None:
        check_transition(OrderState(order.state), target)
        order.state = target.value
        order.updated_at = now
        daily.count_order(session, order, now)
        order_store.add_event(session, order.id, now, actor, target.value, detail)
        AuditLog(session).append(actor, AuditAction.order_moved(target), "order", order.id, detail, now)

    @staticmethod
    def _authority_of(session: Session, order: Order) -> AuthorityInfo:
        authority = get_authority(session, order.authority_id)
        if authority is None:  # orders keep their authority: it is deactivated, never deleted
            raise OrderNotFoundError(f"order {order.id} names no registered authority")
        return authority

    def _resolve(self, session: Session, document: dict[str, Any]) -> Resolved:
        """The content each target names, and the targets that name nothing Vigil knows."""
        wanted: list[tuple[OrderTarget, str | None]] = []
        for target in _targets(document):
            content_id = target.content_id or (self.legal.content_id_of(target.url) if target.url else None)
            wanted.append((target, content_id))
        ids = [cid for _, cid in wanted if cid]
        found = {c.id: c for c in content_store.load_contents(session, ids)} if ids else {}
        contents = [found[cid] for _, cid in wanted if cid and cid in found]
        missing = [
            TargetOutcome(t.location, cid, "not_found", reason="no content Vigil knows is at this location")
            for t, cid in wanted
            if not cid or cid not in found
        ]
        return list({c.id: c for c in contents}.values()), missing

    def _assess(self, order: Order, resolved: Resolved) -> Assessment:
        document = order.document
        contents, missing = resolved
        accounts = tuple(document["accounts"])
        facts = OrderFacts(
            type=OrderType(order.type),
            country=order.country,
            legal_basis=document["legal_basis"],
            statement_of_reasons=document["statement_of_reasons"],
            scope_requested_global=document["territorial_scope"] == "global",
            accounts=accounts,
            missing_locations=tuple(m.location for m in missing),
        )
        return assess(facts, self.legal, contents)

    def _answer(self, session: Session, order: Order, effect_at: datetime, now: datetime) -> None:
        assert order.deadline is not None or order.state == OrderState.REFUSED.value
        order.answered_at = now
        order.late = answered_late(order.deadline, effect_at) if order.deadline is not None else False
        self._move(
            session,
            order,
            OrderState.ANSWERED,
            AUTO_ACTOR,
            now,
            {"effect_at": iso(effect_at), "late": order.late},
        )
