"""The delivery loop: sends pending outbox deliveries as signed webhooks, with retries.

Why an outbox: the decision and the event announcing it are written in one transaction, so a
crash can neither lose an enforcement (decision stored, webhook never sent) nor send one for a
decision that was rolled back. Sending happens afterwards, from the store, and survives restarts.
Delivery is at-least-once; receivers de-duplicate by ``Vigil-Event-Id``.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import httpcore
import httpx

from vigil.background import PollingThread
from vigil.enforce.egress import (
    EgressError,
    EgressPolicy,
    PinnedTransport,
    UrlInvalid,
    parse_url,
    without_credentials,
)
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


class DeliveryError(StrEnum):
    """Why an attempt failed, as the deliveries list shows it (``last_error``).

    Coarse on purpose: the exception's own text ("connection refused" against "no route to host",
    the address a name resolved to) would tell a platform key what lies behind a URL, which makes
    the list a port scanner. The full reason goes to the server log, for the operator.
    """

    HTTP_STATUS = "http_status"  # the endpoint answered with a status other than 2xx (last_status)
    TIMEOUT = "timeout"  # no connection or no answer within the timeout
    CONNECTION_FAILED = "connection_failed"  # refused, reset, TLS failed, not HTTP
    NAME_NOT_RESOLVED = "name_not_resolved"  # the host name resolves to no address
    REFUSED_BY_POLICY = "refused_by_policy"  # an address the egress policy forbids: nothing was sent
    URL_INVALID = "url_invalid"  # a stored URL that today's rules refuse: never sent, dead at once
    INTERNAL_ERROR = "internal_error"  # a fault in Vigil, logged with its traceback
    ENDPOINT_DEACTIVATED = "endpoint_deactivated"  # set by DELETE /v1/webhooks/{id}, not by an attempt


_CATEGORIES = frozenset(category.value for category in DeliveryError)


def public_error(recorded: str) -> str:
    """``last_error`` as the deliveries list shows it: a DeliveryError value.

    Attempts recorded before these categories existed kept the exception's text; it is mapped here
    rather than shown, since it may name internal hosts.
    """
    if not recorded or recorded in _CATEGORIES:
        return recorded
    if recorded == "endpoint deactivated":
        return DeliveryError.ENDPOINT_DEACTIVATED
    if recorded.startswith("endpoint answered HTTP"):
        return DeliveryError.HTTP_STATUS
    if "Timeout" in recorded.partition(":")[0]:
        return DeliveryError.TIMEOUT
    return DeliveryError.CONNECTION_FAILED


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
        egress: EgressPolicy | None = None,
        network: httpcore.NetworkBackend | None = None,
    ) -> None:
        """``egress`` says where webhooks may go (loopback only when not given); ``network`` opens
        the sockets, httpcore's own unless a test watches them."""
        self.store = store
        self.retry = retry
        self.clock = clock
        self.batch = batch
        # a claim outlives the slowest batch (every send timing out, SENDERS at a time), so no other
        # process sends the same delivery while this one is still trying
        rounds = -(-batch // SENDERS)
        self._lease = timedelta(seconds=max(30.0, timeout_seconds * (rounds + 2)))
        limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
        self._client = httpx.Client(
            timeout=timeout_seconds,
            follow_redirects=False,
            transport=PinnedTransport(egress or EgressPolicy(), limits, network),
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
        """One delivery's attempt, whatever goes wrong: a failure is this delivery's, never the
        batch's, so the others' attempts are recorded once and not sent again."""
        try:
            return self._send(delivery)
        except Exception:
            log.exception("webhook %s: sending failed inside Vigil", delivery.event_id)
            return self._failed(delivery, None, DeliveryError.INTERNAL_ERROR, "see the traceback above")

    def _send(self, delivery: outbox_store.DueDelivery) -> _Attempt:
        try:
            target = parse_url(delivery.url)
        except UrlInvalid as exc:
            # an endpoint registered before URLs were checked: it will never be sent to
            return self._failed(delivery, None, DeliveryError.URL_INVALID, str(exc), permanent=True)
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
        try:
            # streamed: only the status matters, and a body could be endless or dribbled out
            with self._client.stream("POST", target.url, content=body, headers=headers) as response:
                status = response.status_code
                if status == 204 or response.headers.get("content-length") == "0":
                    # nothing to wait for: read, and the connection can be kept alive; the status
                    # already decided the attempt, so a failure here only loses the connection
                    with contextlib.suppress(httpx.HTTPError):
                        response.read()
        except EgressError as exc:
            return self._failed(delivery, None, DeliveryError(exc.category), str(exc))
        except httpx.TimeoutException as exc:
            return self._failed(delivery, None, DeliveryError.TIMEOUT, f"{type(exc).__name__}: {exc}")
        except httpx.HTTPError as exc:
            return self._failed(
                delivery, None, DeliveryError.CONNECTION_FAILED, f"{type(exc).__name__}: {exc}"
            )
        if 200 <= status < 300:
            return _Attempt(delivery.id, self.clock(), True, status, "", None)
        return self._failed(delivery, status, DeliveryError.HTTP_STATUS, f"endpoint answered HTTP {status}")

    def _failed(
        self,
        delivery: outbox_store.DueDelivery,
        status: int | None,
        error: DeliveryError,
        detail: str,
        permanent: bool = False,
    ) -> _Attempt:
        """A failed attempt: its category is recorded, its detail only logged (see DeliveryError)."""
        delay = None if permanent else self.retry.delay(delivery.attempts + 1)
        retry_at = None if delay is None else self.clock() + timedelta(seconds=delay)
        shown = without_credentials(delivery.url)
        log.warning(
            "webhook %s to %s failed (%s: %s); %s",
            delivery.event_id,
            shown if shown.isprintable() else ascii(shown),  # a stored CR/LF must not forge log lines
            error.value,
            detail,
            "giving up" if retry_at is None else f"retrying in {delay:.1f}s",
        )
        return _Attempt(delivery.id, self.clock(), False, status, error.value, retry_at)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        self._senders.shutdown(wait=True)
        self._client.close()
