"""Submitting statements of reasons to a stand-in for the DSA Transparency Database, on both engines.

The stand-in is a real HTTP server on a local port that validates like the database (the same
``dsa_schema`` rules, all-or-nothing batches with errors keyed ``statement_N``), stores what it
accepts under a new uuid, keeps puids unique (it serves one platform, whose token it checks), refuses
a batch holding a puid it already has as the database does (``existing_puids``), answers
``existing-puid`` with 302 or 404, and counts how often each puid was stored. It can be stopped
and started, made to answer 500 or 429, or to store a batch and then answer too late.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import AutomatedDecision, Decision, DecisionContext, Source
from vigil.domain.hashes import HashType, ListedHash
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.enforce.outbox import RetryPolicy
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store import content as content_store
from vigil.store import statements as statement_store
from vigil.store.db import Store
from vigil.store.statements import OUTCOME_UNKNOWN, StatementState, SubmissionInfo, SubmissionState
from vigil.store.tables import Statement
from vigil.transparency.dsa_database import DsaDatabaseClient, SubmissionLoop
from vigil.transparency.dsa_schema import validate_batch

TOKEN = "platform-token"
TIMEOUT = 0.5  # the client's; a "slow" answer comes later than this
KIT = hashlib.md5(b"phishing kit").hexdigest()


@dataclass
class Database:
    """What the stand-in holds and has seen; ``failures`` are played in order, one per request."""

    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    times_stored: Counter[str] = field(default_factory=Counter)
    batches: list[list[str]] = field(default_factory=list)  # the puids of each POST received
    lookups: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # 500, 429, slow, 500-after-store
    anonymous_refusal_of: set[str] = field(default_factory=set)  # refuse batches holding these, naming none
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_failure(self) -> str | None:
        with self.lock:
            return self.failures.pop(0) if self.failures else None


def _handler(db: Database) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, {"message": "Unauthenticated."})
                return False
            return True

        def do_GET(self) -> None:
            prefix = "/api/v1/statement/existing-puid/"
            if not self._authorised():
                return
            if not self.path.startswith(prefix):
                self._answer(404, {"message": "not found"})
                return
            puid = self.path[len(prefix) :]
            db.lookups.append(puid)
            found = db.stored.get(puid)
            if found is None:
                self._answer(404, {"message": "statement of reason not found"})
            else:
                self._answer(302, found)

        def do_POST(self) -> None:
            if not self._authorised():
                return
            if self.path != "/api/v1/statements":
                self._answer(404, {"message": "not found"})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            puids = [str(s.get("puid")) for s in body.get("statements", []) if isinstance(s, dict)]
            db.batches.append(puids)
            failure = db.next_failure()
            if failure == "500":
                self._answer(500, {"message": "Server Error"})
                return
            if failure == "429":
                self._answer(429, {"message": "Too Many Attempts."}, {"Retry-After": "120"})
                return
            if db.anonymous_refusal_of & set(puids):
                self._answer(422, {"errors": {"statements": ["The statements could not be stored."]}})
                return
            errors = validate_batch(body)
            if errors:
                self._answer(422, {"errors": errors})
                return
            existing = [p for p in puids if p in db.stored]
            if existing:
                message = "The platform identifier(s) are not all unique within this call."
                self._answer(
                    422, {"message": message, "errors": {"puid": [message], "existing_puids": existing}}
                )
                return
            out = []
            for statement in body["statements"]:
                stored = {**statement, "uuid": str(uuid.uuid4())}
                db.stored[statement["puid"]] = stored
                db.times_stored[statement["puid"]] += 1
                out.append(stored)
            if failure == "slow":
                time.sleep(TIMEOUT * 3)
            if failure == "500-after-store":
                self._answer(500, {"message": "Server Error"})
                return
            self._answer(201, {"statements": out})

    return Handler


class StandIn:
    """The stand-in database's server: ``stop`` takes it off the network, ``start`` brings it back."""

    def __init__(self) -> None:
        self.db = Database()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self.db))
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def database() -> Iterator[StandIn]:
    stand_in = StandIn()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def clock(now: datetime) -> Clock:
    return Clock(now)


def _loop(store: Store, database: StandIn, clock: Clock, batch: int = 100) -> SubmissionLoop:
    client = DsaDatabaseClient(database.url, TOKEN, timeout_seconds=TIMEOUT)
    retry = RetryPolicy(max_attempts=10**6, base_seconds=5.0, cap_seconds=3600.0)
    return SubmissionLoop(store, client, clock, batch=batch, retry=retry, rand=lambda: 0.5)


