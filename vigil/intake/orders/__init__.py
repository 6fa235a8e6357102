"""Authority orders: verified at the door, assessed by the safeguards, executed on the clock.

The life of an order (``vigil.domain.orders`` has the states and the clock arithmetic)::

    received -> verified -> (auto-execution, when the safeguards allow it) -> executed
                         -> in legal review <-> awaiting clarification (the clock stops)
                                            -> executed | partially executed | refused
    executed | partially executed | refused -> answered

An order that fails verification (unknown or inactive authority, bad signature, outside the
authority's competence, a language the platform does not accept, a replayed reference) is not an
order: it is refused at the door with a machine-readable reason, audited, and nothing else happens.

Giving effect to an order is one more decision on the usual path (``Pipeline.record_reviewed``):
recorded, sent to the platform through the outbox, audited. A restriction is global only where the
content also breaks the platform's terms (a policy in force removes it everywhere); otherwise it is
limited to the territory the law invoked reaches: all member states for a terrorist-content removal
order, the order's scope for an order to act, narrowed to the authority's own country when the
order asks for the whole world on a national law. The order is answered once the platform has
confirmed the effect (the webhook was delivered), and the authority reads what was done and when.

The desk is one class, :class:`OrderDesk`, put together from one part per job: ``door`` (verify and
record), ``execution`` (give effect), ``legal`` (legal staff's actions), ``reading`` (views) and
``watch`` (the clock), over ``base`` (state changes, resolving, assessing, answering); ``model``
holds the vocabulary.
"""

from __future__ import annotations

from vigil.intake.orders.door import OrderDoor
from vigil.intake.orders.legal import OrderLegal
from vigil.intake.orders.model import (
    AUTO_ACTOR,
    LEGAL_ROLES,
    MAX_CLOCK_SKEW,
    MAX_DISCLOSED_ITEMS,
    MAX_ORDER_AGE,
    URGENCY_RANK,
    Caller,
    Clarification,
    ExecutionRecord,
    OrderActionError,
    OrderNotFoundError,
    OrderRejectedError,
    OrderView,
    Resolved,
    TargetOutcome,
    document_to_json,
)
from vigil.intake.orders.watch import OrderWatch

__all__ = [
    "AUTO_ACTOR",
    "LEGAL_ROLES",
    "MAX_CLOCK_SKEW",
    "MAX_DISCLOSED_ITEMS",
    "MAX_ORDER_AGE",
    "URGENCY_RANK",
    "Caller",
    "Clarification",
    "ExecutionRecord",
    "OrderActionError",
    "OrderDesk",
    "OrderNotFoundError",
    "OrderRejectedError",
    "OrderView",
    "Resolved",
    "TargetOutcome",
    "document_to_json",
]


class OrderDesk(OrderDoor, OrderLegal, OrderWatch):
    """Receives orders, lets legal staff act on them, and watches their clocks."""
