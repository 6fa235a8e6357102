"""Legal staff's actions on orders."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from vigil.domain.errors import ErrorKind
from vigil.domain.events import AuditAction
from vigil.domain.ids import iso, new_id
from vigil.domain.orders import (
    ORDER_RULES,
    OrderEffect,
    OrderState,
    OrderType,
    RefusalGround,
    Urgency,
    check_transition,
    order_deadline,
)
from vigil.domain.roles import Role
from vigil.intake.authorities import signature_valid
from vigil.intake.orders.execution import OrderExecution
from vigil.intake.orders.model import (
    LEGAL_ROLES,
    Caller,
    Clarification,
    OrderActionError,
    OrderNotFoundError,
    OrderRejectedError,
    OrderView,
)
from vigil.intake.orders.reading import OrderReading
from vigil.store import orders as order_store
from vigil.store.audit import AuditLog
from vigil.store.authorities import get_authority
from vigil.store.tables import Order


class OrderLegal(OrderExecution, OrderReading):
    """Legal staff's actions on an order: execute, approve a disclosure, refuse, ask for clarification;
    and the authority's signed answer to a question."""

    def _legal_row(self, session: Session, order_id: str, caller: Caller) -> Order:
        if caller.role not in LEGAL_ROLES:
            raise OrderActionError(
                "forbidden", f"the {caller.role.value} role does not act on orders", ErrorKind.FORBIDDEN
            )
        order = session.get(Order, order_id)
        if order is None:
            raise OrderNotFoundError(f"no order {order_id!r}")
        if order.senior_review and caller.role is not Role.SENIOR_LEGAL:
            raise OrderActionError(
                "senior_review_required",
                "the safeguards hold this order for senior legal review: "
                + "; ".join(f["detail"] for f in order.safeguards.get("findings", [])),
                ErrorKind.FORBIDDEN,
            )
        return order

    def execute(
        self, order_id: str, caller: Caller, content_ids: Sequence[str] | None, note: str
    ) -> OrderView:
        """Give effect to the order after legal review: to every target, or to ``content_ids`` only
        (partial execution; ``note`` says why the rest is not executed)."""
        now = self.clock()
        with self.store.transaction() as session:
            order = self._legal_row(session, order_id, caller)
            if ORDER_RULES[OrderType(order.type)].effect is OrderEffect.DISCLOSE:
                raise OrderActionError(
                    "approval_required", "a disclosure is given effect by its approvals (POST .../approve)"
                )
            self._require_state(order, OrderState.IN_LEGAL_REVIEW)
            self._execute_reviewed(session, order, caller, now, content_ids, note)
        return self.get(order_id, caller)

    def _execute_reviewed(
        self,
        session: Session,
        order: Order,
        caller: Caller,
        now: datetime,
        chosen: Sequence[str] | None,
        note: str,
    ) -> None:
        """Give effect to the order as legal staff decided it."""
        authority = self._authority_of(session, order)
        resolved = self._resolve(session, order.document)
        self._execute(session, order, authority, resolved, caller.actor, now, False, chosen, note)

    def approve(self, order_id: str, caller: Caller, note: str) -> OrderView:
        """Approve a disclosure; the second distinct approver's approval discloses."""
        now = self.clock()
        with self.store.transaction() as session:
            order = self._legal_row(session, order_id, caller)
            if ORDER_RULES[OrderType(order.type)].effect is not OrderEffect.DISCLOSE:
                raise OrderActionError(
                    "not_a_disclosure", "only disclosures are approved; execute this order instead"
                )
            self._require_state(order, OrderState.IN_LEGAL_REVIEW)
            before = order_store.approvers(session, order.id)
            if caller.actor in before:
                raise OrderActionError(
                    "already_approved", "you approved this disclosure already; a second person must"
                )
            order_store.add_event(session, order.id, now, caller.actor, "approved", {"note": note})
            AuditLog(session).append(
                caller.actor, AuditAction.ORDER_APPROVED, "order", order.id, {"note": note}, now
            )
            if len(before) + 1 >= order.safeguards.get("approvals_required", 2):
                self._execute_reviewed(session, order, caller, now, None, note)
        return self.get(order_id, caller)

    def refuse(self, order_id: str, caller: Caller, ground: RefusalGround, explanation: str) -> OrderView:
        """Refuse the order with its grounds; the authority is answered at once."""
        now = self.clock()
        with self.store.transaction() as session:
            order = self._legal_row(session, order_id, caller)
            check_transition(OrderState(order.state), OrderState.REFUSED)
            order.refusal_ground = ground.value
            order.refusal_explanation = explanation
            self._move(
                session,
                order,
                OrderState.REFUSED,
                caller.actor,
                now,
                {"ground": ground.value, "explanation": explanation},
            )
            self._answer(session, order, now, now)
        return self.get(order_id, caller)

    def request_clarification(self, order_id: str, caller: Caller, question: str) -> OrderView:
        """Ask the authority for clarification; the clock stops until it answers (TCO Art. 3(8))."""
        now = self.clock()
        with self.store.transaction() as session:
            order = self._legal_row(session, order_id, caller)
            check_transition(OrderState(order.state), OrderState.AWAITING_CLARIFICATION)
            order.deadline = None
            # the authority's signed answer must name this id: it binds the answer to this question
            # of this order, so that it cannot be replayed on another order or a later question
            detail = {"question": question, "question_id": new_id("clq")}
            self._move(session, order, OrderState.AWAITING_CLARIFICATION, caller.actor, now, detail)
        return self.get(order_id, caller)

    def clarify(
        self,
        order_id: str,
        caller: Caller,
        body: bytes,
        signature: str | None,
        answer: Clarification,
    ) -> OrderView:
        """The authority's signed answer to a request for clarification: the clock starts afresh.

        The signed document names the order and the question it answers, so the same signed bytes
        cannot retarget another order or answer a later question: each answer is usable once.
        """
        now = self.clock()
        try:
            with self.store.transaction() as session:
                # locked: two deliveries of the same answer at once must not both be taken
                order = self._own_row(session, order_id, caller, lock=True)
                self._check_clarification(session, order, body, signature, answer)
                self._clarified(session, order, caller, answer, now)
        except OrderRejectedError as refused:
            self._audit_clarification_refused(caller, order_id, body, refused, now)
            raise
        return self.get(order_id, caller)

    def _check_clarification(
        self, session: Session, order: Order, body: bytes, signature: str | None, answer: Clarification
    ) -> None:
        authority = get_authority(session, order.authority_id)
        if authority is None or not authority.active:
            raise OrderRejectedError(
                ErrorKind.FORBIDDEN, "authority_not_registered", "the authority is no longer registered"
            )
        if not signature or not signature_valid(authority.public_key, body, signature):
            raise OrderRejectedError(
                ErrorKind.UNAUTHENTICATED, "signature_invalid", "sign the clarification like the order"
            )
        if answer.order_id != order.id:
            raise OrderRejectedError(
                ErrorKind.INVALID,
                "clarification_misdirected",
                f"the signed answer names order {answer.order_id!r}, not {order.id!r}",
            )
        open_question = order_store.open_question_id(session, order.id)
        if order.state != OrderState.AWAITING_CLARIFICATION.value or open_question is None:
            raise OrderRejectedError(
                ErrorKind.CONFLICT,
                "no_open_question",
                f"order {order.id} is {order.state}: no question waits for an answer",
            )
        if answer.question_id != open_question:
            raise OrderRejectedError(
                ErrorKind.CONFLICT,
                "clarification_stale",
                f"the signed answer is to question {answer.question_id!r}; the open question is"
                f" {open_question!r}: answer it with a new signed document",
            )

    def _clarified(
        self, session: Session, order: Order, caller: Caller, answer: Clarification, now: datetime
    ) -> None:
        targets = answer.targets
        if targets is not None:
            order.document = {
                **order.document,
                "targets": [{"url": t.url, "content_id": t.content_id} for t in targets],
            }
        rule = ORDER_RULES[OrderType(order.type)]
        order.clock_started_at = now
        order.deadline = order_deadline(now, rule.period)
        assessment = self._assess(order, self._resolve(session, order.document))
        order.safeguards = assessment.to_json()
        order.senior_review = order.senior_review or assessment.senior_review
        order.urgency = Urgency.ON_TRACK.value
        self._move(
            session,
            order,
            OrderState.IN_LEGAL_REVIEW,
            caller.actor,
            now,
            {
                "answer": answer.answer,
                "question_id": answer.question_id,
                "targets_replaced": targets is not None,
                "deadline": iso(order.deadline),
            },
        )

    def _audit_clarification_refused(
        self, caller: Caller, order_id: str, body: bytes, refused: OrderRejectedError, now: datetime
    ) -> None:
        with self.store.transaction() as session:
            AuditLog(session).append(
                caller.actor,
                AuditAction.ORDER_CLARIFICATION_REJECTED,
                "order",
                order_id,
                {
                    "code": refused.code,
                    "reason": refused.message,
                    "body_sha256": hashlib.sha256(body).hexdigest(),
                },
                now,
            )

    @staticmethod
    def _require_state(order: Order, state: OrderState) -> None:
        if order.state != state.value:
            raise OrderActionError("wrong_state", f"the order is {order.state}, not {state.value}")
