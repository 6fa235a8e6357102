"""The webhook outbox in the store: which deliveries are due, leases, attempts, and manual retry."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from vigil.domain.enforcement import DeliveryState
from vigil.domain.ids import new_id
from vigil.store import outbox as outbox_store
from vigil.store.db import Store
from vigil.store.outbox import DeliveryInfo, DueDelivery

LEASE = timedelta(seconds=30)


def add_endpoint(store: Store, now: datetime, url: str = "https://platform.example/hooks") -> tuple[str, str]:
    with store.transaction() as session:
        endpoint, secret = outbox_store.create_endpoint(session, url, "test", now)
    return endpoint.id, secret


def enqueue_event(store: Store, now: datetime, payload: str = '{"hello":"world"}') -> str:
    event_id = new_id("evt")
    with store.transaction() as session:
        outbox_store.enqueue(session, event_id, "enforcement.requested", None, payload, now)
    return event_id


def claim(store: Store, at: datetime, limit: int = 10, lease: timedelta = LEASE) -> list[DueDelivery]:
    with store.transaction() as session:
        return outbox_store.claim_due(session, at, limit, lease)


def delivery(store: Store, delivery_id: int) -> DeliveryInfo:
    with store.transaction() as session:
        (found,) = [d for d in outbox_store.list_deliveries(session) if d.id == delivery_id]
    return found


def attempt(
    store: Store,
    delivery_id: int,
    at: datetime,
    succeeded: bool,
    status: int | None,
    retry_at: datetime | None,
) -> None:
    with store.transaction() as session:
        error = "" if succeeded else f"HTTP {status}"
        outbox_store.record_attempt(session, delivery_id, at, succeeded, status, error, retry_at)


@pytest.fixture
def one_delivery(store: Store, now: datetime) -> int:
    """One pending delivery, due at ``now``; returns its id."""
    add_endpoint(store, now)
    enqueue_event(store, now)
    with store.transaction() as session:
        (pending,) = outbox_store.list_deliveries(session)
    return pending.id


def test_a_claimed_delivery_carries_everything_needed_to_send_it(store: Store, now: datetime) -> None:
    endpoint_id, secret = add_endpoint(store, now, "https://a.example/hook")
    event_id = enqueue_event(store, now, payload='{"id":"x"}')

    (due,) = claim(store, now)

    assert (due.event_id, due.event_type, due.payload) == (event_id, "enforcement.requested", '{"id":"x"}')
    assert (due.url, due.secret, due.attempts) == ("https://a.example/hook", secret, 0)
    assert delivery(store, due.id).endpoint_id == endpoint_id


def test_a_delivery_is_not_claimed_before_its_next_attempt_time(
    store: Store, now: datetime, one_delivery: int
) -> None:
    assert claim(store, now - timedelta(microseconds=1)) == []
    assert [d.id for d in claim(store, now)] == [one_delivery]


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_expires(
    store: Store, now: datetime, one_delivery: int
) -> None:
    assert [d.id for d in claim(store, now)] == [one_delivery]

    assert claim(store, now) == []
    assert claim(store, now + LEASE - timedelta(microseconds=1)) == []
    # the sender that claimed it is presumed dead: another one takes it over
    assert [d.id for d in claim(store, now + LEASE)] == [one_delivery]


def test_claims_respect_the_limit_and_take_the_longest_waiting_first(store: Store, now: datetime) -> None:
    add_endpoint(store, now)
    events = [enqueue_event(store, now + timedelta(seconds=i)) for i in (3, 1, 2)]
    later = now + timedelta(minutes=1)

    first = claim(store, later, limit=2)
    rest = claim(store, later, limit=2)

    assert [d.event_id for d in first] == [events[1], events[2]]
    assert [d.event_id for d in rest] == [events[0]]


def test_deliveries_to_a_deactivated_endpoint_are_not_claimed(store: Store, now: datetime) -> None:
    endpoint_id, _ = add_endpoint(store, now)
    enqueue_event(store, now)
    with store.transaction() as session:
        outbox_store.deactivate_endpoint(session, endpoint_id, now)

    assert claim(store, now) == []


def test_a_successful_attempt_marks_the_delivery_delivered_for_good(
    store: Store, now: datetime, one_delivery: int
) -> None:
    claim(store, now)
    sent_at = now + timedelta(seconds=1)

    attempt(store, one_delivery, sent_at, succeeded=True, status=200, retry_at=None)

    info = delivery(store, one_delivery)
    assert (info.state, info.attempts, info.last_status, info.delivered_at) == (
        DeliveryState.DELIVERED,
        1,
        200,
        sent_at,
    )
    assert claim(store, now + timedelta(days=1)) == []


def test_a_failed_attempt_with_a_retry_time_waits_until_then(
    store: Store, now: datetime, one_delivery: int
) -> None:
    claim(store, now)
    retry_at = now + timedelta(seconds=4)

    attempt(store, one_delivery, now, succeeded=False, status=503, retry_at=retry_at)

    info = delivery(store, one_delivery)
    assert (info.state, info.attempts, info.last_status, info.last_error) == (
        DeliveryState.PENDING,
        1,
        503,
        "HTTP 503",
    )
    assert info.next_attempt_at == retry_at
    assert info.delivered_at is None
    # the lease is released by the attempt, so only the retry time holds it back
    assert claim(store, retry_at - timedelta(microseconds=1)) == []
    (due,) = claim(store, retry_at)
    assert (due.id, due.attempts) == (one_delivery, 1)


def test_a_failed_attempt_without_a_retry_time_makes_the_delivery_dead(
    store: Store, now: datetime, one_delivery: int
) -> None:
    claim(store, now)

    attempt(store, one_delivery, now, succeeded=False, status=None, retry_at=None)

    info = delivery(store, one_delivery)
    assert (info.state, info.attempts, info.last_status) == (DeliveryState.DEAD, 1, None)
    assert claim(store, now + timedelta(days=365)) == []
    with store.transaction() as session:
        assert [d.id for d in outbox_store.list_deliveries(session, state=DeliveryState.DEAD)] == [
            one_delivery
        ]
        assert outbox_store.list_deliveries(session, state=DeliveryState.PENDING) == []


def test_a_long_error_message_is_cut_to_fit(store: Store, now: datetime, one_delivery: int) -> None:
    with store.transaction() as session:
        outbox_store.record_attempt(session, one_delivery, now, False, 500, "x" * 5000, now)

    assert delivery(store, one_delivery).last_error == "x" * 1000


def test_retrying_a_dead_delivery_puts_it_back_in_the_queue_from_scratch(
    store: Store, now: datetime, one_delivery: int
) -> None:
    attempt(store, one_delivery, now, succeeded=False, status=500, retry_at=None)
    revived_at = now + timedelta(hours=1)

    with store.transaction() as session:
        assert outbox_store.retry_delivery(session, one_delivery, revived_at) is True

    info = delivery(store, one_delivery)
    assert (info.state, info.attempts, info.next_attempt_at) == (DeliveryState.PENDING, 0, revived_at)
    assert [d.id for d in claim(store, revived_at)] == [one_delivery]


def test_only_a_dead_delivery_can_be_retried(store: Store, now: datetime, one_delivery: int) -> None:
    enqueue_event(store, now)
    with store.transaction() as session:
        delivered = max(d.id for d in outbox_store.list_deliveries(session))
    attempt(store, delivered, now, succeeded=True, status=204, retry_at=None)
    later = now + timedelta(hours=1)

    with store.transaction() as session:
        assert outbox_store.retry_delivery(session, one_delivery, later) is False  # pending
        assert outbox_store.retry_delivery(session, delivered, later) is False  # delivered
        assert outbox_store.retry_delivery(session, 987654, later) is False  # no such delivery

    assert delivery(store, one_delivery).next_attempt_at == now
    assert delivery(store, delivered).state is DeliveryState.DELIVERED


def test_concurrent_senders_never_claim_the_same_delivery(store: Store, now: datetime) -> None:
    add_endpoint(store, now)
    for _ in range(40):
        enqueue_event(store, now)
    claimed: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def sender(index: int) -> None:
        try:
            start.wait()
            while batch := claim(store, now, limit=3):
                claimed[index].extend(d.id for d in batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    every = [i for ids in claimed for i in ids]
    assert len(every) == 40
    assert len(set(every)) == 40
