"""Organisation sign-in in the browser: a reviewer signs in through a real OpenID Connect provider the
test starts (on ``localhost``, another site than Vigil on ``127.0.0.1``, as in production) and lands
in their queues with their role; an ID token tampered with on its way is refused and nobody is
signed in."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.browser.conftest import VIEWPORT, screenshot
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, QUIET_PROVIDER, Provider, running_provider
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.store.db import Store

pytestmark = [pytest.mark.browser, QUIET_PROVIDER]

ROLES = """\
roles:
  - group: ts-leads
    role: senior_reviewer
  - group: trust-safety
    role: reviewer
"""


@dataclass
class OrgLive:
    """Vigil served with organisation sign-in, and its provider."""

    url: str
    provider: Provider


@pytest.fixture(scope="module")
def org_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrgLive]:
    folder: Path = tmp_path_factory.mktemp("org-sign-in")
    (folder / "roles.yaml").write_text(ROLES)
    with running_provider() as provider:
        provider.add_user("rita", ["trust-safety"], name="Rita Reviewer", email="rita@example.org")
        settings = Settings(
            database_url=f"sqlite:///{folder / 'vigil.db'}",
            webhook_deliver=False,
            retro_matching=False,
            order_watch=False,
            text_classifier=False,
            oidc_issuer=provider.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_roles_file=str(folder / "roles.yaml"),
            oidc_provider_name="Example Org",
        )
        store = Store(settings.database_url)
        store.migrate()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, store), log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the Vigil server did not start", pytrace=False)
            time.sleep(0.02)
        try:
            yield OrgLive(f"http://127.0.0.1:{port}", provider)
        finally:
            server.should_exit = True
            thread.join(10)
            listener.close()
            store.dispose()


def _offline(context: BrowserContext) -> None:
    # the provider's page links a stylesheet from a CDN; the tests run without the internet
    def refuse(route: Route) -> None:
        route.abort()

    context.route("https://**/*", refuse)


def _sign_in_at_provider(browser: Browser, org_live: OrgLive, sub: str) -> Page:
    """From Vigil's sign-in page to the provider's, signed in there as ``sub``."""
    context = browser.new_context(viewport=VIEWPORT)
    _offline(context)
    page = context.new_page()
    page.goto(f"{org_live.url}/console/login")
    expect(page.locator("#oidc")).to_have_text("Sign in with Example Org")
    page.click("#oidc")
    page.wait_for_url(f"{org_live.provider.issuer}/oauth2/authorize?**")
    page.fill("input[name=sub]", sub)
    page.click("button[type=submit]:has-text('Authorize')")
    return page


def test_a_reviewer_signs_in_through_the_organisation_and_lands_in_their_queues(
    org_live: OrgLive, browser: Browser
) -> None:
    page = _sign_in_at_provider(browser, org_live, "rita")

    page.wait_for_url(f"{org_live.url}/console/queues")

    expect(page.locator("nav.who .role")).to_have_text("reviewer")
    expect(page.locator("#person")).to_have_text("Rita Reviewer")
    expect(page.locator("#queues")).to_contain_text("general")
    assert "Sign out" in page.locator("nav.who").inner_text()
    cookies = {c["name"]: c for c in page.context.cookies(f"{org_live.url}/console/login/oidc/callback")}
    assert cookies["vigil_session"]["httpOnly"] is True
    assert cookies["vigil_session"]["sameSite"] == "Strict"
    assert "vigil_oidc" not in cookies  # the flow is over
    screenshot(page, "org-sign-in.png")
    page.context.close()


def test_an_id_token_tampered_with_on_its_way_is_refused_in_the_browser(
    org_live: OrgLive, browser: Browser
) -> None:
    org_live.provider.tamper_next_id_token()
    page = _sign_in_at_provider(browser, org_live, "rita")

    page.wait_for_url(f"{org_live.url}/console/login/oidc/callback?**")

    expect(page.locator("h1")).to_contain_text("Not signed in")
    expect(page.locator("#error")).to_contain_text(
        "signature does not verify against the sign-in provider's keys"
    )
    assert "vigil_session" not in {
        c["name"] for c in page.context.cookies(f"{org_live.url}/console/login/oidc/callback")
    }
    page.click("#back")
    page.wait_for_url(f"{org_live.url}/console/login")
    page.goto(f"{org_live.url}/console/queues")
    page.wait_for_url(f"{org_live.url}/console/login")
    page.context.close()
