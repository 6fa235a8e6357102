"""The two vocabularies of what happened: webhook events for the platform, audit actions for the chain.

A webhook event (:class:`EventType`) is what Vigil asks of or tells the platform; it travels through
the outbox, and :func:`vigil.enforce.events.emit` is the one way to send one, so that every event
has the same envelope (:func:`envelope`: ``id``, ``type``, ``created_at``). docs/webhooks.md lists
them, and a test holds the list and the page together.

An audit action (:class:`AuditAction`) names one entry of the hash-chained audit log. The values are
stored in the chain and covered by its hashes: never change one, only add. A test forbids writing an
action as a string anywhere else in ``vigil/``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from vigil.domain.ids import iso
from vigil.domain.orders import OrderState


class EventType(StrEnum):
    """A webhook event, by when it is sent (docs/webhooks.md):

    - ``enforcement.requested``: a decision changes what the platform is to do about a subject.
    - ``notice.received``: a notice was accepted; the platform confirms receipt to the notifier.
    - ``content.requested``: a notice names an item the platform has not sent; the platform sends it.
    - ``notice.decided``: the notice's subject was decided; the platform tells the notifier.
    - ``order.disclosure``: legal staff approved an order to provide information; the platform hands
      over exactly the fields listed.
    - ``order.escalated``: an open order's clock reached ``due_soon``, ``critical`` or ``overdue``.
    """

    ENFORCEMENT_REQUESTED = "enforcement.requested"
    NOTICE_RECEIVED = "notice.received"
    CONTENT_REQUESTED = "content.requested"
    NOTICE_DECIDED = "notice.decided"
    ORDER_DISCLOSURE = "order.disclosure"
    ORDER_ESCALATED = "order.escalated"


def envelope(
    event_id: str, event_type: EventType, created_at: datetime, body: dict[str, Any]
) -> dict[str, Any]:
    """The body of a webhook event: its ``id``, ``type`` and ``created_at``, then what it says."""
    return {"id": event_id, "type": event_type.value, "created_at": iso(created_at), **body}


class AuditAction(StrEnum):
    """An entry of the audit chain, grouped by what it happened to. Stored as the value: never
    change one."""

    # decisions and what they bring about
    DECISION_CREATED = "decision.created"
    STATEMENT_ISSUED = "statement.issued"
    STATEMENT_SUPERSEDED = "statement.superseded"
    STATEMENT_REVOKED = "statement.revoked"
    STATEMENT_SUBMITTED = "statement.submitted"
    STATEMENT_REJECTED = "statement.rejected"
    STATEMENT_RETRY = "statement.retry"
    DAILY_FIGURES_REBUILT = "daily_figures.rebuilt"
    # evidence and hotline reports
    EVIDENCE_PRESERVED = "evidence.preserved"
    EVIDENCE_READ = "evidence.read"
    EVIDENCE_DELETED = "evidence.deleted"
    EVIDENCE_ROTATED = "evidence.rotated"
    HOTLINE_QUEUED = "hotline.queued"
    HOTLINE_SUBMITTED = "hotline.submitted"
    HOTLINE_FILE_UPLOADED = "hotline.file_uploaded"
    HOTLINE_FILES_SENT = "hotline.files_sent"
    HOTLINE_FINISHED = "hotline.finished"
    HOTLINE_FAILED = "hotline.failed"
    # review
    CASE_OPENED = "case.opened"
    CASE_ESCALATED = "case.escalated"
    CASE_DECIDED = "case.decided"
    CASE_CLOSED_BY_ORDER = "case.closed_by_order"
    APPEAL_RECEIVED = "appeal.received"
    APPEAL_DECIDED = "appeal.decided"
    # notices and trusted flaggers
    NOTICE_RECEIVED = "notice.received"
    NOTICE_REFUSED = "notice.refused"
    NOTICE_CONTENT_ARRIVED = "notice.content_arrived"
    NOTICE_DECIDED = "notice.decided"
    FLAGGER_REGISTERED = "flagger.registered"
    FLAGGER_SUSPENDED = "flagger.suspended"
    FLAGGER_REINSTATED = "flagger.reinstated"
    # authorities and their orders
    AUTHORITY_REGISTERED = "authority.registered"
    AUTHORITY_KEY_ROTATED = "authority.key_rotated"
    AUTHORITY_DEACTIVATED = "authority.deactivated"
    AUTHORITY_REACTIVATED = "authority.reactivated"
    ORDER_RECEIVED = "order.received"
    ORDER_REJECTED = "order.rejected"
    ORDER_VERIFIED = "order.verified"
    ORDER_IN_LEGAL_REVIEW = "order.in_legal_review"
    ORDER_AWAITING_CLARIFICATION = "order.awaiting_clarification"
    ORDER_CLARIFICATION_REJECTED = "order.clarification_rejected"
    ORDER_APPROVED = "order.approved"
    ORDER_EXECUTED = "order.executed"
    ORDER_PARTIALLY_EXECUTED = "order.partially_executed"
    ORDER_REFUSED = "order.refused"
    ORDER_ANSWERED = "order.answered"
    ORDER_USER_INFORMED = "order.user_informed"
    ORDER_ESCALATED = "order.escalated"
    PRESERVATION_RELEASED = "preservation.released"
    # administration
    POLICY_APPLIED = "policy.applied"
    BANK_CREATED = "bank.created"
    BANK_ENABLED = "bank.enabled"
    BANK_DISABLED = "bank.disabled"
    BANK_HASHES_ADDED = "bank.hashes_added"
    KEY_CREATED = "key.created"
    KEY_ROTATED = "key.rotated"
    KEY_REVOKED = "key.revoked"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_DEACTIVATED = "webhook.deactivated"
    WEBHOOK_DELIVERY_RETRIED = "webhook.delivery_retried"
    CONSOLE_SIGNED_IN = "console.signed_in"
    CONSOLE_SIGNED_OUT = "console.signed_out"

    @classmethod
    def order_moved(cls, state: OrderState) -> AuditAction:
        """The action of an order entering ``state`` (each state has one)."""
        return _ORDER_MOVED[state]


_ORDER_MOVED: dict[OrderState, AuditAction] = {
    OrderState.RECEIVED: AuditAction.ORDER_RECEIVED,
    OrderState.VERIFIED: AuditAction.ORDER_VERIFIED,
    OrderState.IN_LEGAL_REVIEW: AuditAction.ORDER_IN_LEGAL_REVIEW,
    OrderState.AWAITING_CLARIFICATION: AuditAction.ORDER_AWAITING_CLARIFICATION,
    OrderState.EXECUTED: AuditAction.ORDER_EXECUTED,
    OrderState.PARTIALLY_EXECUTED: AuditAction.ORDER_PARTIALLY_EXECUTED,
    OrderState.REFUSED: AuditAction.ORDER_REFUSED,
    OrderState.ANSWERED: AuditAction.ORDER_ANSWERED,
}
