"""Readiness: whether this process can do its work now, for a load balancer or an orchestrator.

Liveness (``/healthz``) says the process runs; readiness (``/readyz``) says that what it needs
answers: the database, and NATS where one is configured. Each check is bounded by a short timeout
and reports a short reason, never a URL, a password or a server's error text.

The database is asked through a connection of its own, not one of the process's pool: a process
whose pool is busy answering requests is still ready, and must not be taken out of the load
balancer for being busy. On SQLite the file is opened read-only, so a check never creates a
database, and never waits for the writer's lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

CHECK_TIMEOUT_SECONDS = 2.0
NATS_DEFAULT_PORT = 4222


@dataclass(frozen=True, slots=True)
class Readiness:
    """The checks by name, each ``"ok"`` or the reason it failed; ready when all are ``"ok"``."""

    checks: Mapping[str, str]

    @property
    def ready(self) -> bool:
        return all(result == "ok" for result in self.checks.values())

    def body(self) -> dict[str, object]:
        return {"status": "ready" if self.ready else "not_ready", "checks": dict(self.checks)}


def ping_database(url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """``SELECT 1`` on a fresh connection to ``url`` (a SQLAlchemy URL with its driver); raises
    when the database does not answer."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            return  # a database inside this process answers as long as the process does
        # mode=ro: a missing file is an error, not a new empty database
        file = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=timeout)
        try:
            file.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the file
        finally:
            file.close()
        return
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = max(1, round(timeout))
    engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1").scalar_one()
    finally:
        engine.dispose()


async def nats_answers(urls: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """Connect over TCP to the NATS servers of ``urls`` (comma-separated, as ``VIGIL_NATS_URL``)
    and read the ``INFO`` line a NATS server sends first; returns when one of them does, raises
    ``ConnectionError`` when none does. (A client connects to any server of the list.)"""
    failures: list[str] = []
    for url in (part.strip() for part in urls.split(",")):
        if not url:
            continue
        parts = urlsplit(url if "://" in url else f"nats://{url}")
        host, port = parts.hostname or "127.0.0.1", parts.port or NATS_DEFAULT_PORT
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            try:
                line = await asyncio.wait_for(reader.readline(), timeout)
            finally:
                writer.close()
        except (OSError, TimeoutError) as exc:
            failures.append(f"{host}:{port} {_reason(exc)}")
            continue
        if line.startswith(b"INFO "):
            return
        failures.append(f"{host}:{port} is not a NATS server")
    raise ConnectionError("; ".join(failures) or "no NATS server configured")


async def check_readiness(database_url: str, nats_url: str | None, draining: bool = False) -> Readiness:
    """Run the checks side by side, each within ``CHECK_TIMEOUT_SECONDS``. ``draining``: the process
    has begun to shut down, and is not ready whatever the checks say."""
    checks: dict[str, Awaitable[None]] = {
        "database": asyncio.to_thread(ping_database, database_url, CHECK_TIMEOUT_SECONDS)
    }
    if nats_url:
        checks["nats"] = nats_answers(nats_url, CHECK_TIMEOUT_SECONDS)
    results = await asyncio.gather(
        *(asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS + 0.5) for check in checks.values()),
        return_exceptions=True,
    )
    outcome = {
        name: "ok" if not isinstance(result, BaseException) else _reason(result)
        for name, result in zip(checks, results, strict=True)
    }
    if draining:
        outcome["shutdown"] = "shutting down"
    return Readiness(outcome)


def _reason(exc: BaseException) -> str:
    """A short reason: the kind of failure, never the error's text (it may name hosts or users)."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionError) and exc.args and isinstance(exc.args[0], str) and ":" in exc.args[0]:
        return f"unreachable ({exc.args[0]})"  # our own message: host:port, no credentials
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"unreachable ({type(exc).__name__})"
