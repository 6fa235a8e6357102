"""What a recorded decision brings about besides its enforcement and its review.

Every decision, whatever took it (detection, a reviewer, an appeal, an authority's order), passes
through ``Pipeline._act``; the hooks listed here run there, in the decision's own transaction, so a
decision can never be recorded without its statement of reasons, its place in the day's figures,
its evidence or its hotline report, nor these without the decision.

Review is a hook too: ``Pipeline`` runs :class:`vigil.review.routing.CaseOpening` after these (its
``open_cases``), which opens or joins the subject's case where the decision asks for review. A hook
is anything with this signature; add one by passing ``after_decision`` (``create_app`` adds the
evidence hooks of ``vigil.enforce.evidence`` so).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from vigil.enforce.hotline import queue_hotline_report
from vigil.store.content import NewDecision, StoredDecision
from vigil.transparency.daily import count_decision
from vigil.transparency.sor import record_statement

# (session, the decision as recorded, the decision it replaces on the subject if any, actor, now)
DecisionHook = Callable[[Session, NewDecision, StoredDecision | None, str, datetime], None]


def decision_hooks() -> tuple[DecisionHook, ...]:
    """The hooks every pipeline runs unless it is given its own."""
    return (count_decision, queue_hotline_report, record_statement)
