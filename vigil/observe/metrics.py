"""The process's own metrics, in prometheus_client's default registry.

Each process counts what it did itself (requests it answered, items it decided); Prometheus adds
the processes up. What belongs to the cluster as a whole (backlogs, order clocks) is read from the
database at scrape time instead (``vigil/observe/cluster.py``), so that every process reports the
same figure and none has to be the one that counts.

Labels are bounded on purpose: a route *template*, a status *class*, an outcome of a closed
vocabulary, a path of two values. Nothing here carries an id, a user or a word of content.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.registry import Collector

# the ways an item reaches the decision path: an HTTP request, or a message from the stream
PATHS = ("api", "stream")

# from a cached hash look-up (milliseconds) to a batch that waits on the text classifier (seconds)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

HTTP_REQUEST_SECONDS = Histogram(
    "vigil_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status class (2xx, 4xx ...)",
    ("route", "method", "status"),
    buckets=LATENCY_BUCKETS,
)
ITEMS = Counter(
    "vigil_items",  # exposed as vigil_items_total
    "Items of content decided by this process, by the path they came in on (api, stream)",
    ("path",),
)
DECISIONS = Counter(
    "vigil_decisions",  # exposed as vigil_decisions_total
    "Decisions taken by this process on submitted items, by outcome and path",
    ("outcome", "path"),
)
DECISION_SECONDS = Histogram(
    "vigil_decision_seconds",
    "Time one call of the decision path took (one item, or one batch), by path",
    ("path",),
    buckets=LATENCY_BUCKETS,
)
STREAM_PENDING = Gauge(
    "vigil_stream_pending_items",
    "Items in the stream that the workers' consumer has not yet been delivered (consumer lag), "
    "as this worker last saw it",
)


# every path's series exist from the start, at zero: a rate over a counter that appears only with its
# first item would miss that first item
for _path in PATHS:
    ITEMS.labels(_path)
    DECISION_SECONDS.labels(_path)


def observe_decisions(path: str, outcomes: Sequence[str], seconds: float) -> None:
    """Count one call of the decision path: ``outcomes`` holds one outcome per item decided (its
    length is the number of items), ``seconds`` is how long the whole call took.

    ``path`` is ``"api"`` or ``"stream"``; anything else is refused, because every new label value
    is a new time series in every scrape.
    """
    if path not in PATHS:
        raise ValueError(f"path must be one of {', '.join(PATHS)}, not {path!r}")
    if outcomes:
        ITEMS.labels(path).inc(len(outcomes))
    for outcome in outcomes:
        DECISIONS.labels(str(outcome), path).inc()
    DECISION_SECONDS.labels(path).observe(seconds)


def set_consumer_lag(pending: int) -> None:
    """Set how many items wait in the stream for the workers' consumer (its ``num_pending``)."""
    STREAM_PENDING.set(pending)


def start_metrics_server(
    port: int, host: str = "127.0.0.1", registry: Collector = REGISTRY
) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics`` of this process on ``host:port`` from a daemon thread, for a process
    without an HTTP API of its own (``vigil worker``). Returns the server (``shutdown()`` stops it)
    and its thread. Loopback by default: a worker's metrics are counts only, but an operator
    decides which network may scrape them."""
    return start_http_server(port, addr=host, registry=registry)
