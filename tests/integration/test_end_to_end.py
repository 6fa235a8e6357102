"""The whole flow as a user runs it: `vigil init`, `vigil serve`, a real webhook receiver, a restart."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from vigil.enforce.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, verify_signature

pytestmark = pytest.mark.e2e

VIGIL = [sys.executable, "-m", "vigil"]
PROPAGANDA = b"frame bytes of a known terrorist propaganda video"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {seconds} s")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VIGIL_DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}",
        "VIGIL_WEBHOOK_BACKOFF_BASE_SECONDS": "0.2",
        "VIGIL_WEBHOOK_BACKOFF_CAP_SECONDS": "0.5",
        "VIGIL_WEBHOOK_MAX_ATTEMPTS": "1000",
        "VIGIL_WEBHOOK_POLL_SECONDS": "0.1",
        "VIGIL_QA_SAMPLE_RATE": "0",  # no random QA cases: the test counts what happens
    }


@pytest.fixture
def vigil(tmp_path: Path, env: dict[str, str]) -> Iterator[Vigil]:
    server = Vigil(tmp_path, env)
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=10)


def test_known_media_is_removed_enforced_once_and_delivered_after_a_crash(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    init = subprocess.run([*VIGIL, "init", "--json"], cwd=tmp_path, env=env, capture_output=True, check=True)
    admin = {"Authorization": f"Bearer {json.loads(init.stdout)['admin_key']}"}
    receiver = Receiver(free_port())
    receiver.start()
    vigil.start()
    client = httpx.Client(base_url=vigil.base, timeout=10)

    hook = client.post("/v1/webhooks", json={"url": receiver.url}, headers=admin).json()
    assert (
        client.post("/v1/banks", json={"name": "gifct", "category": "terrorism"}, headers=admin).status_code
        == 201
    )
    md5 = hashlib.md5(PROPAGANDA).hexdigest()
    client.post("/v1/banks/gifct/hashes", json={"hashes": [{"type": "md5", "value": md5}]}, headers=admin)
    post = {
        "id": "channel-42/post-1",
        "author_id": "user-7",
        "channel_id": "channel-42",
        "media": [
            {"id": "v1", "mime_type": "video/mp4", "data_base64": base64.b64encode(PROPAGANDA).decode()}
        ],
    }

    decided = client.post("/v1/content", json=post, headers=admin).json()

    assert decided["decision"]["outcome"] == "remove"
    assert decided["decision"]["category"] == "terrorism"
    wait_for(lambda: len(receiver.received) == 1)
    headers, body = receiver.received[0]
    verify_signature(hook["secret"], headers[SIGNATURE_HEADER], body, now=int(time.time()))
    event = json.loads(body)
    assert event["decision_id"] == decided["decision_id"]
    assert event["subject"] == {"type": "content", "id": "channel-42/post-1"}
    assert event["actions"] == ["remove"]
    assert event["category"] == "terrorism"
    assert headers[EVENT_ID_HEADER] == event["id"]

    again = client.post("/v1/content", json=post, headers=admin).json()
    assert again["duplicate"] is True
    assert again["decision_id"] == decided["decision_id"]
    time.sleep(1.0)  # several delivery-loop polls: a second webhook would have arrived by now
    assert len(receiver.received) == 1

    # The platform's endpoint goes down; Vigil decides, fails to deliver, and is killed.
    receiver.stop()
    second = client.post("/v1/content", json={**post, "id": "channel-42/post-2"}, headers=admin).json()
    assert second["decision"]["outcome"] == "remove"
    wait_for(
        lambda: any(
            d["attempts"] >= 1 and d["state"] == "pending"
            for d in client.get("/v1/content/channel-42/post-2", headers=admin).json()["deliveries"]
        )
    )
    vigil.kill()

    receiver.start()  # the endpoint comes back on the same address
    vigil.start()  # and so does Vigil, with nothing but its database to go on

    wait_for(lambda: len(receiver.received) == 2)
    headers, body = receiver.received[1]
    verify_signature(hook["secret"], headers[SIGNATURE_HEADER], body, now=int(time.time()))
    assert json.loads(body)["decision_id"] == second["decision_id"]
    deliveries = client.get("/v1/content/channel-42/post-2", headers=admin).json()["deliveries"]
    assert [d["state"] for d in deliveries] == ["delivered"]
    receiver.stop()
