"""``vigil worker``: fetch items from JetStream, decide them through the pipeline, publish, ack.

One turn of a loop: fetch a batch from the durable pull consumer; read each message
(``items.read_item``): a message that can never be decided is dead-lettered at once and terminated,
so a poison item never blocks the stream; decide every valid item of the batch in one
``Pipeline.submit`` (one transaction), in a thread, as the pipeline is synchronous; preserve inline
media; publish each decision on the results subject; and only then ack. An ack therefore always
follows a committed decision. A worker killed anywhere before its acks leaves the items unacked, the
server redelivers them after the ack wait, and the pipeline, idempotent by content id, answers the
ones already decided as duplicates, with nothing enforced again: each item is decided once, however
often it is delivered.

When the batch's transaction fails, the worker asks the database whether it answers. If it does not
(PostgreSQL down, the network cut), the batch is naked with a delay and the worker waits before the
next fetch: nothing is dead-lettered for an outage. If it does, the failure is the items': they are
decided one by one, so that one poison item does not take its neighbours with it, and an item that
fails on its own is naked with a delay, then dead-lettered on its last allowed delivery
(``stream_max_deliveries``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from vigil.api.routes.content import outcome_out, preserve_inline
from vigil.config import Settings
from vigil.domain.decisions import DecisionContext
from vigil.enforce.evidence import EvidenceVault
from vigil.observe.metrics import set_consumer_lag
from vigil.pipeline.service import Outcome, Pipeline
from vigil.store.db import Store
from vigil.stream.items import Item, Refused, one_line, read_item
from vigil.stream.topology import Topology, ensure_topology, results_subject

log = logging.getLogger(__name__)

WORKER_ACTOR = "worker"  # who decided, in the audit log (the HTTP API writes the key's actor)
FETCH_WAIT_SECONDS = 1.0  # how long a fetch waits for items; also how soon a stop is noticed when idle
NAK_DELAY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)  # redelivery delay by delivery count, then the last
OUTAGE_PAUSE_SECONDS = (0.5, 1.0, 2.0, 5.0)  # waits before fetching again while the database is down
DEAD_PUBLISH_TIMEOUT = 5.0


def nak_delay(deliveries: int) -> float:
    """How long a failed item waits before it is delivered again: longer each time."""
    return NAK_DELAY_SECONDS[min(max(deliveries, 1), len(NAK_DELAY_SECONDS)) - 1]


@dataclass
class WorkerStats:
    """What a worker did, for its log and the tests."""

    decided: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    naked: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class _Valid:
    msg: Msg
    item: Item


class Worker:
    """Decides the items of one JetStream consumer; ``run`` until ``stop`` is set.

    ``concurrency`` loops run side by side, each with its own pull subscription on the shared
    consumer and its own batch in flight; their decisions run in a thread pool of that size (the
    pipeline is thread-safe: ``vigil serve`` calls it from many request threads).
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        pipeline: Pipeline,
        vault: EvidenceVault,
        *,
        batch: int | None = None,
        concurrency: int = 1,
    ) -> None:
        if not settings.nats_url:
            raise ValueError("no NATS server configured: set VIGIL_NATS_URL")
        self.settings = settings
        self.store = store
        self.pipeline = pipeline
        self.vault = vault
        self.batch = batch or settings.stream_batch
        self.concurrency = max(1, concurrency)
        self.stats = WorkerStats()
        self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="vigil-worker")
        self._outage = 0  # consecutive batches that found the database down
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._topology: Topology | None = None
        self._stopping = False

    # ---- connection -----------------------------------------------------------------------------

    async def _connect(self) -> tuple[Client, JetStreamContext]:
        async def _disconnected() -> None:
            if not self._stopping:
                log.warning("vigil worker: disconnected from NATS; reconnecting")

        async def _reconnected() -> None:
            log.warning("vigil worker: reconnected to NATS")

        async def _error(exc: Exception) -> None:
            log.info("vigil worker: NATS: %s", exc)

        servers = [s.strip() for s in str(self.settings.nats_url).split(",") if s.strip()]
        nc = await nats.connect(
            servers=servers,
            name="vigil-worker",
            # a restarted server is waited for as long as it takes: items wait on its disk meanwhile
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            disconnected_cb=_disconnected,
            reconnected_cb=_reconnected,
            error_cb=_error,
        )
        return nc, nc.jetstream()

    async def run(self, stop: asyncio.Event, ready: Callable[[], None] | None = None) -> WorkerStats:
        """Set up the stream, then decide items until ``stop`` is set; the batch in flight is
        finished and acked, and the connection drained, before this returns. ``ready`` is called once
        the worker is bound to its consumer."""
        nc, js = await self._connect()
        self._nc, self._js = nc, js
        try:
            self._topology = await ensure_topology(js, self.settings)
            subscriptions = [
                await js.pull_subscribe_bind(self._topology.consumer, self._topology.stream)
                for _ in range(self.concurrency)
            ]
            if ready is not None:
                ready()
            await asyncio.gather(*(self._loop(sub, stop) for sub in subscriptions))
            self._stopping = True
            for sub in subscriptions:
                # no fetch is waiting any more; without its subscriptions the drain is immediate
                with contextlib.suppress(NatsError):
                    await sub.unsubscribe()
        finally:
            self._stopping = True
            self._executor.shutdown(wait=True)
            if nc.is_connected:
                await nc.drain()  # sends the last acks and results, then closes
            else:
                await nc.close()
        return self.stats

    async def _loop(self, sub: JetStreamContext.PullSubscription, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                msgs = await sub.fetch(self.batch, timeout=FETCH_WAIT_SECONDS)
            except TimeoutError:  # no items within the wait (nats-py's timeout is a TimeoutError)
                continue
            except NatsError:  # the server away: nats-py reconnects by itself meanwhile
                await asyncio.sleep(0.2)
                continue
            self.stats.batches += 1
            # what is still waiting for the consumer, as of the last item fetched: the lag, for free
            set_consumer_lag(msgs[-1].metadata.num_pending)
            pause = await self.handle(msgs)
            if pause:
                # the database is down: fetching more would only nak more
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)

    # ---- one batch ------------------------------------------------------------------------------

    async def handle(self, msgs: Sequence[Msg]) -> float:
        """Read, decide, publish and ack one batch; returns how long to pause before the next fetch
        (0, or a wait while the database is down)."""
        valid: list[_Valid] = []
        for msg in msgs:
            read = read_item(msg.data, self.settings)
            if isinstance(read, Refused):
                await self._dead_letter(msg, read.reason)
            else:
                valid.append(_Valid(msg, read))
        if not valid:
            return 0.0
        heartbeat = asyncio.create_task(self._heartbeat([v.msg for v in valid]))
        try:
            return await self._decide_batch(valid)
        finally:
            heartbeat.cancel()
            await self._flush()

    async def _decide_batch(self, valid: list[_Valid]) -> float:
        try:
            outcomes = await self._decide(valid)
        except Exception as exc:
            if not await self._database_answers():
                return await self._outage_nak(valid, exc)
            if len(valid) == 1:
                await self._item_failed(valid[0], exc)
                return 0.0
            log.warning(
                "vigil worker: a batch of %d failed (%s); deciding its items one by one", len(valid), exc
            )
            return await self._one_by_one(valid)
        self._outage = 0
        await self._publish_and_ack(valid, outcomes)
        return 0.0

    async def _one_by_one(self, valid: list[_Valid]) -> float:
        for i, one in enumerate(valid):
            try:
                outcomes = await self._decide([one])
            except Exception as exc:
                if not await self._database_answers():
                    return await self._outage_nak(valid[i:], exc)
                await self._item_failed(one, exc)
                continue
            await self._publish_and_ack([one], outcomes)
        self._outage = 0
        return 0.0

    async def _decide(self, valid: list[_Valid]) -> list[Outcome]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._decide_sync, valid)

    def _decide_sync(self, valid: list[_Valid]) -> list[Outcome]:
        outcomes = self.pipeline.submit(
            [v.item.content for v in valid], DecisionContext(), WORKER_ACTOR, path="stream"
        )
        try:
            preserve_inline(self.vault, [v.item.sent for v in valid], outcomes, WORKER_ACTOR)
        except Exception:
            # the decision is committed and must be acked: preserving is its own transaction, and a
            # failed one loses the media as a crash between the two would (the platform may send it
            # again with POST /v1/evidence); its hashes are in the decision's metadata evidence
            log.exception("vigil worker: inline media not preserved for a batch of %d", len(valid))
        return outcomes

    async def _database_answers(self) -> bool:
        def probe() -> bool:
            try:
                with self.store.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:
                return False

        # not in the decisions' pool: with several loops, its threads may all be deciding
        return await asyncio.to_thread(probe)

    async def _publish_and_ack(self, valid: list[_Valid], outcomes: list[Outcome]) -> None:
        nc = self._client()
        for one, outcome in zip(valid, outcomes, strict=True):
            self.stats.duplicates += outcome.duplicate
            self.stats.decided += not outcome.duplicate
            body = outcome_out(outcome, one.item.warnings).model_dump_json().encode()
            try:
                await nc.publish(
                    results_subject(self.settings, one.msg.subject),
                    body,
                    headers={"Vigil-Content-Id": outcome.content_id},
                )
                await one.msg.ack()
            except NatsError as exc:
                # not acked: redelivered after the ack wait, and answered then as a duplicate
                log.warning("vigil worker: result of %s not published (%s)", outcome.content_id, exc)

    async def _outage_nak(self, valid: Sequence[_Valid], exc: Exception) -> float:
        self._outage += 1
        pause = OUTAGE_PAUSE_SECONDS[min(self._outage, len(OUTAGE_PAUSE_SECONDS)) - 1]
        log.warning(
            "vigil worker: the database does not answer (%s); %d items back to the stream",
            one_line(str(exc), 200),
            len(valid),
        )
        for one in valid:
            await self._nak(one.msg, max(pause, 1.0))
        return pause

    async def _item_failed(self, one: _Valid, exc: Exception) -> None:
        deliveries = one.msg.metadata.num_delivered or 1
        reason = one_line(f"{type(exc).__name__}: {exc}")
        if deliveries >= self.settings.stream_max_deliveries:
            await self._dead_letter(
                one.msg, f"could not be decided in {deliveries} deliveries; the last failure: {reason}"
            )
            return
        log.warning("vigil worker: item %s failed (delivery %d): %s", one.item.sent.id, deliveries, reason)
        await self._nak(one.msg, nak_delay(deliveries))

    async def _nak(self, msg: Msg, delay: float) -> None:
        try:
            await msg.nak(delay=delay)
            self.stats.naked += 1
        except NatsError as exc:  # the server away: the item comes back after the ack wait anyway
            log.info("vigil worker: nak not sent (%s)", exc)

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        """Publish the message whole to the dead-letter stream with the reason, then terminate it.

        The dead letter is published with JetStream's acknowledgement: only once the dead-letter
        stream holds it is the item terminated, so a failure leaves it to be delivered again. Its
        message id (the stream sequence) lets the server drop the copy a redelivery would publish.
        """
        meta = msg.metadata
        sequence = meta.sequence.stream if meta.sequence is not None else 0
        headers = {
            "Vigil-Reason": one_line(reason),
            "Vigil-Subject": msg.subject,
            "Vigil-Deliveries": str(meta.num_delivered or 1),
            "Vigil-Stream-Sequence": str(sequence),
            "Nats-Msg-Id": f"{meta.stream}:{sequence}",
        }
        try:
            await self._jetstream().publish(
                self.settings.stream_dead_subject, msg.data, headers=headers, timeout=DEAD_PUBLISH_TIMEOUT
            )
            await msg.term()
        except (TimeoutError, NatsError) as exc:
            log.warning("vigil worker: dead letter not published (%s); the item will come back", exc)
            return
        self.stats.dead_lettered += 1
        log.warning("vigil worker: dead-lettered %s #%d: %s", msg.subject, sequence, reason)

    async def _heartbeat(self, msgs: list[Msg]) -> None:
        # a long batch tells the server it is still being worked on, so that it is not redelivered to
        # another worker while this one decides it
        interval = max(self.settings.stream_ack_wait_seconds / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            for msg in msgs:
                with contextlib.suppress(NatsError):  # the server away: it keeps the item meanwhile
                    await msg.in_progress()

    async def _flush(self) -> None:
        # not flushed now: the client sends its buffer once reconnected
        with contextlib.suppress(TimeoutError, NatsError):
            await self._client().flush(timeout=5)

    def _client(self) -> Client:
        assert self._nc is not None, "run() connects first"
        return self._nc

    def _jetstream(self) -> JetStreamContext:
        assert self._js is not None, "run() connects first"
        return self._js


def install_stop(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, signals: Sequence[int]) -> None:
    """Set ``stop`` on each of ``signals`` (SIGTERM, SIGINT): the worker stops fetching, finishes
    and acks the batch in flight, drains the connection and returns."""
    for number in signals:
        loop.add_signal_handler(number, stop.set)


async def run_worker(
    worker: Worker, signals: Sequence[int], ready: Callable[[], None] | None = None
) -> WorkerStats:
    """Run ``worker`` until one of ``signals`` arrives."""
    stop = asyncio.Event()
    install_stop(asyncio.get_running_loop(), stop, signals)
    return await worker.run(stop, ready)
