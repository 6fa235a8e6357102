"""The public contact page in a real browser: found without a key, readable on a phone, and nothing on
it runs or is refused by its Content-Security-Policy, the inline JSON-LD included."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser.conftest import ARTIFACTS, Live

pytestmark = pytest.mark.browser

# records what the Content-Security-Policy refuses; added by the browser, not the page, so the
# page's own policy ('script-src none') does not stop it
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _open(browser: Browser, live: Live, width: int, height: int) -> tuple[Page, list[str]]:
    """/contact in a fresh browser profile of the given size; the list collects console errors."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            errors.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(f"{live.url}/contact")
    assert response is not None
    assert response.status == 200
    page.wait_for_load_state("load")
    return page, errors


def test_a_prosecutor_finds_the_authorities_contact_without_signing_in(live: Live, browser: Browser) -> None:
    page, errors = _open(browser, live, 1280, 800)

    expect(page).to_have_title("Contact for authorities and users — Example Social")
    authorities = page.locator("#authorities")
    expect(authorities).to_be_visible()
    expect(authorities.locator("h2")).to_have_text("Authorities: single point of contact (DSA Art. 11)")
    expect(page.locator("#orders-endpoint")).to_have_text("POST https://vigil.example.com/v1/orders")
    expect(page.locator("#accepted-languages li")).to_have_count(3)
    # the inline stylesheet applied: allowed by its hash
    assert page.evaluate("getComputedStyle(document.querySelector('dt')).fontWeight") == "600"
    # the JSON-LD is there for crawlers, and was not executed or refused
    ld = json.loads(page.locator("script[type='application/ld+json']").text_content() or "")
    assert ld["@type"] == "Organization"
    assert ld["contactPoint"][0]["email"] == "authorities@example.com"
    assert page.evaluate("window.__violations") == []
    assert errors == []
    page.context.close()


def test_the_contact_page_reads_on_a_phone(live: Live, browser: Browser) -> None:
    page, errors = _open(browser, live, 390, 844)

    expect(page.locator("#authorities")).to_be_in_viewport()
    # nothing wider than the screen: no sideways scrolling to read an address or an endpoint
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("window.__violations") == []
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "contact-phone.png"), full_page=True)
    page.context.close()
