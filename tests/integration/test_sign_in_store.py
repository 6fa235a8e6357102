"""The sign-in limit's counters and the organisation sign-in flows in the store, on SQLite and on a
real PostgreSQL: shared by every process on the database, counted without lost updates under
concurrency, and a flow taken exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.console_forms import csrf_token
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.store import sign_in as sign_in_store
from vigil.store.db import Store
from vigil.store.sign_in import Counted, Flow
from vigil.store.tables import SignInFailure
from vigil.web.throttle import CLIENT, KEY, SignInLimiter, SignInLimits

LIMITS = SignInLimits(timedelta(seconds=300), per_client=10, per_key=20)
_T = TypeVar("_T")


def _concurrently(times: int, work: Callable[[], _T]) -> list[_T]:
    """``work`` run by ``times`` threads released at once; their results."""
    results: list[_T] = []
    lock = threading.Lock()
    start = threading.Barrier(times)

    def run() -> None:
        start.wait()
        outcome = work()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == times
    return results


def test_concurrent_attempts_never_check_more_keys_than_the_limit(store: Store, now: datetime) -> None:
    limiter = SignInLimiter(store, LIMITS)

    attempts = _concurrently(24, lambda: limiter.begin({CLIENT: "198.51.100.7"}, now))

    allowed = [a for a in attempts if not a.refused]
    assert len(allowed) == 10
    with store.transaction() as db:
        counted = db.scalar(select(func.sum(SignInFailure.failures)))
    assert counted == 10  # the refused attempts reserved nothing


def test_a_success_gives_its_reservation_back(store: Store, now: datetime) -> None:
    limiter = SignInLimiter(store, LIMITS)
    subjects = {CLIENT: "198.51.100.8", KEY: "abc123"}
    for _ in range(9):
        limiter.begin(subjects, now)  # nine failures

    good = limiter.begin(subjects, now)
    limiter.release(good)

    assert not limiter.begin(subjects, now).refused  # the tenth failure
    assert limiter.begin(subjects, now).refused
    window = limiter.window_start(now)
    with store.transaction() as db:
        counts = sign_in_store.reserve(db, [Counted(CLIENT, "198.51.100.8"), Counted(KEY, "abc123")], window)
    assert counts == {Counted(CLIENT, "198.51.100.8"): 11, Counted(KEY, "abc123"): 11}


def test_counters_of_windows_long_over_are_deleted(store: Store, now: datetime) -> None:
    limiter = SignInLimiter(store, LIMITS)
    limiter.begin({CLIENT: "old"}, now - timedelta(hours=1))

    limiter.begin({CLIENT: "new"}, now)  # a counter's first failure clears windows long over

    with store.transaction() as db:
        subjects = sorted(db.scalars(select(SignInFailure.subject)))
    assert subjects == ["new"]


def test_a_flow_is_taken_once_even_by_concurrent_callbacks(store: Store, now: datetime) -> None:
    flow = Flow("d" * 64, "nonce", "verifier", "https://vigil.example/cb", now, now + timedelta(minutes=10))
    with store.transaction() as db:
        sign_in_store.save_flow(db, flow)

    def take() -> Flow | None:
        with store.transaction() as db:
            return sign_in_store.take_flow(db, "d" * 64, now)

    taken = _concurrently(6, take)

    assert [t for t in taken if t is not None] == [flow]


def test_an_expired_flow_is_not_given_and_the_next_flow_deletes_it(store: Store, now: datetime) -> None:
    def flow(digest: str, created: datetime) -> Flow:
        return Flow(digest, "n", "v", "https://vigil.example/cb", created, created + timedelta(minutes=10))

    with store.transaction() as db:
        sign_in_store.save_flow(db, flow("a" * 64, now - timedelta(minutes=20)))
        sign_in_store.save_flow(db, flow("b" * 64, now - timedelta(minutes=20)))
    with store.transaction() as db:
        assert sign_in_store.take_flow(db, "a" * 64, now) is None  # expired ten minutes ago
        sign_in_store.save_flow(db, flow("c" * 64, now))

    with store.transaction() as db:
        assert sign_in_store.take_flow(db, "b" * 64, now - timedelta(minutes=15)) is None  # deleted
        assert sign_in_store.take_flow(db, "c" * 64, now) == flow("c" * 64, now)


def test_the_limit_holds_across_two_vigil_processes_on_one_database(store: Store) -> None:
    settings = Settings(
        database_url=store.url,
        webhook_deliver=False,
        retro_matching=False,
        order_watch=False,
        text_classifier=False,
    )
    # two applications with engines of their own, as two `vigil serve` processes would have
    first, second = Store(store.url), Store(store.url)
    try:
        apps = [create_app(settings, first), create_app(settings, second)]
        clients = [TestClient(app, client=("198.51.100.20", 50000)) for app in apps]

        def sign_in(client: TestClient, key: str) -> httpx.Response:
            token = csrf_token(client.get("/console/login").text)
            return client.post("/console/login", data={"csrf": token, "api_key": key}, follow_redirects=False)

        failures = [sign_in(clients[n % 2], f"wrong key {n}").status_code for n in range(10)]

        assert failures == [401] * 10
        assert sign_in(clients[0], "one more").status_code == 429
        assert sign_in(clients[1], "and another").status_code == 429
        for client in clients:
            client.close()
    finally:
        first.dispose()
        second.dispose()
