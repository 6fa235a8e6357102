"""The operator's endpoints: ``/readyz`` (readiness) and ``/metrics`` (Prometheus), beside the
liveness ``/healthz``. Neither needs a key, neither is in the OpenAPI schema, neither shows content
(docs/deployment.md, "Operating: metrics, logs, readiness", says why they are open)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from vigil.config import Settings
from vigil.domain.ids import utcnow
from vigil.observe.cluster import ClusterCollector
from vigil.observe.http import RequestMetrics
from vigil.observe.readiness import check_readiness
from vigil.store.db import Store


class _ProcessMetrics(Collector):
    """This process's metrics (prometheus_client's default registry: Vigil's own, and the process
    and Python collectors) inside the app's registry, beside the cluster's figures."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def mount_operations(app: FastAPI, settings: Settings, store: Store) -> None:
    """Add ``/readyz`` always; ``/metrics`` and the request timing unless ``VIGIL_METRICS=false``.

    ``app.state.draining`` is set by ``vigil serve`` when it begins to shut down: readiness then
    answers 503 while the requests in flight finish.
    """
    app.state.draining = threading.Event()

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        draining: threading.Event = request.app.state.draining
        readiness = await check_readiness(store.url, settings.nats_url, draining.is_set())
        return JSONResponse(
            readiness.body(),
            status_code=200 if readiness.ready else 503,
            headers={"Cache-Control": "no-store"},
        )

    if not settings.metrics:
        return
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProcessMetrics())
    registry.register(ClusterCollector(store, utcnow))

    # a plain function: FastAPI runs it in a worker thread, so the database read blocks no request
    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RequestMetrics)
