"""The vocabulary of the order desk: its errors, who acts, what an order's targets came to, an
order as shown, the stored document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vigil.domain.content import Content
from vigil.domain.errors import ErrorKind, NotFoundError, VigilError
from vigil.domain.ids import iso
from vigil.domain.orders import (
    OrderDocument,
    OrderState,
    OrderTarget,
    OrderType,
    Urgency,
)
from vigil.domain.roles import Role
from vigil.store import orders as order_store

AUTO_ACTOR = "vigil:auto-execution"
# An order is signed shortly before it is sent; one dated further ahead than clock skew explains,
# or so old that its sender should have issued a fresh one, is refused.
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_ORDER_AGE = timedelta(days=30)
MAX_DISCLOSED_ITEMS = 1000  # per account: an order for more is answered in parts by legal staff
LEGAL_ROLES = frozenset({Role.LEGAL, Role.SENIOR_LEGAL})
URGENCY_RANK = {level: rank for rank, level in enumerate(Urgency)}  # Urgency is listed mildest first


class OrderRejectedError(VigilError):
    """An order refused at the door: its kind (unsigned, not competent, stale ...) and ``code`` say why."""

    def __init__(self, kind: ErrorKind, code: str, message: str) -> None:
        super().__init__(message, code=code, kind=kind)


class OrderNotFoundError(NotFoundError):
    pass


@dataclass(frozen=True, slots=True)
class Clarification:
    """An authority's answer to a request for clarification, as signed: which order and which
    question it answers, the answer, and corrected targets if any."""

    order_id: str
    question_id: str
    answer: str
    targets: Sequence[OrderTarget] | None


class OrderActionError(VigilError, ValueError):
    """A legal action the order's state or the safeguards do not allow (a conflict unless ``kind``
    says otherwise); ``code`` says which."""

    kind = ErrorKind.CONFLICT

    def __init__(self, code: str, message: str, kind: ErrorKind | None = None) -> None:
        super().__init__(message, code=code, kind=kind)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who acts on an order: an authority's key (``bound_to`` its id) or a member of legal staff."""

    actor: str
    role: Role
    bound_to: str | None


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    location: str
    content_id: str | None
    status: str  # executed, preserved, not_found, excluded
    decision_id: str | None = None
    actions: tuple[str, ...] = ()
    territorial_scope: str | list[str] | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "content_id": self.content_id,
            "status": self.status,
            "decision_id": self.decision_id,
            "actions": list(self.actions),
            "territorial_scope": self.territorial_scope,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TargetOutcome:
        return cls(
            data["location"],
            data["content_id"],
            data["status"],
            data["decision_id"],
            tuple(data["actions"]),
            data["territorial_scope"],
            data["reason"],
        )


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """What giving effect to an order did, as the order stores it (``orders.effect``) and the
    authority and the legal console read it: each target's outcome, the enforcement events the
    platform must confirm before the order is answered, the preservation holds, the disclosure, and
    whether (and, after a withholding, when) the user was informed."""

    targets: tuple[TargetOutcome, ...]
    enforcement_events: tuple[str, ...]
    preservation: dict[str, Any] | None  # {"holds": [...], "until": ...}
    disclosure: dict[str, Any] | None
    automated: bool
    user_informed: bool
    user_notice_due: str | None  # the end of the authority's withholding, as the order gave it
    note: str
    user_informed_at: str | None = None  # set when the user is told after a withholding

    def to_json(self) -> dict[str, Any]:
        """The stored JSON; ``user_informed_at`` only once the user was told after a withholding."""
        data: dict[str, Any] = {
            "targets": [t.to_json() for t in self.targets],
            "enforcement_events": list(self.enforcement_events),
            "preservation": self.preservation,
            "disclosure": self.disclosure,
            "automated": self.automated,
            "user_informed": self.user_informed,
            "user_notice_due": self.user_notice_due,
            "note": self.note,
        }
        if self.user_informed_at is not None:
            data["user_informed_at"] = self.user_informed_at
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExecutionRecord:
        """A stored record; those written before withholdings were tracked have no ``user_notice_due``."""
        return cls(
            targets=tuple(TargetOutcome.from_json(t) for t in data["targets"]),
            enforcement_events=tuple(data["enforcement_events"]),
            preservation=data["preservation"],
            disclosure=data["disclosure"],
            automated=data["automated"],
            user_informed=data["user_informed"],
            user_notice_due=data.get("user_notice_due"),
            note=data["note"],
            user_informed_at=data.get("user_informed_at"),
        )


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order as the API and the legal console show it."""

    id: str
    authority_id: str
    authority_name: str
    country: str
    reference: str
    type: OrderType
    state: OrderState
    document: dict[str, Any]
    received_at: datetime
    clock_started_at: datetime
    deadline: datetime | None
    statutory_deadline: bool
    urgency: Urgency | None
    seconds_left: int | None
    safeguards: dict[str, Any]
    senior_review: bool
    executed_at: datetime | None
    effect: dict[str, Any] | None
    refusal_ground: str | None
    refusal_explanation: str | None
    answered_at: datetime | None
    late: bool | None
    events: tuple[order_store.OrderEventInfo, ...]


def document_to_json(document: OrderDocument) -> dict[str, Any]:
    return {
        "authority_id": document.authority_id,
        "reference": document.reference,
        "type": document.type.value,
        "issued_at": iso(document.issued_at),
        "language": document.language,
        "legal_basis": document.legal_basis,
        "statement_of_reasons": document.statement_of_reasons,
        "category": document.category.value if document.category else None,
        "territorial_scope": document.territorial_scope.to_json(),
        "targets": [{"url": t.url, "content_id": t.content_id} for t in document.targets],
        "accounts": list(document.accounts),
        "information": sorted(f.value for f in document.information),
        "respond_by": iso(document.respond_by) if document.respond_by else None,
        "withhold_user_notice": document.withhold_user_notice,
        "withhold_user_notice_until": (
            iso(document.withhold_user_notice_until) if document.withhold_user_notice_until else None
        ),
        "redress": document.redress,
    }


# the content an order's targets name, and the targets that name nothing Vigil knows
Resolved = tuple[list[Content], list[TargetOutcome]]


def _targets(document: dict[str, Any]) -> list[OrderTarget]:
    return [OrderTarget(t["url"], t["content_id"]) for t in document["targets"]]
