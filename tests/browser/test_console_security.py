"""The console's defences: hostile content stays text, roles and claims are enforced by the review
desk, every form needs its CSRF token, and sessions are cookies a script cannot read."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Dialog, expect

from tests.browser.conftest import ABUSE, SCAM, ConsoleClient, Live, sign_in
from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.roles import Role
from vigil.web.security import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.browser

HOSTILE = "\n".join(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(2)>',
        '<a href="javascript:alert(3)">verify your account</a> javascript:alert(4)',
        '<style>body{display:none}</style><div style="position:fixed;inset:0;background:red">',
        '</pre></main><iframe src="javascript:alert(5)"></iframe>{{ 7 * 7 }}',
        "<svg onload=alert(6)><math><mtext><table><mglyph><style><img src=x onerror=alert(7)>",
    ]
)
Console = Callable[[str], ConsoleClient]


def test_hostile_content_renders_as_inert_text(live: Live, browser: Browser) -> None:
    live.submit("hostile-1", HOSTILE, SCAM, author='"><img src=x onerror=alert(8)>')
    case_id = live.case_of("hostile-1", "general")
    page = sign_in(browser, live, live.key(Role.REVIEWER))
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    response = page.goto(f"{live.url}/console/cases/{case_id}")
    page.fill("#note textarea", HOSTILE)
    page.click("#note button")
    expect(page.locator("#flash")).to_have_text("Note added.")
    page.wait_for_timeout(300)  # time for any handler that did get in to fire

    assert response is not None
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert dialogs == []
    assert page.locator("#content-text").inner_text() == HOSTILE
    assert "verify your account" in page.locator("#content-text mark").all_inner_texts()
    expect(page.locator("#events")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#record")).to_contain_text('"><img src=x onerror=alert(8)>')
    assert page.locator("img, iframe, svg, math, main style, main script, [style]").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    expect(page.locator("#content-text")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).display") == "block"


def test_a_reviewer_without_the_child_safety_role_is_refused_its_queue_and_cases(
    live: Live, console: Console
) -> None:
    live.submit("abuse-2", "", ABUSE)
    case_id = live.case_of("abuse-2", "child_safety")
    reviewer = console(live.key(Role.REVIEWER))
    csrf = reviewer.csrf("/console/queues")

    listed = reviewer.http.get("/console/queues")
    queue = reviewer.http.get("/console/queues/child_safety")
    case = reviewer.http.get(f"/console/cases/{case_id}")
    claimed = reviewer.post(f"/console/cases/{case_id}/claim", {"csrf": csrf})
    taken = reviewer.post("/console/queues/child_safety/next", {"csrf": csrf})

    assert "child_safety" not in listed.text
    for refused in (queue, case, claimed, taken):
        assert refused.status_code == 403
        assert "the reviewer role may not review the child_safety queue" in refused.text
    assert "abuse-2" not in case.text
    trained = console(live.key(Role.CHILD_SAFETY_REVIEWER))
    assert trained.http.get(f"/console/cases/{case_id}").status_code == 200


def test_a_form_posted_without_its_csrf_token_is_refused(live: Live, console: Console) -> None:
    live.submit("csrf-1", "look", SCAM)
    case_id = live.case_of("csrf-1", "general")
    reviewer = console(live.key(Role.REVIEWER))
    other = console(live.key(Role.REVIEWER))
    others_token = other.csrf("/console/queues")
    path = f"/console/cases/{case_id}/claim"

    missing = reviewer.post(path, {})
    wrong = reviewer.post(path, {"csrf": "x" * 43})
    borrowed = reviewer.post(path, {"csrf": others_token})
    as_multipart = reviewer.http.post(path, files={"csrf": (None, reviewer.csrf("/console/queues"))})
    sign_in_without_token = reviewer.http.post("/console/login", data={"api_key": live.key(Role.REVIEWER)})

    for refused in (missing, wrong, borrowed, as_multipart, sign_in_without_token):
        assert refused.status_code == 403
        assert "security token (CSRF)" in refused.text
    case = live.api("GET", f"/v1/cases/{case_id}", live.key(Role.SENIOR_REVIEWER)).json()
    assert (case["assignee"], [e["kind"] for e in case["events"]]) == (None, ["opened"])


def test_of_two_moderators_claiming_one_case_one_gets_it_and_the_other_a_clear_conflict(
    live: Live, console: Console
) -> None:
    live.submit("race-1", "look", SCAM)
    case_id = live.case_of("race-1", "general")
    first, second = console(live.key(Role.REVIEWER)), console(live.key(Role.REVIEWER))
    first_token, second_token = (
        first.csrf(f"/console/cases/{case_id}"),
        second.csrf(f"/console/cases/{case_id}"),
    )

    won = first.post(f"/console/cases/{case_id}/claim", {"csrf": first_token})
    lost = second.post(f"/console/cases/{case_id}/claim", {"csrf": second_token})
    decided_without_claim = second.post(
        f"/console/cases/{case_id}/decide", {"csrf": second_token, "policy": "", "note": ""}
    )

    assert (won.status_code, won.headers["location"]) == (303, f"/console/cases/{case_id}")
    assert lost.status_code == 409
    assert f"case {case_id} is being reviewed by someone else" in lost.text
    assert decided_without_claim.status_code == 409
    assert "You hold this case until" in first.http.get(f"/console/cases/{case_id}").text
    assert "Held by key:" in second.http.get(f"/console/cases/{case_id}").text


def test_the_session_is_a_strict_http_only_cookie_that_ends_on_sign_out_and_key_revocation(
    live: Live, console: Console
) -> None:
    key = live.key(Role.REVIEWER)
    client = console(key)
    [cookie] = [c for c in client.http.cookies.jar if c.name == "vigil_session"]
    queues = client.http.get("/console/queues")

    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "strict"
    assert not cookie.secure  # plain HTTP here; over HTTPS it is Secure (below)
    assert queues.status_code == 200
    signed_out = client.post("/console/logout", {"csrf": client.csrf("/console/queues")})
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/console/login")
    assert client.http.get("/console/queues").headers["location"] == "/console/login"

    revoked = console(key)
    key_id = key.split("_")[1]
    assert live.api("DELETE", f"/v1/keys/{key_id}", live.admin_key).status_code == 200
    assert revoked.http.get("/console/queues").headers["location"] == "/console/login"


def test_over_https_the_session_cookie_is_secure_and_only_reviewing_roles_may_sign_in(live: Live) -> None:
    # a second app on the live store, reached as if over TLS
    settings = Settings(
        database_url="sqlite://", webhook_deliver=False, retro_matching=False, text_classifier=False
    )
    with TestClient(create_app(settings, live.store), base_url="https://console.example") as client:
        form = client.get("/console/login")
        token = form.cookies["vigil_login"]
        signed = client.post(
            "/console/login",
            data={"csrf": token, "api_key": live.key(Role.REVIEWER)},
            follow_redirects=False,
        )
        token = client.get("/console/login").cookies["vigil_login"]
        refused = client.post("/console/login", data={"csrf": token, "api_key": live.key(Role.PLATFORM)})

    assert "secure" in form.headers["set-cookie"].lower()
    assert signed.status_code == 303
    assert "; secure" in signed.headers["set-cookie"].lower()
    assert refused.status_code == 403
    assert "The console is for reviewing roles; a platform key has no queues." in refused.text