def _removals(store: Store, clock: Clock, count: int) -> list[str]:
    """``count`` phishing kits removed by the default pack, each with its statement; their puids."""
    admin = Admin(store, clock=clock)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    admin.create_bank("kits", Category.FRAUD, "internal", 31, "test")
    admin.add_hashes("kits", [ListedHash(HashType.MD5, KIT)], "test")
    items = [
        Content(
            f"scam-{n}",
            ContentKind.POST,
            Audience.PUBLIC,
            "u",
            clock(),
            media=(MediaHashes("m", None, KIT, None, 1),),
        )
        for n in range(count)
    ]
    outcomes = Pipeline(store, clock=clock).submit(items, DecisionContext(), "platform")
    assert {o.decision.outcome for o in outcomes} == {"remove"}
    return [o.decision_id for o in outcomes]


def _submissions(store: Store) -> dict[str, SubmissionInfo]:
    with store.transaction() as session:
        return {s.puid: s for s in statement_store.list_submissions(session, None, 0, 500)}


def _states(store: Store) -> dict[str, str]:
    return {puid: s.state.value for puid, s in _submissions(store).items()}


def test_statements_go_in_batches_and_keep_the_uuid_the_database_gave_them(
    store: Store, database: StandIn, clock: Clock
) -> None:
    puids = _removals(store, clock, 5)
    loop = _loop(store, database, clock, batch=2)

    attempted = [loop.run_once() for _ in range(4)]

    assert attempted == [2, 2, 1, 0]
    assert database.db.batches == [puids[:2], puids[2:4], puids[4:]]
    found = _submissions(store)
    assert {p: (s.state, s.database_uuid, s.attempts) for p, s in found.items()} == {
        p: (SubmissionState.SUBMITTED, database.db.stored[p]["uuid"], 1) for p in puids
    }


def test_submission_waits_out_a_database_that_is_down_and_survives_a_restart_of_the_loop(
    store: Store, database: StandIn, clock: Clock
) -> None:
    puids = _removals(store, clock, 3)
    database.stop()
    first = _loop(store, database, clock)

    assert first.run_once() == 3
    waiting = _submissions(store)
    assert {s.state for s in waiting.values()} == {SubmissionState.PENDING}
    assert {s.next_attempt_at - clock() for s in waiting.values()} == {timedelta(seconds=3.75)}
    assert not any(s.last_error.startswith(OUTCOME_UNKNOWN) for s in waiting.values())  # never sent
    clock.advance(seconds=2)
    assert first.run_once() == 0  # not before the backoff ends
    first.stop()  # the process goes away

    database.start()
    clock.advance(seconds=2)
    assert _loop(store, database, clock).run_once() == 3

    assert _states(store) == dict.fromkeys(puids, "submitted")
    assert database.db.times_stored == Counter(puids)


def test_rate_limits_and_server_errors_are_retried_with_growing_backoff(
    store: Store, database: StandIn, clock: Clock
) -> None:
    [puid] = _removals(store, clock, 1)
    database.db.failures = ["500", "500", "429"]
    loop = _loop(store, database, clock)
    waits = []

    for _ in range(3):
        loop.run_once()
        [waiting] = _submissions(store).values()
        waits.append((waiting.next_attempt_at - clock()).total_seconds())
        clock.now = waiting.next_attempt_at

    # 5 s doubling, half of it jittered (the jitter is fixed at its middle here); a 429's Retry-After wins
    assert waits == [3.75, 7.5, 120.0]
    loop.run_once()
    assert _states(store) == {puid: "submitted"}
    # a 500 may come after the database stored it: its puid was looked up before it went again
    assert database.db.lookups == [puid, puid]


@pytest.mark.parametrize("failure", ["slow", "500-after-store"])
def test_a_statement_the_database_stored_before_failing_is_not_stored_twice(
    store: Store, database: StandIn, clock: Clock, failure: str
) -> None:
    puids = _removals(store, clock, 2)
    database.db.failures = [failure]
    _loop(store, database, clock).run_once()

    unsure = _submissions(store)
    assert {s.state for s in unsure.values()} == {SubmissionState.PENDING}
    assert all(s.last_error.startswith(OUTCOME_UNKNOWN) for s in unsure.values())
    clock.advance(seconds=10)
    _loop(store, database, clock).run_once()  # another process, after a restart

    found = _submissions(store)
    assert {p: (s.state, s.database_uuid) for p, s in found.items()} == {
        p: (SubmissionState.SUBMITTED, database.db.stored[p]["uuid"]) for p in puids
    }
    assert database.db.times_stored == Counter(puids)
    assert database.db.batches == [puids]  # sent once; the second time only looked up
    assert sorted(database.db.lookups) == sorted(puids)


def test_a_crashed_senders_claim_expires_and_another_submits_the_statements(
    store: Store, database: StandIn, clock: Clock
) -> None:
    puids = _removals(store, clock, 2)
    with store.transaction() as session:  # a sender claims them, then dies
        statement_store.claim_due(session, clock(), 10, timedelta(minutes=5))
    other = _loop(store, database, clock)

    assert other.run_once() == 0
    clock.advance(minutes=5)
    assert other.run_once() == 2
    assert _states(store) == dict.fromkeys(puids, "submitted")


