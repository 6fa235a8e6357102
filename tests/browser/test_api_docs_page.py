"""/docs in a real browser: Swagger UI renders every area of the API from Vigil's own files, with no
network beyond Vigil, and nothing on it is refused by its Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Request, expect

from tests.browser.conftest import Live
from tests.browser.test_contact_page import RECORD_VIOLATIONS

pytestmark = pytest.mark.browser


def test_the_api_docs_render_offline_from_vigils_own_files(live: Live, browser: Browser) -> None:
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    elsewhere: list[str] = []

    def watch(request: Request) -> None:
        if not request.url.startswith(live.url) and not request.url.startswith("data:"):
            elsewhere.append(request.url)

    page.on("request", watch)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    response = page.goto(f"{live.url}/docs")

    assert response is not None
    assert response.status == 200
    expect(page.locator(".swagger-ui .title")).to_contain_text("Vigil")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    tags = page.locator(".opblock-tag").all_text_contents()
    assert any("orders" in tag for tag in tags)
    assert any("notices" in tag for tag in tags)
    assert elsewhere == []
    assert page.evaluate("window.__violations") == []
    assert errors == []
    context.close()
