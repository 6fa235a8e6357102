"""Submission of statements of reasons to the DSA Transparency Database (DSA Art. 24(5)).

The client speaks the database's API (docs/transparency.md, "The DSA Transparency Database"):
``POST /statements`` with 1 to 100 statements, all or nothing, and
``GET /statement/existing-puid/{puid}`` (302 when the database holds the puid, 404 when not). The loop claims pending submissions from the store under a lease,
sends them in batches and records how each ended, a whole batch in one transaction.

Exactly once, from at-least-once: the puid (the decision's id) is unique per platform in the
database. An attempt whose outcome is unknown (a timeout after the request went out, a 5xx, a
dropped connection) may have been stored, so the statement's puid is looked up before it is sent
again: found, it is marked submitted without a second copy. A batch the database refuses is
refused whole; the statements it names (``statement_N``) are marked rejected with its reasons, and
the others go again at once. Busy (429), failing (5xx) or unreachable, the database is retried with
exponential backoff and jitter, for as long as it takes: a statement is never given up on.
"""

from __future__ import annotations

import logging
import random
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from vigil.background import PollingThread
from vigil.config import Settings
from vigil.enforce.egress import EgressPolicy, PinnedTransport
from vigil.enforce.outbox import RetryPolicy
from vigil.store import statements as statement_store
from vigil.store.db import Store
from vigil.store.statements import OUTCOME_UNKNOWN, DueStatement, SubmissionResult, SubmissionState
from vigil.transparency.dsa_schema import BATCH_LIMIT

log = logging.getLogger(__name__)

ACTOR = "vigil:dsa-database"
_STATEMENT_KEY = re.compile(r"statement_(\d+)")
# failures where the request certainly did not reach the database; any other (a timeout or a broken
# connection after it went out) may have been acted on
_UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the database said, or why it said nothing (``status`` None)."""

    status: int | None
    body: Any
    error: str
    unsure: bool  # the request may have been acted on even though no success came back
    retry_after: float | None = None


class DsaDatabaseClient:
    """The two calls Vigil makes to the database, with the platform's bearer token."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout_seconds: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        egress: EgressPolicy | None = None,
    ) -> None:
        """Requests go only where ``egress`` allows (loopback only when not given), unless a
        ``transport`` is given instead."""
        headers = {"Accept": "application/json", "User-Agent": "Vigil-SoR/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._base = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self._client = httpx.Client(
            timeout=timeout_seconds,
            headers=headers,
            follow_redirects=False,
            transport=transport or PinnedTransport(egress or EgressPolicy()),
        )

    def submit(self, statements: Sequence[Mapping[str, Any]]) -> Answer:
        """``POST /statements``: 201 with the stored statements, 422 with the reasons."""
        return self._call("POST", "/statements", {"statements": list(statements)})

    def existing(self, puid: str) -> Answer:
        """``GET /statement/existing-puid/{puid}``: 302 with the stored statement, 404 when unknown."""
        return self._call("GET", f"/statement/existing-puid/{puid}", None)

    def _call(self, method: str, path: str, payload: Any) -> Answer:
        try:
            response = self._client.request(method, self._base + path, json=payload)
        except _UNSENT_ERRORS as exc:
            return Answer(None, None, f"{type(exc).__name__}: {exc}", unsure=False)
        except httpx.HTTPError as exc:
            return Answer(None, None, f"{type(exc).__name__}: {exc}", unsure=True)
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        error = "" if 200 <= status < 300 else f"the database answered HTTP {status}"
        return Answer(status, body, error, unsure=status >= 500, retry_after=_retry_after(response))

    def close(self) -> None:
        self._client.close()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the exponential backoff stands in for it


def _uuid(body: Any) -> str | None:
    found = body.get("uuid") if isinstance(body, dict) else None
    return str(found)[:64] if found else None


