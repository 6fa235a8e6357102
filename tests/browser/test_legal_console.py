"""The legal console in a real browser: a senior lawyer finds a terrorist-content removal order by its
time left, reads why the safeguards held it, and executes it within the hour."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Live, press, screenshot, sign_in
from tests.order_fixtures import SigningAuthority, removal_order
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin

pytestmark = pytest.mark.browser

PROTEST = "Our journalist reports live from the protest at the square tonight."


def test_a_senior_lawyer_executes_a_held_removal_order_before_its_hour_is_up(
    live: Live, browser: Browser
) -> None:
    authority = SigningAuthority("fr-pharos", "FR", ["tco_removal"], "PHAROS")
    registered = live.api("POST", "/v1/authorities", live.admin_key, authority.registration())
    assert registered.status_code == 201, registered.text
    item = {"id": "order-journey-1", "author_id": "user-order", "channel_id": "chan-news", "text": PROTEST}
    assert live.api("POST", "/v1/content", live.admin_key, item).status_code == 200
    _, key = Admin(live.store).create_key(Role.AUTHORITY, "PHAROS", authority.id, "test")
    body, headers = authority.signed(removal_order(authority, "TCO-BROWSER-1", "order-journey-1"), key)
    sent = live.http.post("/v1/orders", content=body, headers=headers)
    assert sent.status_code == 201, sent.text
    order = sent.json()
    assert order["state"] == "in_legal_review"  # reporting on a protest: never removed without a lawyer
    errors: list[str] = []

    page = sign_in(browser, live, live.key(Role.SENIOR_LEGAL))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.click("#nav-orders")
    expect(page).to_have_url(f"{live.url}/console/orders")
    row = page.locator(f"#orders tr[data-order='{order['id']}']")
    expect(row).to_contain_text("Terrorist content removal (1 h)")
    expect(row).to_contain_text("PHAROS (FR)")
    expect(row.locator(".time-left")).to_have_text(re.compile(r"^(59 min|1 h 00 min) left$"))
    expect(row.locator(".badge.urgency")).to_have_text("on track")
    expect(row).to_contain_text("senior review")

    screenshot(page, "orders.png")

    # the countdown runs in the browser from the server's figure
    row.locator(".time-left").evaluate("element => element.setAttribute('data-seconds-left', '45')")
    expect(row.locator(".time-left")).to_have_text(re.compile(r"^4\d s left$"))

    row.locator("a").click()
    expect(page).to_have_url(f"{live.url}/console/orders/{order['id']}")
    expect(page.locator("#senior")).to_have_text("senior review")
    expect(page.locator("#findings")).to_contain_text("protected speech")
    expect(page.locator("#findings")).to_contain_text("reads as reporting, protest or political speech")
    expect(page.locator("#verification")).to_contain_text("valid")
    expect(page.locator("#clock")).to_contain_text("the law: Regulation (EU) 2021/784, Art. 3 (statutory)")
    expect(page.locator("#held")).to_have_count(0)  # a senior lawyer may act
    press(page, "r")  # the targets' content is blurred until revealed
    expect(page.locator("#preview")).to_have_class(re.compile(r"\brevealed\b"))
    expect(page.locator("#targets .content-text")).to_have_text(PROTEST)
    screenshot(page, "order.png")

    page.fill("#execute-note", "Propaganda posing as reporting; removal in the Union only.")
    page.click("#execute button[type=submit]")

    expect(page.locator("#flash")).to_have_text("Order executed.")
    expect(page.locator("#outcomes tr[data-status=executed]")).to_contain_text("geo_restrict")
    # the platform's confirmation may already have answered it
    expect(page.locator("#state")).to_have_text(re.compile(r"^(executed|answered)$"))
    assert errors == []
