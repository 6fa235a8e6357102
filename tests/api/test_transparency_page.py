"""The public transparency page: a day's figures for anyone, without a key, with charts drawn on the
server, under a policy that runs no script; labels are escaped, no personal data is ever on it, a bad
day is a clear 422 page and a quiet day is zeros."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime, timedelta

from markupsafe import escape

from tests.api.conftest import Api
from vigil.domain.roles import Role
from vigil.store import daily as counter_store
from vigil.store.daily import Increment

KIT = hashlib.md5(b"a phishing kit sold to scammers").hexdigest()
# what the platform sent about people: none of it may reach the public page or its CSV
AUTHOR, CHANNEL = "author-7f3e-private", "channel-9a1c-private"
REPORTER, EMAIL = "Ana Privatperson", "ana.private@example.org"
TEXT = "Meet me by the old mill at seven, bring the blue folder"
HOSTILE = "<img src=x onerror=alert(1)>"


def _value(page: str, anchor: str) -> str:
    """The value the page shows for a key figure."""
    found = re.search(rf'<li id="figure-{anchor}">.*?<span class="value">([^<]*)</span>', page)
    assert found is not None, f"no key figure {anchor}"
    return found.group(1)


def _seed_a_day_through_the_api(api: Api) -> list[str]:
    """Two posts removed by a bank match and a user's notice on a third: through the API, today.
    Returns the content ids, which must not be published either."""
    platform = api.as_(api.key(Role.PLATFORM))
    assert api.client.post(
        "/v1/banks", json={"name": "kits", "category": "fraud"}, headers=api.admin
    ).is_success
    added = api.client.post(
        "/v1/banks/kits/hashes", json={"hashes": [{"type": "md5", "value": KIT}]}, headers=api.admin
    )
    assert added.is_success, added.text
    ids = ["scam-post-1", "scam-post-2", "quiet-post-3"]
    for content_id in ids:
        item: dict[str, object] = {"id": content_id, "author_id": AUTHOR, "channel_id": CHANNEL, "text": TEXT}
        if content_id.startswith("scam"):
            item["media"] = [{"id": "m", "md5": KIT}]
        response = api.client.post("/v1/content", json=item, headers=platform)
        assert response.status_code == 200, response.text
    notice = api.client.post(
        "/v1/notices",
        json={
            "content_id": "quiet-post-3",
            "category": "hate_speech",
            "explanation": "This post insults people for their religion.",
            "reporter": {"name": REPORTER, "email": EMAIL},
            "good_faith": True,
        },
        headers=platform,
    )
    assert notice.status_code == 201, notice.text
    return ids


def test_the_page_is_public_and_sent_under_a_policy_that_runs_nothing(api: Api) -> None:
    response = api.client.get("/transparency?date=2024-06-01")  # no key

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'none'" in policy
    assert "default-src 'none'" in policy
    assert "form-action 'self'" in policy  # the day form, and nothing else, may submit
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "public, max-age=60"
    # every inline stylesheet of the page is allowed by its hash, and nothing else is inline
    styles = re.findall(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert len(styles) == 2
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "<script" not in response.text
    assert " style=" not in response.text
    assert re.search(r"<[^>]*\son[a-z]+\s*=", response.text) is None  # no event handler attribute


def test_a_day_of_moderation_is_published_with_its_figures_and_charts(api: Api) -> None:
    ids = _seed_a_day_through_the_api(api)
    today = datetime.now(UTC).date().isoformat()

    response = api.client.get(f"/transparency?date={today}")

    assert response.status_code == 200, response.text
    page = response.text
    assert _value(page, "restrictive") == "2"  # the two bank matches
    assert _value(page, "automated") == "100%"
    assert _value(page, "notices-received") == "1"
    assert _value(page, "appeals-filed") == "0"
    assert 'id="incomplete"' in page  # today has not ended, and the page says so
    # the charts, drawn on the server, say their values in words as well as bars
    for chart in ("by-category", "by-action", "by-source", "notices-by-category", "trend"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" id="{chart}"' in page
    assert "fraud and scams: 2" in page
    assert "removed: 2" in page
    assert "own automated detection: 2" in page
    assert "hate speech: 1" in page
    assert f"{today}: 2 items actioned, 100%" in page  # the last day of the trend
    # the downloads, and the form that picks another day
    assert f'href="/v1/transparency/daily.csv?date={today}"' in page
    assert f'href="/v1/transparency/daily?date={today}"' in page
    assert re.search(rf'<input type="date" id="date" name="date" value="{today}"', page)
    csv_text = api.client.get(f"/v1/transparency/daily.csv?date={today}").text
    assert f"{today},restrictive,fraud,remove,,voluntary,,,,,,,fully,2" in csv_text
    # nothing about the people involved, nor the items, reaches the page or the CSV
    for private in (AUTHOR, CHANNEL, REPORTER, EMAIL, TEXT, "old mill", *ids):
        assert private not in page
        assert private not in csv_text


def test_the_page_explains_every_key_figure(api: Api) -> None:
    page = api.client.get("/transparency?date=2024-06-01").text

    anchors = re.findall(r'<li id="figure-([a-z-]+)">', page)
    assert len(anchors) == 13
    for anchor in anchors:
        assert f'href="#def-{anchor}"' in page
        assert f'<dt id="def-{anchor}">' in page


def test_labels_from_the_data_are_escaped(api: Api) -> None:
    """A category the page does not know (a bug, or a tampered database) is shown as text."""
    with api.store.transaction() as session:
        counter_store.add(
            session,
            "2025-05-05",
            [
                Increment("restrictive", HOSTILE, "remove", "voluntary", "", "fully", 4),
                Increment("restrictive", "fraud", "<b>x</b>", "'quoted\"", "", "fully", 1),
                Increment("notices_received", HOSTILE, source="notice", value=2),
            ],
        )

    page = api.client.get("/transparency?date=2025-05-05").text

    assert HOSTILE not in page
    assert "<b>x</b>" not in page
    assert str(escape(HOSTILE)) in page
    assert f"{escape(HOSTILE)}: 4" in page  # in the chart's description and its bar's tooltip
    assert "&lt;b&gt;x&lt;/b&gt;: 1" in page
    assert "&#39;quoted&#34;: 1" in page
    assert _value(page, "restrictive") == "5"


def test_the_trend_shows_the_30_days_up_to_the_day(api: Api) -> None:
    with api.store.transaction() as session:
        for offset, (fully, by_people) in enumerate(((3, 1), (0, 2), (5, 0))):
            day = (date(2025, 5, 5) - timedelta(days=offset * 10)).isoformat()
            counter_store.add(
                session,
                day,
                [
                    Increment("restrictive", "spam", "label", "voluntary", "", "fully", fully),
                    Increment("restrictive", "spam", "label", "reviewer", "", "not_automated", by_people),
                ],
            )
        # outside the 30 days: not drawn
        counter_store.add(session, "2025-04-05", [Increment("restrictive", "spam", "label", value=99)])

    page = api.client.get("/transparency?date=2025-05-05").text

    trend = re.search(r'<svg [^>]*id="trend".*?</svg>', page, re.DOTALL)
    assert trend is not None
    chart = trend.group(0)
    assert "Items actioned per day, 2025-04-06 to 2025-05-05" in chart
    assert "2025-05-05: 4 items actioned, 75%" in chart
    assert "2025-04-25: 2 items actioned, 0%" in chart
    assert "2025-04-15: 5 items actioned, 100%" in chart
    assert "2025-04-16: 0 items actioned, n/a" in chart
    assert "2025-04-05" not in chart
    assert len(re.findall(r"<g><title>2025-", chart)) == 30


def test_a_bad_day_is_a_422_page_that_says_what_is_wrong(api: Api) -> None:
    today = datetime.now(UTC).date()
    for bad, says in (
        ("2026-02-30", "a calendar date written YYYY-MM-DD"),
        ("yesterday", "a calendar date written YYYY-MM-DD"),
        ("2026-3-1", "a calendar date written YYYY-MM-DD"),
        ("1999-12-31", "from 2000-01-01 to today"),
        ((today + timedelta(days=1)).isoformat(), "still being counted"),
    ):
        response = api.client.get("/transparency", params={"date": bad})
        assert response.status_code == 422, bad
        assert response.headers["content-type"].startswith("text/html")
        assert "script-src 'none'" in response.headers["content-security-policy"]
        assert 'role="alert"' in response.text
        assert says in response.text
        assert '<form class="day" method="get" action="/transparency"' in response.text  # try again
        assert 'id="key-figures"' not in response.text

    hostile = api.client.get("/transparency", params={"date": "<script>alert(1)</script>"})
    assert hostile.status_code == 422
    assert "<script>" not in hostile.text
    assert "&lt;script&gt;" in hostile.text


def test_a_day_without_events_shows_zeros(api: Api) -> None:
    response = api.client.get("/transparency?date=2020-01-01")

    assert response.status_code == 200
    assert _value(response.text, "restrictive") == "0"
    assert _value(response.text, "automated") == "n/a"
    assert _value(response.text, "orders-received") == "0"
    assert "Nothing counted." in response.text
    assert 'id="incomplete"' not in response.text


def test_without_a_day_the_page_shows_yesterday(api: Api) -> None:
    before = datetime.now(UTC).date() - timedelta(days=1)
    page = api.client.get("/transparency").text
    after = datetime.now(UTC).date() - timedelta(days=1)

    shown = re.search(r'<input type="date" id="date" name="date" value="([0-9-]+)"', page)
    assert shown is not None
    assert shown.group(1) in {before.isoformat(), after.isoformat()}  # the run may straddle midnight
    assert f"Key figures, {shown.group(1)}" in page
    assert 'id="incomplete"' not in page