def _bounded(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """The database's reasons as field -> messages, within sizes fit to keep (it is a remote answer)."""
    return {
        str(field)[:100]: [
            str(m)[:500] for m in (messages if isinstance(messages, list) else [messages])[:10]
        ]
        for field, messages in list(errors.items())[:50]
    }


def _reasons(errors: Mapping[str, Any]) -> str:
    listed = "; ".join(
        f"{field}: {' '.join(map(str, messages)) if isinstance(messages, list) else messages}"
        for field, messages in errors.items()
    )
    return f"refused by the DSA Transparency Database: {listed}"


class SubmissionLoop:
    """Claims due statements from the store and submits them; one per ``vigil serve`` process
    (several are safe: claims are exclusive and expire)."""

    def __init__(
        self,
        store: Store,
        client: DsaDatabaseClient,
        clock: Callable[[], datetime],
        batch: int = BATCH_LIMIT,
        poll_seconds: float = 5.0,
        retry: RetryPolicy | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.batch = max(1, min(batch, BATCH_LIMIT))
        # never give up: the limit only bounds the exponent, the cap bounds the wait
        self.retry = retry or RetryPolicy(max_attempts=sys.maxsize, base_seconds=5.0, cap_seconds=3600.0)
        self.rand = rand
        # a claim outlives the slowest run: a look-up per statement, then a batch sent whole or,
        # when the database's refusal names no statement, one by one, every call timing out
        self._lease = timedelta(seconds=max(60.0, client.timeout_seconds * (2 * self.batch + 2)))
        self._failing = False
        self._thread = PollingThread("vigil-dsa-database", self._step, poll_seconds)

    def _step(self) -> bool:
        # busy: go again at once, unless the database is failing; then rest a poll before the next batch
        return self.run_once() > 0 and not self._failing

    def run_once(self) -> int:
        """Submit every statement due now (one batch); returns how many were attempted."""
        with self.store.transaction() as session:
            due = statement_store.claim_due(session, self.clock(), self.batch, self._lease)
        if not due:
            return 0
        run = _Run(self, due)
        run.go()
        self._failing = run.failing is not None
        if run.failing is not None:
            waiting = sum(r.state is SubmissionState.PENDING for r in run.results.values())
            log.warning(
                "DSA database: %d statements not submitted (%s); retrying", waiting, run.failing.error
            )
        with self.store.transaction() as session:
            statement_store.record_results(session, list(run.results.values()), ACTOR, self.clock())
        return len(due)

    def retry_at(self, attempts: int, answer: Answer) -> datetime:
        """When to try again after failed attempt number ``attempts``."""
        delay = self.retry.delay(min(attempts, 60), self.rand) or self.retry.cap_seconds
        return self.clock() + timedelta(seconds=max(delay, answer.retry_after or 0.0))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        self.client.close()


class _Run:
    """One pass over a claimed batch, collecting each statement's result."""

    def __init__(self, loop: SubmissionLoop, due: Sequence[DueStatement]) -> None:
        self.loop = loop
        self.due = due
        self.results: dict[int, SubmissionResult] = {}
        self.unsure = {item.submission_id for item in due if item.unsure}
        self.stopped: Answer | None = None  # the database asked us to stop (429) or cannot be reached
        self.failing: Answer | None = None  # the last failure for want of a working database

    def go(self) -> None:
        to_send: list[DueStatement] = []
        for item in self.due:
            if self.stopped is not None:
                self.failed(item, self.stopped)
            elif item.submission_id in self.unsure:
                self.look_up(item, to_send)
            else:
                to_send.append(item)
        if self.stopped is not None:
            for item in to_send:
                self.failed(item, self.stopped)
        elif to_send:
            self.send(to_send)

    def look_up(self, item: DueStatement, to_send: list[DueStatement]) -> None:
        answer = self.loop.client.existing(item.puid)
        if answer.status == 302:
            self.submitted(item, _uuid(answer.body))
        elif answer.status == 404:
            self.unsure.discard(item.submission_id)  # certainly not stored: safe to send
            to_send.append(item)
        else:
            if answer.status is None or answer.status == 429:
                self.stopped = answer
            self.failed(item, answer)

    def send(self, batch: list[DueStatement]) -> None:
        while batch:
            answer = self.loop.client.submit([item.statement for item in batch])
            if answer.status is not None and 200 <= answer.status < 300:
                stored = answer.body.get("statements") if isinstance(answer.body, dict) else None
                by_puid = (
                    {s.get("puid"): s for s in stored if isinstance(s, dict)}
                    if isinstance(stored, list)
                    else {}
                )
                for item in batch:
                    self.submitted(item, _uuid(by_puid.get(item.puid)))
                return
            if answer.status != 422:
                for item in batch:
                    self.failed(item, answer)
                return
            batch = self.refused(batch, answer.body)

    def refused(self, batch: list[DueStatement], body: Any) -> list[DueStatement]:
        """Sort out a refused batch; returns the statements to send again at once."""
        errors = body.get("errors") if isinstance(body, dict) else None
        errors = errors if isinstance(errors, dict) else {}
        named: dict[int, dict[str, Any]] = {}
        for key, found in errors.items():
            match = _STATEMENT_KEY.fullmatch(key)
            if match and int(match.group(1)) < len(batch):
                named[int(match.group(1))] = _bounded(
                    found if isinstance(found, dict) else {"statement": found}
                )
        # the database refuses a batch holding a puid it already has, naming the puids, not the statements
        existing = {str(p) for p in errors.get("existing_puids") or () if isinstance(p, str | int)}
        if not named and not any(item.puid in existing for item in batch):
            if len(batch) == 1:
                self.rejected(batch[0], _bounded(errors or {"statement": "refused without reasons"}))
            else:
                for item in batch:  # a refusal that names no statement: find the culprit alone
                    self.send([item])
            return []
        again: list[DueStatement] = []
        for index, item in enumerate(batch):
            if index in named:
                self.rejected(item, named[index])
            elif item.puid in existing:
                # stored by an earlier attempt: the look-up next round confirms it and reads its uuid
                self.unsure.add(item.submission_id)
                self.result(
                    item,
                    SubmissionState.PENDING,
                    "the database already holds this puid",
                    retry_at=self.loop.clock(),
                )
            else:
                again.append(item)
        return again

    def result(
        self,
        item: DueStatement,
        state: SubmissionState,
        error: str = "",
        retry_at: datetime | None = None,
        rejection: dict[str, Any] | None = None,
        database_uuid: str | None = None,
    ) -> None:
        if state is SubmissionState.PENDING and item.submission_id in self.unsure:
            error = OUTCOME_UNKNOWN + error
        self.results[item.submission_id] = SubmissionResult(
            item.submission_id,
            item.statement_id,
            state,
            item.attempts + 1,
            error,
            retry_at,
            rejection,
            database_uuid,
        )

    def submitted(self, item: DueStatement, database_uuid: str | None) -> None:
        self.result(item, SubmissionState.SUBMITTED, database_uuid=database_uuid)

    def rejected(self, item: DueStatement, errors: dict[str, list[str]]) -> None:
        log.warning("statement %s refused by the DSA database: %s", item.puid, errors)
        self.result(item, SubmissionState.REJECTED, _reasons(errors), rejection=errors)

    def failed(self, item: DueStatement, answer: Answer) -> None:
        self.failing = answer
        if answer.unsure:
            self.unsure.add(item.submission_id)
        retry_at = self.loop.retry_at(item.attempts + 1, answer)
        self.result(item, SubmissionState.PENDING, answer.error, retry_at=retry_at)


def submission_loop(store: Store, settings: Settings, clock: Callable[[], datetime]) -> SubmissionLoop:
    """The loop ``vigil serve`` runs when ``VIGIL_DSA_DATABASE_URL`` is set."""
    if not settings.dsa_database_url:
        raise ValueError("VIGIL_DSA_DATABASE_URL is not set")
    client = DsaDatabaseClient(
        settings.dsa_database_url, settings.dsa_database_token, egress=EgressPolicy.from_settings(settings)
    )
    return SubmissionLoop(
        store,
        client,
        clock,
        batch=settings.dsa_database_batch,
        poll_seconds=settings.dsa_database_poll_seconds,
    )
