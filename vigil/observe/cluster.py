"""The cluster's figures, read from the database when Prometheus scrapes: backlogs and clocks that
belong to no one process (``/metrics``, docs/deployment.md "Operating").

Every process reports the same values, read from the one database, so a dashboard takes any one
of them (``max`` over the processes), never their sum. The reads are few, bounded and served by
existing indexes, and their result is kept for ``cache_seconds``, so that several Prometheus
servers, or one scraping often, cost one round of queries every couple of seconds at most.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from vigil.domain.orders import OrderState
from vigil.store import cases as case_store
from vigil.store import orders as order_store
from vigil.store import outbox as outbox_store
from vigil.store import retro as retro_store
from vigil.store.db import Store

log = logging.getLogger(__name__)

# pending deliveries counted at most: past it the count reads "at least this many", and a scrape
# stays cheap however far delivery has fallen behind
DELIVERY_COUNT_CAP = 100_000
OPEN_ORDER_STATES = tuple(state.value for state in OrderState if state is not OrderState.ANSWERED)


class ClusterCollector(Collector):
    """A Prometheus collector over the store: register it in a registry that ``/metrics`` renders.

    A failing read (the database away) is logged and reported as ``vigil_cluster_metrics_up 0``
    with no other cluster figure, so the process's own metrics are still served.
    """

    def __init__(self, store: Store, clock: Callable[[], datetime], cache_seconds: float = 2.0) -> None:
        self.store = store
        self.clock = clock
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: list[Metric] = []
        self._read_at = float("-inf")

    def collect(self) -> Iterator[Metric]:
        # one reader at a time: scrapes that arrive together share the read of the first
        with self._lock:
            if time.monotonic() - self._read_at >= self.cache_seconds:
                self._cached = self._read()
                self._read_at = time.monotonic()
            yield from self._cached

    def _read(self) -> list[Metric]:
        started = time.perf_counter()
        up = GaugeMetricFamily(
            "vigil_cluster_metrics_up", "1 when the cluster figures could be read from the database"
        )
        try:
            figures = self._figures()
        except Exception:
            log.exception("reading the cluster metrics from the database failed")
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        took = GaugeMetricFamily(
            "vigil_cluster_metrics_read_seconds", "Time the last read of the cluster figures took"
        )
        took.add_metric([], time.perf_counter() - started)
        return [up, took, *figures]

    def _figures(self) -> list[Metric]:
        now = self.clock()
        with self.store.transaction() as session:
            backlog = outbox_store.delivery_backlog(session, DELIVERY_COUNT_CAP)
            clocks = order_store.open_clocks(session, OPEN_ORDER_STATES, now)
            cases = case_store.open_counts(session)
            jobs = retro_store.unfinished_counts(session)

        pending = GaugeMetricFamily(
            "vigil_webhook_deliveries_pending",
            f"Webhook deliveries not yet delivered nor given up (counted up to {DELIVERY_COUNT_CAP})",
        )
        pending.add_metric([], backlog.pending)
        oldest = GaugeMetricFamily(
            "vigil_webhook_oldest_pending_seconds",
            "Age of the oldest pending webhook delivery (0 when none is pending); includes retry backoff",
        )
        oldest.add_metric([], _since(now, backlog.oldest_created_at))
        lag = GaugeMetricFamily(
            "vigil_webhook_delivery_lag_seconds",
            "How long the most overdue pending delivery has waited past its due time (0 when none is due)",
        )
        lag.add_metric([], _since(now, backlog.earliest_due_at))

        by_state = GaugeMetricFamily(
            "vigil_orders_open", "Authority orders not yet answered, by state", labels=("state",)
        )
        for state in OPEN_ORDER_STATES:
            by_state.add_metric([state], clocks.open_by_state.get(state, 0))
        overdue = GaugeMetricFamily(
            "vigil_orders_overdue", "Authority orders not yet answered whose deadline has passed"
        )
        overdue.add_metric([], clocks.overdue)
        metrics: list[Metric] = [pending, oldest, lag, by_state, overdue]
        if clocks.nearest_deadline is not None:  # absent, not a made-up number, when no clock runs
            nearest = GaugeMetricFamily(
                "vigil_orders_next_deadline_seconds",
                "Seconds until the nearest deadline of an unanswered order (negative: overdue)",
            )
            nearest.add_metric([], (clocks.nearest_deadline - now).total_seconds())
            metrics.append(nearest)

        queues = GaugeMetricFamily(
            "vigil_review_cases_open", "Open review cases, by queue", labels=("queue",)
        )
        for queue, count in sorted(cases.items()):
            queues.add_metric([queue], count)
        retro = GaugeMetricFamily(
            "vigil_retro_jobs", "Retroactive matching jobs not yet done, by state", labels=("state",)
        )
        for state in (retro_store.JobState.PENDING.value, retro_store.JobState.RUNNING.value):
            retro.add_metric([state], jobs.get(state, 0))
        return [*metrics, queues, retro]


def _since(now: datetime, then: datetime | None) -> float:
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())
