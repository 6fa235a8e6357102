"""The audit chain in the store: appends across transactions and threads, and tamper detection."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import text

from vigil.domain.audit import GENESIS_HASH, canonical_json, event_hash
from vigil.store import audit as audit_store
from vigil.store.audit import AuditLog
from vigil.store.db import Store


def append_in_batches(store: Store, now: datetime, batches: int = 3, per_batch: int = 3) -> None:
    """``batches`` transactions of ``per_batch`` appends each."""
    for batch in range(batches):
        with store.transaction() as session:
            log = AuditLog(session)
            for item in range(per_batch):
                log.append(
                    actor=f"admin:{batch}",
                    action="bank.hashes_added",
                    subject_type="bank",
                    subject_id=f"bank-{batch}-{item}",
                    payload={"added": item, "note": "ünïcödé ✓", "nested": {"b": [1, 2], "a": None}},
                    at=now + timedelta(seconds=batch * per_batch + item),
                )
    seal(store)


def seal(store: Store) -> None:
    """Seal what is pending, as `vigil serve`'s sealer does (on SQLite, commits have sealed it)."""
    with store.transaction() as session:
        audit_store.seal_pending(session)


def verify(store: Store) -> audit_store.ChainVerdict:
    with store.transaction() as session:
        return audit_store.verify(session)


def execute(store: Store, sql: str, **params: object) -> None:
    with store.transaction() as session:
        session.execute(text(sql), params)


def test_an_empty_chain_verifies(store: Store) -> None:
    verdict = verify(store)

    assert verdict.intact
    assert (verdict.events_checked, verdict.head_hash) == (0, GENESIS_HASH)


def test_appends_across_several_transactions_form_one_intact_chain(store: Store, now: datetime) -> None:
    append_in_batches(store, now, batches=3, per_batch=4)

    verdict = verify(store)
    with store.transaction() as session:
        events = audit_store.list_events(session, limit=100)

    assert verdict.intact
    assert verdict.events_checked == 12
    assert [e.seq for e in events] == list(range(1, 13))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(events))
    assert verdict.head_hash == events[-1].hash


def test_an_appended_event_reads_back_exactly_as_it_was_hashed(store: Store, now: datetime) -> None:
    payload = {
        "z": 1,
        "a": {"y": [3, 2, 1]},
        "text": "Grüße, 世界",
        "ratio": 0.25,
        "flag": True,
        "none": None,
    }
    with store.transaction() as session:
        appended = AuditLog(session).append(
            "reviewer:r1", "decision.reviewed", "content", "post-1", payload, now
        )

    with store.transaction() as session:
        (stored,) = audit_store.list_events(session)

    # the writer knows what it recorded; its place in the chain is given when it is sealed
    assert (stored.at, stored.actor, stored.action, stored.subject_type, stored.subject_id) == (
        appended.at,
        appended.actor,
        appended.action,
        appended.subject_type,
        appended.subject_id,
    )
    assert stored.payload == appended.payload == payload
    assert (stored.seq, stored.prev_hash) == (1, GENESIS_HASH)
    assert stored.hash == event_hash(
        GENESIS_HASH,
        1,
        stored.at,
        stored.actor,
        stored.action,
        stored.subject_type,
        stored.subject_id,
        payload,
    )
    assert stored.at == "2026-03-14T09:26:53.589793Z"


def test_events_can_be_read_after_a_sequence_number_and_by_subject(store: Store, now: datetime) -> None:
    append_in_batches(store, now, batches=2, per_batch=3)

    with store.transaction() as session:
        after = audit_store.list_events(session, after=4)
        limited = audit_store.list_events(session, limit=2)
        by_subject = audit_store.list_events(session, subject_id="bank-1-0")
        streamed = list(audit_store.iter_events(session, batch=4))

    assert [e.seq for e in after] == [5, 6]
    assert [e.seq for e in limited] == [1, 2]
    assert [e.seq for e in by_subject] == [4]
    assert [e.seq for e in streamed] == [1, 2, 3, 4, 5, 6]


