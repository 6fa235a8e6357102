"""The moderator console in a real browser: the work of a moderator from sign-in to the platform's
webhook, an appeal decided by a second moderator, and the wellness defaults of sensitive queues."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import ABUSE, SCAM, Live, Webhook, press, screenshot, sign_in
from vigil.domain.roles import Role
from vigil.enforce.webhooks import SIGNATURE_HEADER, verify_signature

pytestmark = pytest.mark.browser

PHISHING = "Security alert: verify your account within 24 hours or it will be closed."


def _verified(live: Live, webhook: Webhook) -> dict[str, object]:
    """The webhook's payload, after checking its signature as the platform does."""
    verify_signature(live.webhook_secret, webhook.headers[SIGNATURE_HEADER], webhook.body, int(time.time()))
    return webhook.payload


def test_a_moderator_decides_in_the_console_and_a_second_one_overturns_the_appeal(
    live: Live, browser: Browser
) -> None:
    # seen by a million people, so its case is the most urgent one a reviewer can work
    submitted = live.submit("journey-1", PHISHING, SCAM, reach=1_000_000, author="user-journey")
    assert (submitted["decision"]["outcome"], submitted["decision"]["held_actions"]) == ("review", ["remove"])
    first = sign_in(browser, live, live.key(Role.REVIEWER))

    # the queues page leads to the queue holding the highest-priority case
    first.click("#start")
    expect(first).to_have_url(f"{live.url}/console/queues/general")
    expect(first.locator("#cases tbody tr").first).to_contain_text("journey-1")
    screenshot(first, "queue.png")

    # "n" claims the next case: the case page with its evidence
    press(first, "n")
    expect(first).to_have_url(re.compile(r"/console/cases/case_\w+$"))
    expect(first.locator("#flash")).to_have_text("You hold this case now.")
    expect(first.locator("#media")).to_contain_text("Matches bank phish-kits")
    expect(first.locator("#signals")).to_contain_text("md5 distance 0")
    marked = first.locator("#content-text mark").all_inner_texts()
    assert "verify your account" in marked
    assert first.locator("#content-text").inner_text() == PHISHING
    expect(first.locator("#decision")).to_contain_text("Held for review")
    expect(first.locator("#decision")).to_contain_text("fraud-scam")
    screenshot(first, "case.png")

    # "1" ticks the first action (remove), the policy is chosen, "s" submits
    press(first, "1")
    expect(first.locator("input[name=action][value=remove]")).to_be_checked()
    first.select_option("#policy", "fraud-scam")
    press(first, "s")
    expect(first.locator("#flash")).to_have_text("Decided: remove.")

    removal = _verified(live, live.receiver.wait_for(lambda w: w.payload["subject"]["id"] == "journey-1"))
    assert (removal["actions"], removal["policies"], removal["supersedes"]) == (
        ["remove"],
        ["fraud-scam@2"],
        submitted["decision_id"],  # the automated decision that held the removal back
    )
    expect(first.locator("#decision")).to_contain_text(f"Closed by decision {removal['decision_id']}")

    # the user contests the removal through the platform
    filed = live.api(
        "POST",
        "/v1/appeals",
        live.key(Role.PLATFORM),
        {"decision_id": removal["decision_id"], "appellant": "user-journey", "statement": "My bank's page."},
    )
    assert filed.status_code == 201, filed.text
    appeal = filed.json()

    # the moderator who removed it may not decide the appeal
    first.goto(f"{live.url}/console/cases/{appeal['case_id']}")
    expect(first.locator("#appeals")).to_contain_text("My bank's page.")
    press(first, "c")
    expect(first.locator("#error")).to_contain_text("another reviewer decides the appeal")
    assert first.title().startswith("403")

    # a second moderator finds it in the appeals queue and overturns it
    second = sign_in(browser, live, live.key(Role.REVIEWER))
    second.click("#queues a[href='/console/queues/appeals']")
    expect(second).to_have_url(f"{live.url}/console/queues/appeals")
    second.click(f"#cases a[href='/console/cases/{appeal['case_id']}']")
    expect(second).to_have_url(f"{live.url}/console/cases/{appeal['case_id']}")
    expect(second.locator("h1")).to_contain_text("appeal")
    press(second, "c")
    expect(second.locator("#flash")).to_have_text("You hold this case now.")
    second.fill("#decide-note", "The page is the bank's own login page.")
    press(second, "Escape")  # leaves the note field, so that the next key is a shortcut
    press(second, "s")
    expect(second.locator("#flash")).to_have_text("Decided: no action.")

    lifted = _verified(
        live, live.receiver.wait_for(lambda w: w.payload.get("supersedes") == removal["decision_id"])
    )
    assert (lifted["actions"], lifted["subject"]) == ([], {"type": "content", "id": "journey-1"})
    ended = live.api("GET", f"/v1/appeals/{appeal['id']}", live.key(Role.PLATFORM)).json()
    assert (ended["outcome"], ended["result_decision_id"]) == ("overturned", lifted["decision_id"])


def test_sensitive_previews_are_blurred_until_revealed_and_count_toward_the_daily_exposure(
    live: Live, browser: Browser
) -> None:
    live.submit("abuse-1", "", ABUSE)
    case_id = live.case_of("abuse-1", "child_safety")
    trained = sign_in(browser, live, live.key(Role.CHILD_SAFETY_REVIEWER))
    expect(trained.locator("#queues tr[data-queue=child_safety]")).to_contain_text("sensitive")
    expect(trained.locator("#exposure-count")).to_have_text("0")

    trained.goto(f"{live.url}/console/cases/{case_id}")
    preview = trained.locator("#preview")
    body = trained.locator("#preview .preview-body")
    expect(preview).to_have_class(re.compile(r"\bblurred\b"))
    assert "blur" in body.evaluate("element => getComputedStyle(element).filter")
    expect(trained.locator("#media")).to_contain_text("Matches bank internal-csam")

    press(trained, "r")
    expect(preview).to_have_class(re.compile(r"\brevealed\b"))
    assert body.evaluate("element => getComputedStyle(element).filter") == "none"

    trained.reload()  # the same case again: still one case today
    trained.goto(f"{live.url}/console/queues")
    expect(trained.locator("#exposure-count")).to_have_text("1")


def test_an_admin_key_is_shown_where_the_cases_wait_and_how_to_make_a_key_that_works_them(
    live: Live, browser: Browser
) -> None:
    live.submit("newcomer-1", PHISHING, SCAM)  # held for a reviewer in the general queue
    admin = sign_in(browser, live, live.admin_key)

    hint = admin.locator("#where-to-go")
    expect(hint.locator("#no-queue")).to_contain_text("works no review queue")
    expect(hint.locator("#no-queue")).to_contain_text("cases are waiting in queues of other roles")
    general = hint.locator("#queue-roles tr[data-queue=general] td")
    expect(general).to_have_text(["general", "reviewer, senior_reviewer", "yes"])
    expect(hint.locator("#make-a-key")).to_contain_text("vigil key create --role")
    expect(admin.locator("#start")).to_have_count(0)
    expect(admin.locator("#queues")).to_have_count(0)
    screenshot(admin, "queues-admin.png")
