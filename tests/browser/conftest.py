"""A live Vigil for the browser tests: the app served by uvicorn on a free port over a fresh SQLite
store with the default policy pack, webhook delivery on, a platform's webhook receiver, and Debian's
chromium driven by Playwright.

The browser is the system's ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs
it on a bare machine), never a browser downloaded by Playwright. If it is missing the tests fail
with the reason: they never skip.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.console_forms import csrf_token, sign_in_with_key
from tests.review_fixtures import ABUSE, HELD_CSAM, SCAM
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store.db import Store

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}  # the console is built to be usable at this size


# the platform holds fraud removals until a reviewer confirms them (the default pack acts first and
# asks after), so the platform hears of a removal only when a person decided it
HELD_FRAUD = (DEFAULT_PACK / "fraud.yaml").read_text().replace("review: after", "review: before")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's chromium through Playwright")


@dataclass
class Webhook:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """The platform's webhook endpoint: records every delivery it is sent and answers 204."""

    url: str
    received: list[Webhook] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, wanted: Callable[[Webhook], bool], timeout: float = 10.0) -> Webhook:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                found = next((w for w in self.received if wanted(w)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such webhook within {timeout} s; received {self.received}")
                self.arrived.wait(left)


def _receiver_handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length", "0")), 1_000_000)
            body = self.rfile.read(length)
            with receiver.arrived:
                receiver.received.append(Webhook(dict(self.headers.items()), body))
                receiver.arrived.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@dataclass
class Live:
    """A running Vigil: its base URL, its store, an admin key and the platform's webhook receiver."""

    url: str
    store: Store
    admin_key: str
    receiver: Receiver
    webhook_secret: str
    http: httpx.Client

    def key(self, role: Role) -> str:
        _, token = Admin(self.store).create_key(role, f"test {role.value}", None, "test")
        return token

    def api(self, method: str, path: str, key: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"})

    def submit(
        self, content_id: str, text: str, media: bytes, reach: int = 0, author: str = "user-7"
    ) -> dict[str, Any]:
        item = {
            "id": content_id,
            "author_id": author,
            "text": text,
            "reach": reach,
            "media": [{"id": "m1", "data_base64": base64.b64encode(media).decode()}],
        }
        response = self.api("POST", "/v1/content", self.admin_key, item)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def case_of(self, content_id: str, queue: str) -> str:
        """The open case on ``content_id`` in ``queue`` (read with the admin's view of the API)."""
        senior = self.key(Role.SENIOR_REVIEWER)
        for case in self.api("GET", f"/v1/cases?queue={queue}&limit=500", senior).json():
            if case["subject"]["id"] == content_id:
                case_id: str = case["id"]
                return case_id
        raise AssertionError(f"no open case on {content_id} in {queue}")


def _bank(live: Live, name: str, category: str, data: bytes) -> None:
    created = live.api("POST", "/v1/banks", live.admin_key, {"name": name, "category": category})
    assert created.status_code == 201, created.text
    digest = hashlib.md5(data).hexdigest()
    added = live.api(
        "POST", f"/v1/banks/{name}/hashes", live.admin_key, {"hashes": [{"type": "md5", "value": digest}]}
    )
    assert added.json()["added"] == 1


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('console') / 'vigil.db'}",
        webhook_deliver=True,
        webhook_poll_seconds=0.05,
        retro_matching=False,
        qa_sample_rate=0.0,
        text_second_stage=False,  # the lexicon stage gives the evidence spans the console shows
    )
    store = Store(settings.database_url)
    store.migrate()
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    _, admin_key = admin.create_key(Role.ADMIN, "test admin", None, "test")

    receiver = Receiver("")
    hook_server = ThreadingHTTPServer(("127.0.0.1", 0), _receiver_handler(receiver))
    receiver.url = f"http://127.0.0.1:{hook_server.server_address[1]}/vigil"
    threading.Thread(target=hook_server.serve_forever, daemon=True).start()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the Vigil server did not start", pytrace=False)
        time.sleep(0.02)

    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=10) as http:
        live = Live(url, store, admin_key, receiver, "", http)
        hook = live.api("POST", "/v1/webhooks", admin_key, {"url": receiver.url})
        assert hook.status_code == 201, hook.text
        live.webhook_secret = hook.json()["secret"]
        for source in (HELD_FRAUD, HELD_CSAM):
            assert live.api("POST", "/v1/policies", admin_key, {"source": source}).status_code == 201
        _bank(live, "phish-kits", "fraud", SCAM)
        _bank(live, "internal-csam", "csam", ABUSE)
        try:
            yield live
        finally:
            server.should_exit = True
            thread.join(10)
            hook_server.shutdown()
            listener.close()
            store.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing, so the console's browser tests cannot run. Install Debian's"
            " chromium (`apt-get install chromium`; `.ci/run` does it on a bare machine).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def sign_in(browser: Browser, live: Live, key: str) -> Page:
    """A fresh browser profile signed in to the console with ``key``, on the queues page."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{live.url}/console/login")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/console/queues")
    return page


def press(page: Page, key: str) -> None:
    """Press a console shortcut once the page's shortcuts are live."""
    page.locator("html[data-shortcuts=on]").wait_for(state="attached")
    page.keyboard.press(key)


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page among the test artifacts (``tests/browser/artifacts/``)."""
    ARTIFACTS.mkdir(exist_ok=True)
    # the whole page in one viewport, so the sticky key bar sits at its foot and not across it
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, VIEWPORT["height"])})
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size(VIEWPORT)


@dataclass
class ConsoleClient:
    """The console driven over plain HTTP, as a browser without JavaScript would."""

    http: httpx.Client

    def csrf(self, path: str) -> str:
        page = self.http.get(path)
        assert page.status_code == 200, page.text
        return csrf_token(page.text)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.http.post(path, data=data)


@pytest.fixture
def console(live: Live) -> Iterator[Callable[[str], ConsoleClient]]:
    """Sign in over HTTP: ``console(key)`` is a client holding that key's session cookie."""
    clients: list[httpx.Client] = []

    def sign_in_over_http(key: str) -> ConsoleClient:
        http = httpx.Client(base_url=live.url, timeout=10)
        clients.append(http)
        sign_in_with_key(http, key)
        return ConsoleClient(http)

    yield sign_in_over_http
    for http in clients:
        http.close()
