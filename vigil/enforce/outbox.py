"""The delivery loop: sends pending outbox deliveries as signed webhooks, with retries.

Why an outbox: the decision and the event announcing it are written in one transaction, so a
crash can neither lose an enforcement (decision stored, webhook never sent) nor send one for a
decision that was rolled back. Sending happens afterwards, from the store, and survives restarts.
Delivery is at-least-once; receivers de-duplicate by ``Vigil-Event-Id``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from vigil.background import PollingThread
from vigil.enforce.webhooks import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from vigil.store import outbox as outbox_store
from vigil.store.db import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 15
    base_seconds: float = 2.0
    cap_seconds: float = 3600.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float | None:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), or None to give up.

        Exponential with "equal jitter": half the exponential step is fixed, half random, so a
        burst of failures does not retry in lock-step against a recovering endpoint.
        """
        if attempt >= self.max_attempts:
            return None
        step = min(self.cap_seconds, self.base_seconds * 2.0 ** (attempt - 1))
        return step / 2 + rand() * step / 2


# deliveries of one batch in flight at once: enough that one slow endpoint does not hold up the rest
SENDERS = 8


@dataclass(frozen=True, slots=True)
class _Attempt:
    delivery_id: int
    at: datetime
    ok: bool
    status: int | None
    error: str
    retry_at: datetime | None


class DeliveryLoop:
    """Claims due deliveries from the store and sends them; one loop per ``vigil serve`` process."""

    def __init__(
        self,
        store: Store,
        retry: RetryPolicy,
        timeout_seconds: float,
        poll_seconds: float,
        clock: Callable[[], datetime],
        batch: int = 50,
    ) -> None:
        self.store = store
        self.retry = retry
        self.clock = clock
        self.batch = batch
        # a claim outlives the slowest batch (every send timing out, SENDERS at a time), so no other
        # process sends the same delivery while this one is still trying
        rounds = -(-batch // SENDERS)
        self._lease = timedelta(seconds=max(30.0, timeout_seconds * (rounds + 2)))
        self._client = httpx.Client(
            timeout=timeout_seconds,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS),
        )
        self._senders = ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="vigil-webhook-send")
        self._thread = PollingThread("vigil-webhooks", lambda: self.run_once() > 0, poll_seconds)

    def run_once(self) -> int:
        """Send every delivery due now; returns how many were attempted.

        The batch is sent by a few threads at once, and its results are recorded together, in one
        transaction: on SQLite a write transaction per attempt would queue behind every request
        that writes, and webhooks would trickle out while orders and content pour in.
        """
        with self.store.transaction() as session:
            due = outbox_store.claim_due(session, self.clock(), self.batch, self._lease)
        if not due:
            return 0
        attempts = list(self._senders.map(self._attempt, due))
        with self.store.transaction() as session:
            for attempt in attempts:
                outbox_store.record_attempt(
                    session,
                    attempt.delivery_id,
                    attempt.at,
                    attempt.ok,
                    attempt.status,
                    attempt.error,
                    attempt.retry_at,
                )
        return len(due)

    def _attempt(self, delivery: outbox_store.DueDelivery) -> _Attempt:
        body = delivery.payload.encode()
        now = self.clock()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(delivery.secret, int(now.timestamp()), body),
            EVENT_ID_HEADER: delivery.event_id,
            EVENT_TYPE_HEADER: delivery.event_type,
            ATTEMPT_HEADER: str(delivery.attempts + 1),
            "User-Agent": "Vigil-Webhooks/1",
        }
        status: int | None = None
        error = ""
        try:
            response = self._client.post(delivery.url, content=body, headers=headers)
            status = response.status_code
            ok = 200 <= status < 300
            if not ok:
                error = f"endpoint answered HTTP {status}"
        except httpx.HTTPError as exc:
            ok = False
            error = f"{type(exc).__name__}: {exc}"
        retry_at = None
        if not ok:
            delay = self.retry.delay(delivery.attempts + 1)
            retry_at = None if delay is None else self.clock() + timedelta(seconds=delay)
            log.warning(
                "webhook %s to %s failed (%s); %s",
                delivery.event_id,
                delivery.url,
                error,
                "giving up" if retry_at is None else f"retrying in {delay:.1f}s",
            )
        return _Attempt(delivery.id, self.clock(), ok, status, error, retry_at)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        self._senders.shutdown(wait=True)
        self._client.close()
