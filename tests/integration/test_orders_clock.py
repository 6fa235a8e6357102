"""Orders against a fake clock, on SQLite and PostgreSQL: escalation as the hour runs out, answers
that wait for the platform's confirmation, and lateness counted from when the effect was given."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.order_fixtures import SigningAuthority, removal_order
from vigil.api.routes.orders import OrderIn
from vigil.domain.content import Audience, Content, ContentKind
from vigil.domain.decisions import DecisionContext
from vigil.domain.orders import OrderState, OrderType
from vigil.domain.roles import Role
from vigil.intake.authorities import AuthorityRegistry, NewAuthority
from vigil.intake.orders import Caller, OrderDesk, OrderView
from vigil.intake.safeguards import load_legal_config
from vigil.pipeline.service import Pipeline
from vigil.store import audit as audit_store
from vigil.store import outbox as outbox_store
from vigil.store.db import Store
from vigil.store.tables import OrderEvent, OutboxEvent, PreservationHold, WebhookDelivery

RECEIVED = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
AUTHORITY = Caller("key:authority", Role.AUTHORITY, "fr-ocrv")
SENIOR = Caller("key:senior", Role.SENIOR_LEGAL, None)
PROTEST = "Our reporter is live from the protest on the square."


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def after(self, minutes: float) -> None:
        self.at = RECEIVED + timedelta(minutes=minutes)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(RECEIVED)


@pytest.fixture
def paris(store: Store, clock: FakeClock) -> SigningAuthority:
    authority = SigningAuthority("fr-ocrv", "FR", ["tco_removal"], "OCRV")
    new = NewAuthority(
        authority.id,
        authority.name,
        "FR",
        frozenset({OrderType.TERRORIST_REMOVAL}),
        "orders@ocrv.example",
        "",
        authority.public_key,
    )
    AuthorityRegistry(store, clock).register(new, "test")
    return authority


@pytest.fixture
def desk(store: Store, clock: FakeClock) -> OrderDesk:
    pipeline = Pipeline(store, clock=clock)
    return OrderDesk(pipeline, load_legal_config(), frozenset({"en", "fr"}), clock)


def publish(desk: OrderDesk, content_id: str, text: str) -> None:
    item = Content(
        content_id, ContentKind.POST, Audience.PUBLIC, "user-1", RECEIVED, channel_id="c1", text=text
    )
    desk.pipeline.submit([item], DecisionContext(), "test")


def receive(desk: OrderDesk, paris: SigningAuthority, reference: str, content_id: str) -> OrderView:
    document = removal_order(paris, reference, content_id, issued_at=RECEIVED - timedelta(minutes=1))
    body = json.dumps(document).encode()
    return desk.receive(AUTHORITY, body, paris.sign(body), OrderIn.model_validate_json(body).document())


def escalations(store: Store, order_id: str) -> list[str]:
    with store.transaction() as session:
        rows = session.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id == order_id, OrderEvent.kind == "escalated")
            .order_by(OrderEvent.id)
        )
        return [r.detail["urgency"] for r in rows]


def test_an_order_received_at_23_30_escalates_as_its_hour_runs_out_and_is_counted_late(
    store: Store, desk: OrderDesk, clock: FakeClock, paris: SigningAuthority
) -> None:
    publish(desk, "post-1", PROTEST)  # held for senior review: nobody acts on it at once
    order = receive(desk, paris, "TCO-1", "post-1")
    assert order.state is OrderState.IN_LEGAL_REVIEW
    assert order.deadline == datetime(2027, 1, 1, 0, 30, tzinfo=UTC)

    for minutes, expected in ((10, []), (46, ["due_soon"]), (55, ["due_soon", "critical"])):
        clock.after(minutes)
        desk.watch()
        assert escalations(store, order.id) == expected
    clock.after(61)
    desk.watch()
    desk.watch()  # a second pass at the same level raises nothing new
    assert escalations(store, order.id) == ["due_soon", "critical", "overdue"]
    assert desk.get(order.id, SENIOR).urgency is not None
    with store.transaction() as session:
        alerts = session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "order.escalated")).all()
        assert len(alerts) == 3
        for alert in alerts:  # the envelope of every event; ``event_id`` stays one more release
            body = json.loads(alert.payload)
            assert (body["id"], body["type"], body["event_id"]) == (alert.id, "order.escalated", alert.id)
            assert "created_at" in body

    clock.after(65)
    executed = desk.execute(order.id, SENIOR, None, "reviewed: reporting, but the clip itself is propaganda")
    assert executed.state is OrderState.EXECUTED
    clock.after(65.5)
    desk.watch()

    answered = desk.get(order.id, AUTHORITY)
    assert answered.state is OrderState.ANSWERED
    assert answered.late is True


def test_an_answer_waits_for_the_platform_and_counts_from_its_confirmation(
    store: Store, desk: OrderDesk, clock: FakeClock, paris: SigningAuthority
) -> None:
    with store.transaction() as session:
        outbox_store.create_endpoint(session, "https://platform.example/hook", "platform", RECEIVED)
    publish(desk, "post-2", "Watch the new video from the brothers.")

    order = receive(desk, paris, "TCO-2", "post-2")

    assert order.state is OrderState.EXECUTED  # automatically, at 23:30
    clock.after(20)
    desk.watch()
    assert desk.get(order.id, AUTHORITY).state is OrderState.EXECUTED  # the platform has not confirmed
    clock.after(70)  # the platform's endpoint was down until 00:40: the removal took effect late
    with store.transaction() as session:
        [delivery] = session.scalars(
            select(WebhookDelivery)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .where(OutboxEvent.event_type == "enforcement.requested")
        ).all()
        outbox_store.record_attempt(session, delivery.id, clock(), True, 204, "", None)
    clock.after(71)
    desk.watch()

    answered = desk.get(order.id, AUTHORITY)
    assert answered.state is OrderState.ANSWERED
    assert answered.late is True
    assert answered.answered_at == RECEIVED + timedelta(minutes=71)


def test_an_order_given_effect_within_the_hour_is_on_time(
    store: Store, desk: OrderDesk, clock: FakeClock, paris: SigningAuthority
) -> None:
    publish(desk, "post-3", "Watch the new video from the brothers.")

    order = receive(desk, paris, "TCO-3", "post-3")
    clock.after(0.1)
    desk.watch()

    answered = desk.get(order.id, AUTHORITY)
    assert answered.state is OrderState.ANSWERED
    assert answered.late is False
    assert escalations(store, order.id) == []


def test_preserved_content_is_deleted_when_its_six_months_are_over(
    store: Store, desk: OrderDesk, clock: FakeClock, paris: SigningAuthority
) -> None:
    publish(desk, "post-4", "Watch the new video from the brothers.")
    receive(desk, paris, "TCO-4", "post-4")

    def holds() -> list[PreservationHold]:
        with store.transaction() as session:
            return list(session.scalars(select(PreservationHold)))

    clock.after(60 * 24 * 182)  # a day short of the six months
    desk.watch()
    [kept] = holds()
    assert kept.released_at is None
    assert kept.snapshot["content"]["text"] == "Watch the new video from the brothers."

    clock.after(60 * 24 * 184)
    desk.watch()
    [released] = holds()
    assert released.released_at == clock()
    assert released.snapshot == {}
    with store.transaction() as session:
        actions = [e.action for e in audit_store.list_events(session)]
    assert actions.count("preservation.released") == 1


def test_a_user_kept_uninformed_at_the_authority_s_request_is_told_when_the_withholding_ends(
    store: Store, desk: OrderDesk, clock: FakeClock, paris: SigningAuthority
) -> None:
    publish(desk, "post-5", "Watch the new video from the brothers.")
    document = {
        **removal_order(paris, "TCO-5", "post-5", issued_at=RECEIVED - timedelta(minutes=1)),
        "withhold_user_notice": True,
        "withhold_user_notice_until": (RECEIVED + timedelta(weeks=2)).isoformat(),
    }
    body = json.dumps(document).encode()
    order = desk.receive(AUTHORITY, body, paris.sign(body), OrderIn.model_validate_json(body).document())

    def enforcement_actions() -> list[list[str]]:
        with store.transaction() as session:
            events = session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.event_type == "enforcement.requested")
                .order_by(OutboxEvent.id)
            )
            return [json.loads(e.payload)["actions"] for e in events]

    assert order.state is OrderState.EXECUTED
    assert enforcement_actions() == [["geo_restrict"]]  # removed, and the user not told yet
    clock.after(60 * 24 * 13)
    desk.watch()
    assert enforcement_actions() == [["geo_restrict"]]

    clock.after(60 * 24 * 14 + 1)
    desk.watch()
    desk.watch()  # told once

    assert enforcement_actions() == [["geo_restrict"], ["geo_restrict", "notify_user"]]
    seen = desk.get(order.id, SENIOR)
    assert seen.effect is not None
    assert seen.effect["user_informed"] is True
    assert [e.kind for e in seen.events].count("user_informed") == 1


def test_a_removal_order_may_keep_the_user_uninformed_for_six_weeks_at_most() -> None:
    authority = SigningAuthority("fr-ocrv", "FR", ["tco_removal"])
    issued = datetime(2026, 5, 1, tzinfo=UTC)
    document = {
        **removal_order(authority, "TCO-6", "post-6", issued_at=issued),
        "withhold_user_notice": True,
        "withhold_user_notice_until": (issued + timedelta(weeks=6, seconds=1)).isoformat(),
    }
    with pytest.raises(ValueError, match="six weeks at most"):
        OrderIn.model_validate_json(json.dumps(document))
