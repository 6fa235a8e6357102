"""The audit chain without a global lock: writers append freely, one sealer at a time chains their
events, and verification goes on from checkpoints that rewriting history cannot get past."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.audit import canonical_json, event_hash
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.store import audit as audit_store
from vigil.store import daily as counter_store
from vigil.store.audit import AuditLog
from vigil.store.daily import Increment
from vigil.store.db import Store

POSTGRES_ONLY = pytest.mark.parametrize(
    "store", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
DAY = "2026-03-14"


def append(store: Store, now: datetime, actor: str, count: int, start: int = 0) -> None:
    with store.transaction() as session:
        log = AuditLog(session)
        for item in range(start, start + count):
            log.append(actor, "test.append", "thing", f"{actor}-{item}", {"item": item}, now)


def seal(store: Store) -> None:
    with store.transaction() as session:
        audit_store.seal_pending(session)


def check(
    store: Store, now: datetime, full: bool = False, limit: int | None = None
) -> audit_store.Verification:
    """As `vigil audit verify` does: seal what is pending, then verify (recording a checkpoint)."""
    seal(store)
    with store.transaction() as session:
        return audit_store.check(session, now, full=full, limit=limit)


def run_threads(*targets: threading.Thread) -> None:
    for thread in targets:
        thread.start()
    for thread in targets:
        thread.join(timeout=120)
        assert not thread.is_alive()


# --- sealing (PostgreSQL: there writers and the sealer are apart)


@POSTGRES_ONLY
def test_concurrent_writers_and_two_sealers_make_one_chain_with_every_event_once(
    store: Store, now: datetime
) -> None:
    writers, transactions, per_transaction = 6, 15, 3
    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()
    seals: Counter[str] = Counter()

    def writer(index: int) -> None:
        try:
            for n in range(transactions):
                append(store, now, f"writer:{index}", per_transaction, start=n * per_transaction)
        except BaseException as exc:
            errors.append(exc)

    def sealer(name: str) -> None:
        # two sealers at once, as two `vigil serve` processes run them: neither waits for the other
        try:
            while writing.is_set():
                if audit_store.seal_step(store):
                    seals[name] += 1
                time.sleep(0.001)
        except BaseException as exc:
            errors.append(exc)

    sealers = [threading.Thread(target=sealer, args=(name,)) for name in ("a", "b")]
    for thread in sealers:
        thread.start()
    run_threads(*(threading.Thread(target=writer, args=(i,)) for i in range(writers)))
    writing.clear()
    for thread in sealers:
        thread.join(timeout=60)
    seal(store)

    assert errors == []
    total = writers * transactions * per_transaction
    with store.transaction() as session:
        events = list(audit_store.iter_events(session))
        assert audit_store.unsealed_count(session) == 0
    assert [e.seq for e in events] == list(range(1, total + 1))
    # every event exactly once
    assert sorted(e.subject_id for e in events) == sorted(
        f"writer:{w}-{i}" for w in range(writers) for i in range(transactions * per_transaction)
    )
    for index in range(writers):
        # a writer's own transactions commit one after another, so they are sealed in its order
        assert [e.payload["item"] for e in events if e.actor == f"writer:{index}"] == list(
            range(transactions * per_transaction)
        )
    verdict = check(store, now, full=True).verdict
    assert verdict.intact, verdict.broken
    assert verdict.events_checked == total


@POSTGRES_ONLY
def test_a_second_sealer_skips_at_once_while_one_is_at_work(store: Store, now: datetime) -> None:
    append(store, now, "writer", 3)
    with store.transaction() as first:
        assert audit_store.seal_pending(first) == 3
        append(store, now, "writer", 2, start=3)  # committed while the first sealer holds the head
        began = time.monotonic()
        with store.transaction() as second:
            assert audit_store.seal_pending(second) is None
        assert time.monotonic() - began < 1.0
    seal(store)

    with store.transaction() as session:
        events = list(audit_store.iter_events(session))
    assert [e.subject_id for e in events] == [f"writer-{i}" for i in range(5)]
    assert check(store, now, full=True).verdict.intact


@POSTGRES_ONLY
def test_a_writer_never_waits_for_another_uncommitted_writer(store: Store, now: datetime) -> None:
    """No global lock: while one transaction has written its audit events (and daily counts) and has
    not committed, another appends, counts and commits under a one-second lock timeout."""
    written, release = threading.Event(), threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with store.transaction() as session:
                AuditLog(session).append("slow", "test.append", "thing", "slow", {}, now)

                def hold(held: Session) -> None:
                    # runs after Vigil's own before_commit listeners: the events are written, uncommitted
                    seen.append(held.execute(text("SELECT count(*) FROM audit_unsealed")).scalar_one())
                    written.set()
                    release.wait(30)

                event.listen(session, "before_commit", hold)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert written.wait(30)
        began = time.monotonic()
        with store.transaction() as session:
            session.execute(text("SET LOCAL lock_timeout = '1s'"))
            AuditLog(session).append("fast", "test.append", "thing", "fast", {}, now)
            counter_store.add(session, DAY, [Increment("restrictive")])
        elapsed = time.monotonic() - began
        seal(store)  # the slow writer's event is not committed: the sealer does not see it yet
        with store.transaction() as session:
            sealed_first = [e.subject_id for e in audit_store.iter_events(session)]
    finally:
        release.set()
        thread.join(timeout=30)

    assert errors == []
    assert seen == [1]
    assert elapsed < 1.0
    assert sealed_first == ["fast"]
    with store.transaction() as session:
        events = list(audit_store.iter_events(session))
    # inserted first, committed last: it takes the next position
    assert [e.subject_id for e in events] == ["fast", "slow"]


@POSTGRES_ONLY
def test_serve_seals_in_the_background_and_the_route_verifies_a_bounded_stretch(
    store: Store, now: datetime
) -> None:
    settings = Settings(
        database_url=store.url,
        webhook_deliver=False,
        retro_matching=False,
        order_watch=False,
        audit_seal_seconds=0.05,
    )
    _, key = Admin(store).create_key(Role.AUDITOR, "test auditor", None, "test")
    headers = {"Authorization": f"Bearer {key}"}
    append(store, now, "writer", 7)
    with TestClient(create_app(settings, store)) as client:
        deadline = time.monotonic() + 10
        while True:  # nothing reads the chain: only the background sealer can seal it
            with store.transaction() as session:
                if audit_store.unsealed_count(session) == 0:
                    break
            assert time.monotonic() < deadline, "the background sealer sealed nothing"
            time.sleep(0.05)

        first = client.get("/v1/audit/verify", params={"limit": 5}, headers=headers).json()
        second = client.get("/v1/audit/verify", params={"limit": 5}, headers=headers).json()
        third = client.get("/v1/audit/verify", headers=headers).json()
        refused = client.get("/v1/audit/verify", params={"limit": 50_001}, headers=headers)

    # the key's creation and the seven appends
    assert first["head_seq"] == 8
    assert (first["intact"], first["partial"], first["from_seq"], first["events_checked"]) == (
        True,
        True,
        1,
        5,
    )
    assert first["checkpoint"]["seq"] == 5
    assert (second["partial"], second["from_seq"], second["to_seq"], second["events_checked"]) == (
        False,
        6,
        8,
        3,
    )
    assert second["checkpoint"]["seq"] == 8
    assert second["head_hash"] == second["checkpoint"]["hash"]
    assert (third["intact"], third["events_checked"], third["checkpoint"]["seq"]) == (True, 0, 8)
    assert refused.status_code == 422


# --- verification from checkpoints (both engines)


def test_verification_goes_on_from_the_last_checkpoint(store: Store, now: datetime) -> None:
    append(store, now, "writer", 4)
    first = check(store, now)
    append(store, now, "writer", 3, start=4)
    second = check(store, now + timedelta(minutes=1))

    assert (first.verdict.intact, first.from_seq, first.verdict.events_checked) == (True, 1, 4)
    assert first.checkpoint is not None
    assert first.checkpoint.seq == 4
    assert (second.verdict.intact, second.from_seq, second.verdict.events_checked) == (True, 5, 3)
    assert second.started_from == first.checkpoint
    assert second.checkpoint is not None
    assert (second.checkpoint.seq, second.checkpoint.at) == (7, "2026-03-14T09:27:53.589793Z")
    assert second.to_json()["checkpoint"]["hash"] == second.verdict.head_hash
    full = check(store, now, full=True)
    assert (full.verdict.intact, full.verdict.events_checked, full.verdict.head_hash) == (
        True,
        7,
        second.verdict.head_hash,
    )


def _forge(store: Store, seq: int, payload: dict[str, object]) -> None:
    with store.transaction() as session:
        session.execute(
            text("UPDATE audit_events SET payload = :payload WHERE seq = :seq"),
            {"payload": canonical_json(payload), "seq": seq},
        )


def test_editing_an_old_payload_is_found_by_the_full_walk(store: Store, now: datetime) -> None:
    append(store, now, "writer", 6)
    assert check(store, now).verdict.intact  # a checkpoint at event 6

    _forge(store, 2, {"item": 99})

    verdict = check(store, now, full=True).verdict
    assert verdict.broken is not None
    assert (verdict.broken.seq, verdict.broken.reason) == (2, "content does not match its hash")


def test_rewriting_history_with_recomputed_hashes_is_found_at_the_checkpoint(
    store: Store, now: datetime
) -> None:
    append(store, now, "writer", 6)
    assert check(store, now).verdict.intact  # a checkpoint at event 6
    append(store, now, "writer", 2, start=6)

    # rewrite event 3 and recompute every hash after it, so that the chain is self-consistent again
    with store.transaction() as session:
        events = list(audit_store.iter_events(session))
        prev_hash = events[1].hash
        for e in events[2:]:
            payload = {"item": 1000} if e.seq == 3 else e.payload
            digest = event_hash(
                prev_hash, e.seq, e.at, e.actor, e.action, e.subject_type, e.subject_id, payload
            )
            session.execute(
                text("UPDATE audit_events SET payload = :p, prev_hash = :prev, hash = :h WHERE seq = :seq"),
                {"p": canonical_json(payload), "prev": prev_hash, "h": digest, "seq": e.seq},
            )
            prev_hash = digest
        session.execute(text("UPDATE audit_chain_head SET hash = :h"), {"h": prev_hash})

    # the events alone cannot tell, the checkpoint can: event 6 no longer has the hash it had when
    # it was verified; the full walk holds the chain to it too, rather than bless the new history
    for found in (check(store, now), check(store, now, full=True)):
        assert found.verdict.broken is not None
        assert found.verdict.broken.seq == 6
        assert "history was rewritten" in found.verdict.broken.reason
    with store.transaction() as session:
        last = audit_store.last_checkpoint(session)
    assert last is not None
    assert last.seq == 6


def test_deleting_the_newest_events_is_found(store: Store, now: datetime) -> None:
    append(store, now, "writer", 5)
    seal(store)
    with store.transaction() as session:
        session.execute(text("DELETE FROM audit_events WHERE seq >= 4"))

    verdict = check(store, now, full=True).verdict
    assert verdict.broken is not None
    assert verdict.broken.seq == 4
    assert "missing" in verdict.broken.reason


def test_a_broken_chain_records_no_checkpoint(store: Store, now: datetime) -> None:
    append(store, now, "writer", 3)
    seal(store)
    _forge(store, 3, {"item": 7})

    assert not check(store, now).verdict.intact
    with store.transaction() as session:
        assert audit_store.last_checkpoint(session) is None


# --- daily counters (PostgreSQL: concurrent transactions)


@pytest.fixture
def counting_threads() -> Iterator[list[BaseException]]:
    errors: list[BaseException] = []
    yield errors
    assert errors == []


@POSTGRES_ONLY
def test_concurrent_increments_from_many_connections_add_up_exactly(
    store: Store, counting_threads: list[BaseException]
) -> None:
    threads_count, transactions = 8, 25
    start = threading.Barrier(threads_count)

    def counter() -> None:
        try:
            start.wait()
            for _ in range(transactions):
                with store.transaction() as session:
                    counter_store.add(
                        session, DAY, [Increment("restrictive", category="spam"), Increment("notices")]
                    )
                    counter_store.add(session, DAY, [Increment("restrictive", category="spam", value=2)])
        except BaseException as exc:
            counting_threads.append(exc)

    run_threads(*(threading.Thread(target=counter) for _ in range(threads_count)))

    with store.transaction() as session:
        counters = {(c.metric, c.category): c.value for c in counter_store.counters_of_day(session, DAY)}
        shards = session.execute(text("SELECT count(DISTINCT shard) FROM daily_counters")).scalar_one()
    total = threads_count * transactions
    assert counters == {("notices", ""): total, ("restrictive", "spam"): 3 * total}
    assert shards > 1  # the figure is spread over rows, not one hot row


@POSTGRES_ONLY
def test_a_rebuild_concurrent_with_increments_loses_none_of_them(
    store: Store, counting_threads: list[BaseException]
) -> None:
    threads_count, transactions = 6, 30
    counting = threading.Event()
    counting.set()

    def counter() -> None:
        try:
            for _ in range(transactions):
                with store.transaction() as session:
                    counter_store.add(session, DAY, [Increment("restrictive")])
        except BaseException as exc:
            counting_threads.append(exc)

    def rebuilder() -> None:
        # a rebuild that derives the day from its own counters must change nothing, however the
        # increments fall around it: one committed between its reading and its replacing would be lost
        try:
            while counting.is_set():
                with store.transaction() as session:
                    counter_store.lock_day(session, DAY)
                    rows = counter_store.counters_of_day(session, DAY)
                    time.sleep(0.005)  # widen the window a lost increment would fall into
                    counter_store.replace_day(
                        session,
                        DAY,
                        [
                            Increment(
                                r.metric, r.category, r.action, r.source, r.territory, r.automated, r.value
                            )
                            for r in rows
                        ],
                    )
        except BaseException as exc:
            counting_threads.append(exc)

    rebuild = threading.Thread(target=rebuilder)
    rebuild.start()
    run_threads(*(threading.Thread(target=counter) for _ in range(threads_count)))
    counting.clear()
    rebuild.join(timeout=60)

    with store.transaction() as session:
        (counted,) = counter_store.counters_of_day(session, DAY)
    assert counted.value == threads_count * transactions
