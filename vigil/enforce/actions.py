"""What the platform is asked to do: the enforcement event built from a decision."""

from __future__ import annotations

from datetime import datetime

from vigil.domain.audit import canonical_json
from vigil.domain.decisions import Decision
from vigil.domain.enforcement import Enforcement


def enforcement_payload(
    event_id: str, decision_id: str, decision: Decision, now: datetime, supersedes: str | None = None
) -> str:
    """The webhook body for a decision's platform actions, as the exact text that is signed and sent."""
    return canonical_json(Enforcement.of(event_id, decision_id, decision, supersedes).to_json(now))
