"""Enforcements: the platform actions of a decision, on their way to the platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from vigil.domain.content import Subject
from vigil.domain.decisions import Action, Decision, Ground, PolicyRef
from vigil.domain.events import EventType, envelope
from vigil.domain.jurisdictions import TerritorialScope
from vigil.domain.taxonomy import Category

ENFORCEMENT_EVENT = EventType.ENFORCEMENT_REQUESTED


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the configured number of attempts; retried by hand through the API


@dataclass(frozen=True, slots=True)
class Enforcement:
    """What the platform is asked to do about one subject, sent as one webhook event.

    Only the actions the platform itself carries out travel: evidence preservation and hotline
    reports are Vigil's own duties, and a platform could not act on them. ``actions`` are all those
    in force on the subject from now on: an event that ``supersedes`` an earlier decision replaces
    what that decision asked for, so an empty list lifts every restriction (a reviewer or an appeal
    overturned it).
    """

    event_id: str
    decision_id: str
    subject: Subject
    actions: frozenset[Action]
    territorial_scope: TerritorialScope
    category: Category | None
    ground: Ground | None
    review_pending: bool
    policies: tuple[PolicyRef, ...]
    supersedes: str | None = None
    # the platform keeps the media and related data it holds (an order or the law asks for it;
    # Vigil itself keeps only hashes, text and decisions)
    preserve_evidence: bool = False

    @classmethod
    def of(
        cls, event_id: str, decision_id: str, decision: Decision, supersedes: str | None = None
    ) -> Enforcement:
        return cls(
            event_id=event_id,
            decision_id=decision_id,
            subject=decision.subject,
            actions=decision.platform_actions,
            territorial_scope=decision.territorial_scope,
            category=decision.category,
            ground=decision.ground,
            review_pending=decision.review_needed,
            policies=decision.policies,
            supersedes=supersedes,
            preserve_evidence=Action.PRESERVE_EVIDENCE in decision.actions,
        )

    def to_json(self, created_at: datetime) -> dict[str, Any]:
        """The webhook body (see ``docs/webhooks.md``)."""
        return envelope(self.event_id, ENFORCEMENT_EVENT, created_at, self.body())

    def body(self) -> dict[str, Any]:
        """What the event says, without its envelope (:func:`vigil.domain.events.envelope`)."""
        return {
            "decision_id": self.decision_id,
            "subject": {"type": self.subject.type.value, "id": self.subject.id},
            "actions": sorted(a.value for a in self.actions),
            "territorial_scope": self.territorial_scope.to_json(),
            "category": self.category.value if self.category else None,
            "ground": self.ground.to_json() if self.ground else None,
            "review_pending": self.review_pending,
            "policies": [str(p) for p in self.policies],
            "supersedes": self.supersedes,
            "preserve_evidence": self.preserve_evidence,
        }
