"""A queue's order on both engines: standing priority sorted by the database, deadlines scored now."""

from __future__ import annotations

from datetime import datetime, timedelta

from vigil.domain.cases import CaseReason, CaseState
from vigil.review.casework import ranked_open_cases
from vigil.review.routing import restand
from vigil.store import cases as case_store
from vigil.store.db import Store
from vigil.store.tables import Case, ContentItem, DecisionRecord


def _case(
    case_id: str, category: str, source: str, reach: int, opened: datetime, deadline: datetime | None
) -> Case:
    case = Case(
        id=case_id,
        subject_type="content",
        subject_id=case_id,
        content_id=None,
        state=CaseState.OPEN.value,
        reason=CaseReason.REVIEW_AFTER.value,
        queue="general",
        category=category,
        source=source,
        language="",
        country="",
        reach=reach,
        deadline=deadline,
        standing=0,
        decision_id="dec-1",
        assignee=None,
        lease_expires_at=None,
        escalated=False,
        opened_at=opened,
        updated_at=opened,
        closed_at=None,
        closing_decision_id=None,
    )
    restand(case)
    return case


def test_cases_come_by_priority_with_deadlines_rising_as_they_near(store: Store, now: datetime) -> None:
    with store.transaction() as session:
        session.add(
            ContentItem(
                id="c",
                kind="post",
                audience="public",
                author_id="a",
                channel_id=None,
                country=None,
                reach=0,
                language=None,
                text="",
                created_at=now,
                received_at=now,
            )
        )
        session.add(
            DecisionRecord(
                id="dec-1",
                content_id="c",
                subject_type="content",
                subject_id="c",
                outcome="review",
                category=None,
                source="voluntary",
                decision={},
                signals=[],
                created_at=now,
            )
        )
        session.flush()
        cases = [
            _case("spam-old", "spam", "voluntary", 0, now - timedelta(hours=2), None),
            _case("spam-new", "spam", "voluntary", 0, now - timedelta(hours=1), None),
            _case("csam", "csam", "notice", 1000, now, None),
            _case("order-soon", "spam", "authority_order", 0, now, now + timedelta(minutes=20)),
            _case("order-later", "spam", "authority_order", 0, now, now + timedelta(days=2)),
        ]
        for case in cases:
            case_store.add_case(session, case)
        session.get(Case, "spam-new").assignee = "key:other"  # type: ignore[union-attr]
        session.get(Case, "spam-new").lease_expires_at = now + timedelta(minutes=5)  # type: ignore[union-attr]

    with store.transaction() as session:
        every = ranked_open_cases(session, "general", now)
        first_two = ranked_open_cases(session, "general", now, limit=2)
        free = ranked_open_cases(session, "general", now, free_for="key:me")

    # the order due in 20 minutes first, then the CSAM report, then the order due in two days, then
    # spam oldest first; a limit gives the head of the same order
    assert [r.case.id for r in every] == ["order-soon", "csam", "order-later", "spam-old", "spam-new"]
    assert [r.priority for r in every] == sorted((r.priority for r in every), reverse=True)
    assert [r.case.id for r in first_two] == ["order-soon", "csam"]
    assert "spam-new" not in [r.case.id for r in free]
