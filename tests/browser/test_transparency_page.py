"""The public transparency page in a real browser: a month of figures with its charts, another day
picked with the date form (a plain GET: the page runs no script, and its policy refuses any), the
day's CSV downloaded and read, nothing refused by the Content-Security-Policy, and readable on a
phone. Its picture is kept among the test artifacts (copied by hand to ``docs/transparency-page.png``)."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.browser.conftest import ARTIFACTS, Live
from tests.browser.test_contact_page import RECORD_VIOLATIONS
from vigil.store import daily as counter_store
from vigil.store.daily import Increment

pytestmark = pytest.mark.browser

# among the test artifacts; docs/transparency-page.png is a copy of it, made by hand when the page changes
SCREENSHOT = ARTIFACTS / "transparency-page.png"
LAST = date(2025, 6, 30)
DAYS = [LAST - timedelta(days=n) for n in range(29, -1, -1)]
# a platform's month: (category, action, source, automation, typical count a day)
RESTRICTIVE = (
    ("spam", "remove", "voluntary", "fully", 140),
    ("fraud", "remove", "voluntary", "fully", 70),
    ("fraud", "remove", "notice", "not_automated", 9),
    ("adult_nudity", "age_restrict", "voluntary", "partially", 18),
    ("hate_speech", "demote", "reviewer", "not_automated", 12),
    ("hate_speech", "geo_restrict", "notice", "not_automated", 6),
    ("drugs", "remove", "trusted_flagger", "not_automated", 5),
    ("csam", "remove", "voluntary", "fully", 7),
    ("terrorism", "geo_restrict", "authority_order", "fully", 2),
)


def _seed(live: Live) -> Counter[date]:
    """A month of counters, as the platform's events would have added them; returns each day's
    restrictive decisions."""
    rng = random.Random(2025)
    restrictive: Counter[date] = Counter()
    with live.store.transaction() as session:
        for day in DAYS:
            rows: list[Increment] = []
            for category, action, source, automated, typical in RESTRICTIVE:
                value = max(1, round(typical * (0.6 + 0.8 * rng.random())))
                restrictive[day] += value
                rows.append(Increment("restrictive", category, action, source, "", automated, value))
            rows += [
                Increment("accounts_suspended", "csam", "", "voluntary", "", "fully", rng.randint(3, 7)),
                Increment(
                    "channels_banned", "terrorism", "", "authority_order", "", "fully", rng.randint(0, 2)
                ),
                Increment("restrictions_lifted", "fraud", automated="not_automated", value=rng.randint(1, 4)),
                Increment("notices_received", "hate_speech", source="notice", value=rng.randint(10, 20)),
                Increment("notices_received", "fraud", source="trusted_flagger", value=rng.randint(2, 6)),
                Increment("notices_decided:lt_3h", "hate_speech", "demote", "notice", "", "not_automated", 9),
                Increment(
                    "notices_decided:lt_24h", "fraud", "remove", "trusted_flagger", "", "not_automated", 4
                ),
                Increment(
                    "orders_received", "terrorism", "tco_removal", territory="FR", value=rng.randint(0, 2)
                ),
                Increment("orders_executed", "terrorism", "tco_removal", territory="FR", value=1),
                Increment("orders_answered:on_time", "terrorism", "tco_removal", territory="FR", value=1),
                Increment("appeals_filed", "fraud", automated="fully", value=rng.randint(2, 6)),
                Increment("appeals_decided:overturned", "fraud", automated="fully", value=1),
                Increment("appeals_decided:upheld", "fraud", automated="fully", value=rng.randint(1, 4)),
            ]
            counter_store.add(session, day.isoformat(), rows)
    return restrictive


def _open(browser: Browser, live: Live, path: str, width: int, height: int) -> tuple[Page, list[str]]:
    """``path`` in a fresh browser profile; the list collects console errors and warnings."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            errors.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(f"{live.url}{path}")
    assert response is not None
    assert response.status == 200
    return page, errors