def test_a_refused_batch_rejects_the_statements_it_names_and_sends_the_rest(
    store: Store, database: StandIn, clock: Clock
) -> None:
    puids = _removals(store, clock, 3)
    with store.transaction() as session:
        # a statement kept from before a change of the database's rules, which now refuse it
        row = session.scalar(select(Statement).where(Statement.puid == puids[1]))
        assert row is not None
        session.execute(
            update(Statement)
            .where(Statement.id == row.id)
            .values(statement={**row.statement, "territorial_scope": ["UK"]})
        )

    _loop(store, database, clock).run_once()

    found = _submissions(store)
    assert {p: s.state.value for p, s in found.items()} == {
        puids[0]: "submitted",
        puids[1]: "rejected",
        puids[2]: "submitted",
    }
    assert found[puids[1]].rejection == {"territorial_scope": ["The selected territorial scope is invalid."]}
    assert "territorial_scope: The selected territorial scope is invalid." in found[puids[1]].last_error
    assert database.db.batches == [puids, [puids[0], puids[2]]]
    with store.transaction() as session:
        rejected = statement_store.list_submissions(session, SubmissionState.REJECTED, 0, 10)
    assert [s.puid for s in rejected] == [puids[1]]


def test_a_refusal_that_names_no_statement_is_narrowed_down_one_by_one(
    store: Store, database: StandIn, clock: Clock
) -> None:
    puids = _removals(store, clock, 3)
    database.db.anonymous_refusal_of = {puids[2]}

    _loop(store, database, clock).run_once()

    assert _states(store) == {puids[0]: "submitted", puids[1]: "submitted", puids[2]: "rejected"}
    assert database.db.batches == [puids, [puids[0]], [puids[1]], [puids[2]]]


def test_a_puid_the_database_already_holds_is_confirmed_not_stored_again(
    store: Store, database: StandIn, clock: Clock
) -> None:
    puids = _removals(store, clock, 2)
    # stored by an attempt whose result was never recorded here (the transaction was lost)
    with store.transaction() as session:
        row = session.scalar(select(Statement).where(Statement.puid == puids[0]))
        assert row is not None
        database.db.stored[puids[0]] = {**row.statement, "uuid": "earlier-uuid"}
        database.db.times_stored[puids[0]] += 1
    loop = _loop(store, database, clock)

    loop.run_once()  # the batch is refused for the known puid; the other goes again at once
    loop.run_once()  # the known one is looked up

    found = _submissions(store)
    assert {p: s.database_uuid for p, s in found.items()} == {
        puids[0]: "earlier-uuid",
        puids[1]: database.db.stored[puids[1]]["uuid"],
    }
    assert _states(store) == dict.fromkeys(puids, "submitted")
    assert database.db.times_stored == Counter(puids)


def test_vigil_serve_submits_statements_by_itself_when_the_database_is_configured(
    store: Store, database: StandIn
) -> None:
    settings = Settings(
        dsa_database_url=database.url,
        dsa_database_token=TOKEN,
        dsa_database_poll_seconds=0.05,
        webhook_deliver=False,
        retro_matching=False,
        order_watch=False,
        qa_sample_rate=0.0,
    )
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    admin.create_bank("kits", Category.FRAUD, "internal", 31, "test")
    admin.add_hashes("kits", [ListedHash(HashType.MD5, KIT)], "test")
    _, key = admin.create_key(Role.PLATFORM, "platform", None, "test")
    item = {"id": "scam-1", "author_id": "u", "media": [{"id": "m", "md5": KIT}]}

    with TestClient(create_app(settings, store)) as client:
        decided = client.post("/v1/content", json=item, headers={"Authorization": f"Bearer {key}"}).json()
        deadline = time.monotonic() + 10
        while _states(store) != {decided["decision_id"]: "submitted"} and time.monotonic() < deadline:
            time.sleep(0.05)

    assert _states(store) == {decided["decision_id"]: "submitted"}
    assert list(database.db.stored) == [decided["decision_id"]]


def test_a_restriction_lifted_before_its_statement_was_sent_is_still_published_and_marked_revoked(
    store: Store, database: StandIn, clock: Clock
) -> None:
    [puid] = _removals(store, clock, 1)
    clock.advance(minutes=1)
    with store.transaction() as session:  # a reviewer lifts the removal
        [item] = content_store.load_contents(session, ["scam-0"])
        lifted = replace(
            Decision.no_action(item.subject, Source.REVIEWER, automated_detection=True),
            automated_decision=AutomatedDecision.NOT_AUTOMATED,
        )
        Pipeline(store, clock=clock).record_reviewed(session, item, lifted, (), "reviewer", clock())

    _loop(store, database, clock).run_once()

    with store.transaction() as session:
        issued = statement_store.of_decision(session, puid)
    assert issued is not None
    assert (issued.state, issued.updated_at) == (StatementState.REVOKED, clock())
    # the restriction happened: the database gets its statement all the same
    assert _states(store) == {puid: "submitted"}
