"""Quality of decisions: sampling automated decisions for a person to check, and agreement rates.

**Sampling.** A share (``VIGIL_QA_SAMPLE_RATE``) of the restrictions that machines decided alone,
with no review asked for, opens a ``qa_sample`` case. The draw is a function of the decision id, so
it is reproducible and cannot be steered by resubmitting.

**Agreement**, per category, from closed cases:

* automation and reviewers: of the cases on automated decisions (review after acting, and QA
  samples), how many a reviewer closed with the same restrictions the machine had put in force;
* reviewers and reviewers: of the appeals against decisions that a person took, how many the second
  reviewer upheld.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from vigil.domain.cases import CaseReason, CaseState
from vigil.domain.decisions import AutomatedDecision, decision_from_json
from vigil.store.tables import Appeal, Case, DecisionRecord

_AUTOMATED_REASONS = (CaseReason.REVIEW_AFTER.value, CaseReason.QA_SAMPLE.value)


def qa_sampled(decision_id: str, rate: float) -> bool:
    """Whether the decision falls in the QA sample (a fixed function of its id)."""
    if rate <= 0:
        return False
    draw = int.from_bytes(hashlib.sha256(decision_id.encode()).digest()[:8], "big") / 2**64
    return draw < rate


@dataclass(frozen=True, slots=True)
class Agreement:
    compared: int
    agreed: int

    @property
    def rate(self) -> float | None:
        return self.agreed / self.compared if self.compared else None


@dataclass(frozen=True, slots=True)
class CategoryAgreement:
    category: str
    automation_vs_reviewer: Agreement
    reviewer_vs_reviewer: Agreement


def agreement(session: Session) -> list[CategoryAgreement]:
    """Agreement rates per category (a category with nothing to compare is left out)."""
    machine: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    reviewed = aliased(DecisionRecord)
    closing = aliased(DecisionRecord)
    rows = session.execute(
        select(Case.category, reviewed.decision, closing.decision)
        .join(reviewed, reviewed.id == Case.decision_id)
        .join(closing, closing.id == Case.closing_decision_id)
        .where(Case.state == CaseState.CLOSED.value, Case.reason.in_(_AUTOMATED_REASONS))
    )
    for category, before, after in rows:
        first, final = decision_from_json(before), decision_from_json(after)
        if first.automated_decision is AutomatedDecision.NOT_AUTOMATED:
            continue
        counts = machine[category or "none"]
        counts[0] += 1
        counts[1] += first.platform_actions == final.platform_actions
    people: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    appealed = aliased(DecisionRecord)
    for category, outcome, decision in session.execute(
        select(appealed.category, Appeal.outcome, appealed.decision)
        .join(appealed, appealed.id == Appeal.decision_id)
        .where(Appeal.state == "decided")
    ):
        if decision_from_json(decision).automated_decision is not AutomatedDecision.NOT_AUTOMATED:
            continue
        counts = people[category or "none"]
        counts[0] += 1
        counts[1] += outcome == "upheld"
    return [
        CategoryAgreement(
            category,
            Agreement(*machine.get(category, [0, 0])),
            Agreement(*people.get(category, [0, 0])),
        )
        for category in sorted(set(machine) | set(people))
    ]
