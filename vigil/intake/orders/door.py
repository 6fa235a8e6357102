"""Orders at the door."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.domain.errors import ErrorKind
from vigil.domain.events import AuditAction
from vigil.domain.ids import iso, new_id
from vigil.domain.orders import (
    ORDER_RULES,
    OrderDocument,
    OrderState,
    Urgency,
    order_deadline,
)
from vigil.intake.authorities import signature_valid
from vigil.intake.orders.execution import OrderExecution
from vigil.intake.orders.model import (
    AUTO_ACTOR,
    MAX_CLOCK_SKEW,
    MAX_ORDER_AGE,
    Caller,
    OrderActionError,
    OrderRejectedError,
    OrderView,
    Resolved,
    document_to_json,
)
from vigil.intake.orders.reading import OrderReading
from vigil.store import orders as order_store
from vigil.store.audit import AuditLog
from vigil.store.authorities import AuthorityInfo, get_authority
from vigil.store.tables import Order
from vigil.transparency import daily


class OrderDoor(OrderExecution, OrderReading):
    """The door: an order verified (authority, signature, competence, language, age, reference), recorded,
    assessed by the safeguards and run at once where they allow; a refusal is audited."""

    def receive(
        self,
        caller: Caller,
        body: bytes,
        signature: str | None,
        document: OrderDocument | None,
        problem: str = "",
    ) -> OrderView:
        """Verify and record an order; run it at once where the safeguards allow.

        ``document`` is None when the body could not be read as an order (``problem`` says why): the
        attempt is still refused and audited like any other.
        """
        now = self.clock()
        try:
            with self.store.transaction() as session:
                authority = self._verify(session, caller, body, signature, document, problem, now)
                assert document is not None
                order = self._record(session, caller, authority, body, signature or "", document, now)
                view = self._view(session, order)
        except OrderRejectedError as refused:
            self._audit_rejection(caller, body, document, refused, now)
            raise
        except IntegrityError:
            # the same reference arrived twice at once: the other one was recorded
            replayed = OrderRejectedError(
                ErrorKind.CONFLICT, "order_replayed", "this order reference was received already"
            )
            self._audit_rejection(caller, body, document, replayed, now)
            raise replayed from None
        return view

    def _verify(
        self,
        session: Session,
        caller: Caller,
        body: bytes,
        signature: str | None,
        document: OrderDocument | None,
        problem: str,
        now: datetime,
    ) -> AuthorityInfo:
        authority = get_authority(session, caller.bound_to or "")
        if authority is None or not authority.active:
            raise OrderRejectedError(
                ErrorKind.FORBIDDEN,
                "authority_not_registered",
                f"no active authority {caller.bound_to!r} is registered; register with the platform's "
                "point of contact first (see /contact)",
            )
        if not signature:
            raise OrderRejectedError(
                ErrorKind.UNAUTHENTICATED,
                "signature_missing",
                "sign the request body with the authority's Ed25519 key: 'Vigil-Signature'",
            )
        if not signature_valid(authority.public_key, body, signature):
            raise OrderRejectedError(
                ErrorKind.UNAUTHENTICATED,
                "signature_invalid",
                "the Vigil-Signature header is not a valid Ed25519 signature of this body by the "
                "authority's registered key",
            )
        if document is None:
            raise OrderRejectedError(
                ErrorKind.INVALID, "invalid_order", problem or "the body is not an order"
            )
        if document.authority_id != authority.id:
            raise OrderRejectedError(
                ErrorKind.FORBIDDEN,
                "authority_mismatch",
                f"the order names authority {document.authority_id!r} but the key belongs to {authority.id!r}",
            )
        if document.type not in authority.competence:
            raise OrderRejectedError(
                ErrorKind.FORBIDDEN,
                "outside_competence",
                f"{authority.id} is registered for {', '.join(sorted(t.value for t in authority.competence))}, "
                f"not {document.type.value}",
            )
        if document.language not in self.accepted_languages:
            raise OrderRejectedError(
                ErrorKind.INVALID,
                "language_not_accepted",
                f"orders are accepted in {', '.join(sorted(self.accepted_languages))}, not {document.language!r}",
            )
        if document.issued_at > now + MAX_CLOCK_SKEW or document.issued_at < now - MAX_ORDER_AGE:
            raise OrderRejectedError(
                ErrorKind.INVALID,
                "order_stale",
                f"issued_at {iso(document.issued_at)} is in the future or more than "
                f"{MAX_ORDER_AGE.days} days old; issue and sign the order again",
            )
        if order_store.reference_taken(session, authority.id, document.reference):
            raise OrderRejectedError(
                ErrorKind.CONFLICT,
                "order_replayed",
                f"order {document.reference!r} of {authority.id} was received already",
            )
        return authority

    def _audit_rejection(
        self,
        caller: Caller,
        body: bytes,
        document: OrderDocument | None,
        refused: OrderRejectedError,
        now: datetime,
    ) -> None:
        with self.store.transaction() as session:
            AuditLog(session).append(
                caller.actor,
                AuditAction.ORDER_REJECTED,
                "authority",
                caller.bound_to or "",
                {
                    "code": refused.code,
                    "reason": refused.message,
                    "reference": document.reference if document else None,
                    "type": document.type.value if document else None,
                    "body_sha256": hashlib.sha256(body).hexdigest(),
                },
                now,
            )

    def _record(
        self,
        session: Session,
        caller: Caller,
        authority: AuthorityInfo,
        body: bytes,
        signature: str,
        document: OrderDocument,
        now: datetime,
    ) -> Order:
        rule = ORDER_RULES[document.type]
        order = Order(
            id=new_id("ord"),
            authority_id=authority.id,
            reference=document.reference,
            type=document.type.value,
            state=OrderState.RECEIVED.value,
            country=authority.country,
            category=document.category.value if document.category else None,
            document=document_to_json(document),
            signature=signature,
            issued_at=document.issued_at,
            received_at=now,
            clock_started_at=now,
            deadline=order_deadline(now, rule.period, document.respond_by),
            safeguards={},
            senior_review=False,
            executed_at=None,
            effect=None,
            refusal_ground=None,
            refusal_explanation=None,
            answered_at=None,
            late=None,
            urgency=Urgency.ON_TRACK.value,
            user_notice_due_at=None,
            updated_at=now,
        )
        session.add(order)
        session.flush()  # the unique reference is checked here, before anything else is written
        daily.count_order(session, order, now)
        audit = AuditLog(session)
        order_store.add_event(
            session,
            order.id,
            now,
            caller.actor,
            "received",
            {"body_sha256": hashlib.sha256(body).hexdigest()},
        )
        audit.append(
            caller.actor,
            AuditAction.ORDER_RECEIVED,
            "order",
            order.id,
            {
                "authority": authority.id,
                "reference": document.reference,
                "type": document.type.value,
                "deadline": iso(order.deadline) if order.deadline else None,
            },
            now,
        )
        self._move(
            session,
            order,
            OrderState.VERIFIED,
            caller.actor,
            now,
            {"signature": "valid", "competence": "yes"},
        )
        resolved = self._resolve(session, order.document)
        assessment = self._assess(order, resolved)
        order.safeguards = assessment.to_json()
        order.senior_review = assessment.senior_review
        if not (assessment.auto_execute and self._auto_execute(session, order, authority, resolved, now)):
            self._move(
                session,
                order,
                OrderState.IN_LEGAL_REVIEW,
                AUTO_ACTOR,
                now,
                {
                    "senior_review": assessment.senior_review,
                    "flags": sorted(f.value for f in assessment.flags),
                },
            )
        return order

    def _auto_execute(
        self, session: Session, order: Order, authority: AuthorityInfo, resolved: Resolved, now: datetime
    ) -> bool:
        """Execute without a person; False when there turns out to be nothing to execute (the
        order's accounts hold no data), which legal staff then look at."""
        try:
            self._execute(
                session, order, authority, resolved, AUTO_ACTOR, now, automated=True, chosen=None, note=""
            )
        except OrderActionError:
            return False
        return True
