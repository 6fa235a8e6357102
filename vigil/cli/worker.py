"""``vigil worker``: decide the content items that platforms publish on NATS JetStream (docs/stream.md)."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated

import typer

from vigil.cli.shared import _fail, _store
from vigil.config import Settings
from vigil.domain.ids import utcnow
from vigil.enforce.evidence import KEYS_SETTING, EvidenceKeyError, evidence_vault
from vigil.observe.logs import configure_logging
from vigil.observe.metrics import start_metrics_server
from vigil.pipeline.build import pipeline_from_settings
from vigil.review.queues import QueueConfigError
from vigil.review.strikes import StrikeRulesError
from vigil.store.audit import sealer


def worker(
    batch: Annotated[
        int | None,
        typer.Option(
            help="items fetched and decided in one transaction (default: VIGIL_STREAM_BATCH)", min=1, max=1000
        ),
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(
            help="batches in flight at once in this process (each its own transaction)", min=1, max=64
        ),
    ] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="serve this worker's Prometheus metrics at /metrics on this port", min=1, max=65535
        ),
    ] = None,
) -> None:
    """Decide the items published on NATS JetStream (VIGIL_NATS_URL) until SIGTERM or Ctrl-C."""
    settings = Settings()
    if not settings.nats_url:
        _fail(
            "no NATS server configured: set VIGIL_NATS_URL (e.g. nats://127.0.0.1:4222) to run a worker"
            " (docs/stream.md)"
        )
    try:
        from nats.errors import Error as NatsError

        from vigil.stream.topology import TopologyError, check_subjects
        from vigil.stream.worker import Worker, run_worker
    except ImportError as exc:  # nats-py missing: the stream extra is not installed
        _fail(f"vigil worker needs the stream extra: pip install 'vigil[stream]' ({exc})")
    try:
        check_subjects(settings)
    except TopologyError as exc:
        _fail(str(exc))
    store = _store()
    try:
        vault = evidence_vault(settings, store, utcnow)
        pipeline = pipeline_from_settings(settings, store, vault)
    except (EvidenceKeyError, QueueConfigError, StrikeRulesError) as exc:
        _fail(str(exc))
    if not vault.enabled:
        sys.stderr.write(
            f"vigil: warning: evidence preservation is off; set {KEYS_SETTING} to keep evidence\n"
        )
    configure_logging(settings.log_format, settings.log_level)
    if metrics_port is not None:
        # a worker has no HTTP API: Prometheus scrapes its own small server instead
        start_metrics_server(metrics_port, settings.host)
    runner = Worker(settings, store, pipeline, vault, batch=batch, concurrency=concurrency)

    def ready() -> None:
        # the line a supervisor (or a test) waits for: from here on, SIGTERM stops the worker cleanly
        sys.stderr.write(
            f"vigil worker: deciding {settings.stream_items_subject} from {settings.nats_url}"
            f" (stream {settings.stream_name}, consumer {settings.stream_consumer}, batch {runner.batch})\n"
        )
        sys.stderr.flush()

    # the audit events this worker's decisions append are chained by whichever process seals first
    chain_sealer = sealer(store, settings.audit_seal_seconds)
    if chain_sealer is not None:
        chain_sealer.start()
    try:
        stats = asyncio.run(run_worker(runner, (signal.SIGTERM, signal.SIGINT), ready))
    except (OSError, NatsError) as exc:  # no NATS server at the URL, or it refused the stream
        _fail(f"cannot reach NATS at {settings.nats_url}: {exc}")
    finally:
        if chain_sealer is not None:
            chain_sealer.stop()
        store.dispose()
    sys.stderr.write(
        f"vigil worker: stopped; {stats.decided} decided, {stats.duplicates} duplicates,"
        f" {stats.dead_lettered} dead-lettered\n"
    )