def _figure(page: Page, anchor: str) -> str:
    return page.locator(f"#figure-{anchor} .value").inner_text()


def test_a_visitor_reads_a_month_picks_another_day_and_downloads_its_figures(
    live: Live, browser: Browser
) -> None:
    restrictive = _seed(live)
    page, errors = _open(browser, live, f"/transparency?date={LAST.isoformat()}", 1280, 800)

    expect(page).to_have_title(f"Transparency: moderation figures of {LAST.isoformat()} — Example Social")
    expect(page.locator("#figure-restrictive .value")).to_have_text(f"{restrictive[LAST]:,}")
    # the charts are SVG drawn on the server: five of them, each named and with its values in words
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(5)
    for i in range(5):
        expect(charts.nth(i)).to_be_visible()
    expect(page.locator("#by-category > title")).to_have_text(
        f"Items actioned by category, {LAST.isoformat()}"
    )
    assert "spam: " in (page.locator("#by-category > desc").text_content() or "")
    trend = page.locator("#trend")
    expect(trend.locator("g > title")).to_have_count(30)
    box = trend.bounding_box()
    assert box is not None
    assert box["width"] > 600
    # the inline stylesheets applied (allowed by their hashes); nothing was refused or run
    assert page.evaluate("getComputedStyle(document.querySelector('ul.figures')).display") == "grid"
    assert page.evaluate("window.__violations") == []
    assert page.evaluate("document.scripts.length") == 0

    # the page down to its trend, for the README (the definitions below it are text)
    end = page.locator("#trend-section").bounding_box()
    assert end is not None
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOT),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": end["y"] + end["height"]},
    )

    # another day, with the date picker: a plain GET form
    picked = date(2025, 6, 15)
    page.fill("#date", picked.isoformat())
    page.click("form.day button[type=submit]")
    page.wait_for_url(f"{live.url}/transparency?date={picked.isoformat()}")
    expect(page.locator("#key-figures-title")).to_have_text(f"Key figures, {picked.isoformat()}")
    expect(page.locator("#figure-restrictive .value")).to_have_text(f"{restrictive[picked]:,}")
    expect(page.locator("#trend > title")).to_have_text("Items actioned per day, 2025-05-17 to 2025-06-15")

    # the day's CSV, downloaded from its link
    link = page.locator("#csv-link")
    expect(link).to_have_attribute("href", f"/v1/transparency/daily.csv?date={picked.isoformat()}")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"vigil-daily-{picked.isoformat()}.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["date"] for row in rows} == {picked.isoformat()}
    assert sum(int(r["count"]) for r in rows if r["figure"] == "restrictive") == restrictive[picked]
    spam = [r for r in rows if r["figure"] == "restrictive" and r["category"] == "spam"]
    assert len(spam) == 1
    assert spam[0]["action"] == "remove"
    assert spam[0]["source"] == "voluntary"

    assert page.evaluate("window.__violations") == []
    assert errors == []
    page.context.close()


def test_a_bad_day_typed_into_the_address_is_explained_in_the_page(live: Live, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    response = page.goto(f"{live.url}/transparency?date=2025-02-30")
    assert response is not None
    assert response.status == 422
    expect(page.locator("#error")).to_contain_text("That day cannot be shown.")
    expect(page.locator("#error")).to_contain_text("YYYY-MM-DD")
    expect(page.locator("svg.chart")).to_have_count(0)
    expect(page.locator("#date")).to_be_visible()  # and the form to try another
    context.close()


def test_the_transparency_page_reads_on_a_phone(live: Live, browser: Browser) -> None:
    page, errors = _open(browser, live, f"/transparency?date={LAST.isoformat()}", 390, 844)

    expect(page.locator("#date")).to_be_in_viewport()
    # nothing wider than the screen: the charts shrink to fit
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator("#trend").bounding_box()
    assert box is not None
    assert box["width"] <= 390
    assert page.evaluate("window.__violations") == []
    assert errors == []
    page.context.close()