def test_changing_a_stored_payload_is_detected_at_that_event(store: Store, now: datetime) -> None:
    append_in_batches(store, now)
    with store.transaction() as session:
        original = audit_store.list_events(session, after=4, limit=1)[0]
    forged = canonical_json({**original.payload, "added": 999})

    execute(store, "UPDATE audit_events SET payload = :payload WHERE seq = 5", payload=forged)

    verdict = verify(store)
    assert not verdict.intact
    assert verdict.broken is not None
    assert verdict.broken.seq == 5
    assert "hash" in verdict.broken.reason
    assert verdict.events_checked == 4


def test_changing_a_stored_hash_is_detected_at_that_event(store: Store, now: datetime) -> None:
    append_in_batches(store, now)

    execute(store, "UPDATE audit_events SET hash = :hash WHERE seq = 3", hash="f" * 64)

    verdict = verify(store)
    assert verdict.broken is not None
    assert verdict.broken.seq == 3


def test_rewriting_an_event_together_with_its_hash_breaks_the_link_to_the_next(
    store: Store, now: datetime
) -> None:
    append_in_batches(store, now)
    with store.transaction() as session:
        target = audit_store.list_events(session, after=5, limit=1)[0]
    payload = {**target.payload, "added": 12345}
    rehashed = event_hash(
        target.prev_hash,
        target.seq,
        target.at,
        target.actor,
        target.action,
        target.subject_type,
        target.subject_id,
        payload,
    )

    execute(
        store,
        "UPDATE audit_events SET payload = :payload, hash = :hash WHERE seq = 6",
        payload=canonical_json(payload),
        hash=rehashed,
    )

    verdict = verify(store)
    assert verdict.broken is not None
    assert verdict.broken.seq == 7
    assert "link" in verdict.broken.reason


def test_deleting_an_event_from_the_middle_is_detected(store: Store, now: datetime) -> None:
    append_in_batches(store, now)

    execute(store, "DELETE FROM audit_events WHERE seq = 4")

    verdict = verify(store)
    assert verdict.broken is not None
    # the gap shows at the first event after it, which says which event is missing
    assert verdict.broken.seq == 5
    assert "expected event 4" in verdict.broken.reason
    assert verdict.events_checked == 3


def test_changing_the_actor_of_an_event_is_detected(store: Store, now: datetime) -> None:
    append_in_batches(store, now)

    execute(store, "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 2")

    verdict = verify(store)
    assert verdict.broken is not None
    assert verdict.broken.seq == 2


def test_concurrent_appends_from_many_threads_form_one_contiguous_intact_chain(
    store: Store, now: datetime
) -> None:
    threads_count, appends_each = 4, 20
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            start.wait()
            for item in range(appends_each):
                with store.transaction() as session:  # each append is its own transaction
                    AuditLog(session).append(
                        f"writer:{index}", "test.append", "thread", str(index), {"item": item}, now
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    verdict = verify(store)
    assert verdict.intact, verdict.broken
    assert verdict.events_checked == threads_count * appends_each
    with store.transaction() as session:
        events = list(audit_store.iter_events(session))
    assert [e.seq for e in events] == list(range(1, threads_count * appends_each + 1))
    for index in range(threads_count):
        # each writer's own appends are in its order
        mine = [e.payload["item"] for e in events if e.actor == f"writer:{index}"]
        assert mine == list(range(appends_each))


def test_a_transaction_that_rolls_back_leaves_no_gap_in_the_chain(store: Store, now: datetime) -> None:
    append_in_batches(store, now, batches=1, per_batch=2)

    try:
        with store.transaction() as session:
            AuditLog(session).append("admin", "test.doomed", "thing", "1", {}, now)
            raise RuntimeError("abandon the transaction")
    except RuntimeError:
        pass
    append_in_batches(store, now, batches=1, per_batch=1)

    verdict = verify(store)
    assert verdict.intact
    assert verdict.events_checked == 3
    with store.transaction() as session:
        assert "test.doomed" not in [e.action for e in audit_store.list_events(session)]


def test_stored_payload_is_the_canonical_json_that_was_hashed(store: Store, now: datetime) -> None:
    with store.transaction() as session:
        AuditLog(session).append("admin", "x", "thing", "1", {"b": 2, "a": 1}, now)
    seal(store)

    with store.transaction() as session:
        raw = session.execute(text("SELECT payload FROM audit_events WHERE seq = 1")).scalar_one()

    assert raw == '{"a":1,"b":2}'
    assert json.loads(raw) == {"a": 1, "b": 2}
