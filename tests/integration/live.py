"""`vigil serve` as a subprocess and a platform's webhook receiver, for the end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx

from vigil.domain.decisions import RESTRICTING_OUTCOMES
from vigil.stream.local import free_port
from vigil.transparency.dsa_schema import validate_statement

VIGIL = [sys.executable, "-m", "vigil"]
T = TypeVar("T")


class Receiver:
    """A platform's webhook endpoint: a real HTTP server that records what it is sent."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/vigil-hook"

    def start(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k: v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class Vigil:
    """`vigil serve` as a subprocess on its own port and database."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [*VIGIL, "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 90  # a loaded CI machine; it returns as soon as the server answers
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"vigil serve exited: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("vigil serve did not come up within 30 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end on an event loop of its own, in a thread of its own: a test may run
    where an event loop is already set in the main thread (Playwright's sync API leaves one behind),
    and asyncio.run refuses to start a second there."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def start_all(servers: list[Vigil]) -> None:
    """Start several `vigil serve` processes at once: each spends its start-up loading models, so
    starting them side by side costs about one start, not one per process."""
    with ThreadPoolExecutor(len(servers)) as starting:
        list(starting.map(lambda server: server.start(), servers))


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {seconds} s")


@dataclass
class Platform:
    """A started Vigil with an admin key, and the platform's webhook receiver registered with it."""

    client: httpx.Client
    admin: dict[str, str]
    receiver: Receiver
    webhook_secret: str


def start_platform(workdir: Path, env: dict[str, str], vigil: Vigil) -> Platform:
    """`vigil init`, a webhook receiver, `vigil serve`, and the receiver registered as an endpoint."""
    init = subprocess.run([*VIGIL, "init", "--json"], cwd=workdir, env=env, capture_output=True, check=True)
    admin = {"Authorization": f"Bearer {json.loads(init.stdout)['admin_key']}"}
    receiver = Receiver(free_port())
    receiver.start()
    vigil.start()
    client = httpx.Client(base_url=vigil.base, timeout=10)
    hook = client.post("/v1/webhooks", json={"url": receiver.url}, headers=admin).json()
    return Platform(client, admin, receiver, hook["secret"])


def assert_every_restriction_has_one_valid_statement(platform: Platform) -> int:
    """Every decision that put a restriction in force, as the audit chain lists them, is explained by
    one statement of reasons that the DSA database's rules accept; returns how many there were."""
    events = platform.client.get("/v1/audit/events", params={"limit": 1000}, headers=platform.admin).json()
    restricting = [
        e["payload"]["decision_id"]
        for e in events
        if e["action"] == "decision.created" and e["payload"]["outcome"] in RESTRICTING_OUTCOMES
    ]
    statements: set[str] = set()
    for decision_id in restricting:
        answer = platform.client.get(f"/v1/sor/{decision_id}", headers=platform.admin)
        assert answer.status_code == 200, (decision_id, answer.text)
        body = answer.json()
        assert validate_statement(body["statement"]) == {}, decision_id
        statements.add(body["statement_id"])
    assert len(statements) <= len(restricting)
    return len(restricting)
