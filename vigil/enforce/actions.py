"""What the platform is asked to do: the enforcement event built from a decision."""

from __future__ import annotations

from datetime import datetime

from vigil.domain.audit import canonical_json
from vigil.domain.decisions import Decision
from vigil.domain.ids import iso

ENFORCEMENT_EVENT = "enforcement.requested"


def enforcement_payload(event_id: str, decision_id: str, decision: Decision, now: datetime) -> str:
    """The webhook body for a decision's platform actions, as the exact text that is signed and sent.

    Vigil's own duties (evidence preservation, hotline reports) are not in it: the platform cannot
    and need not act on them.
    """
    return canonical_json(
        {
            "id": event_id,
            "type": ENFORCEMENT_EVENT,
            "created_at": iso(now),
            "decision_id": decision_id,
            "subject": {"type": decision.subject.type.value, "id": decision.subject.id},
            "actions": sorted(a.value for a in decision.platform_actions),
            "territorial_scope": decision.territorial_scope.to_json(),
            "category": decision.category.value if decision.category else None,
            "ground": decision.ground.to_json() if decision.ground else None,
            "review_pending": decision.review_needed,
            "policies": [str(p) for p in decision.policies],
        }
    )
