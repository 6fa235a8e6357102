"""The legal console's pages over HTTP, as a browser without JavaScript sees them: orders by time
left, one order with its content escaped, the forms to execute, approve, refuse and ask for
clarification, and the refusals (other roles, a missing CSRF token, the senior-review hold)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.console_forms import Clock, csrf_token, sign_in_with_key
from tests.order_fixtures import SigningAuthority, order_to_act, removal_order
from vigil.domain.roles import Role
from vigil.intake.orders import OrderDesk
from vigil.web.security import CONTENT_SECURITY_POLICY

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
PROTEST = "Our journalist reports live from the protest at the square tonight."


@dataclass
class Console:
    """One person signed in to the console, with their own cookies."""

    http: TestClient

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def csrf(self, path: str = "/console/orders") -> str:
        page = self.http.get(path)
        assert page.status_code == 200, page.text
        return csrf_token(page.text)

    def post(self, path: str, data: dict[str, Any]) -> httpx.Response:
        return self.http.post(path, data=data, follow_redirects=False)

    def act(self, order_id: str, action: str, **fields: Any) -> httpx.Response:
        """Post an order form as the order page does, with the session's CSRF token."""
        token = self.csrf(f"/console/orders/{order_id}")
        return self.post(f"/console/orders/{order_id}/{action}", {"csrf": token, **fields})


@pytest.fixture
def sign_in(api: Api) -> Iterator[Any]:
    """``sign_in(role)``: a console session of a fresh key of ``role``, signed in by the login form."""
    clients: list[TestClient] = []

    def signed_in(role: Role) -> Console:
        http = TestClient(api.client.app)
        clients.append(http)
        sign_in_with_key(http, api.key(role))
        return Console(http)

    yield signed_in
    for http in clients:
        http.close()


@pytest.fixture
def clock(api: Api) -> Clock:
    found = Clock(datetime.now(UTC).replace(microsecond=0))
    desk(api).clock = found
    return found


def desk(api: Api) -> OrderDesk:
    found: OrderDesk = api.client.app.state.orders  # type: ignore[attr-defined]
    return found


@pytest.fixture
def paris(api: Api) -> SigningAuthority:
    authority = SigningAuthority("fr-ocrv", "FR", ["tco_removal", "dsa_art9", "dsa_art10"], "OCRV Paris")
    registered = api.client.post("/v1/authorities", json=authority.registration(), headers=api.admin)
    assert registered.status_code == 201, registered.text
    return authority


def post(api: Api, content_id: str, text: str = "Photos from our weekend by the sea.") -> None:
    item = {"id": content_id, "author_id": "user-1", "channel_id": "chan-1", "text": text}
    response = api.client.post("/v1/content", json=item, headers=api.admin)
    assert response.status_code == 200, response.text


def send(api: Api, authority: SigningAuthority, document: dict[str, Any]) -> dict[str, Any]:
    body, headers = authority.signed(document, api.key(Role.AUTHORITY, authority.id))
    response = api.client.post("/v1/orders", content=body, headers=headers)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def disclosure_order(authority: SigningAuthority, reference: str, issued_at: datetime) -> dict[str, Any]:
    return {
        "authority_id": authority.id,
        "reference": reference,
        "type": "dsa_art10",
        "issued_at": issued_at.isoformat(),
        "language": "fr",
        "legal_basis": "Code de procédure pénale, art. 60-1",
        "statement_of_reasons": "Enquête sur une escroquerie.",
        "accounts": ["user-1"],
        "information": ["channels", "subscriber_identity"],
        "redress": "Recours devant le juge des libertés.",
    }


def state_of(api: Api, order_id: str) -> str:
    found = api.client.get(f"/v1/orders/{order_id}", headers=api.admin).json()
    state: str = found["state"]
    return state


def listed(page: str) -> list[str]:
    return re.findall(r'data-order="([^"]+)"', page)


def test_open_orders_are_listed_nearest_deadline_first_with_their_time_left(
    api: Api, paris: SigningAuthority, clock: Clock, sign_in: Any
) -> None:
    post(api, "post-1")
    post(api, "post-2")
    start = clock.at
    to_act = send(api, paris, order_to_act(paris, "A9-1", "post-1", ["FR"]))  # 24 h
    clock.advance(minutes=10)
    removal = send(api, paris, removal_order(paris, "TCO-1", "no-such-post", clock.at))  # 1 h, nothing known
    information = send(api, paris, disclosure_order(paris, "A10-1", clock.at))  # 72 h
    stopped = send(api, paris, removal_order(paris, "TCO-2", "gone-post", clock.at))
    done = send(api, paris, removal_order(paris, "TCO-3", "post-2", clock.at))
    assert done["state"] == "executed"  # at once, under the safeguards
    desk(api).watch()  # and answered once the platform has it
    lawyer = sign_in(Role.LEGAL)
    assert lawyer.act(stopped["id"], "clarification-request", question="Which post?").status_code == 303

    clock.at = start + timedelta(minutes=63)
    page = lawyer.get("/console/orders")

    assert page.status_code == 200
    assert listed(page.text) == [removal["id"], to_act["id"], information["id"], stopped["id"]]
    rows = dict(zip(listed(page.text), page.text.split('data-order="')[1:], strict=True))
    assert "7 min left" in rows[removal["id"]]
    assert "due soon" in rows[removal["id"]]
    assert "Terrorist content removal (1 h)" in rows[removal["id"]]
    assert 'OCRV Paris <span class="muted">(FR)</span>' in rows[removal["id"]]
    assert "content not found" in rows[removal["id"]]
    assert "22 h 57 min left" in rows[to_act["id"]]
    assert "on track" in rows[to_act["id"]]
    assert "Order to act against illegal content (24 h)" in rows[to_act["id"]]
    assert "2 d 23 h left" in rows[information["id"]]
    assert "clock stopped — awaiting clarification" in rows[stopped["id"]]
    assert (start + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S UTC") in rows[removal["id"]]

    assert listed(lawyer.get("/console/orders?show=done").text) == [done["id"]]
    assert listed(lawyer.get("/console/orders?show=all").text)[-1] == done["id"]

    clock.at = start + timedelta(minutes=73, seconds=30)
    late = lawyer.get("/console/orders").text
    [row] = [r for r in late.split('data-order="')[1:] if r.startswith(removal["id"])]
    assert "overdue by 3 min" in row
    assert 'class="badge urgency urgency-overdue">overdue' in row


def test_hostile_text_in_an_order_and_in_its_content_is_shown_escaped(
    api: Api, paris: SigningAuthority, sign_in: Any
) -> None:
    post(api, "post-h", text=f"{SCRIPT} and more")
    document = order_to_act(paris, '<b onmouseover="alert(2)">A9</b>', "post-h", ["FR"])
    document["statement_of_reasons"] = f"Reasons: {SCRIPT}"
    document["legal_basis"] = '"><img src=x onerror=alert(3)>'
    order = send(api, paris, document)
    lawyer = sign_in(Role.LEGAL)
    asked = lawyer.act(order["id"], "clarification-request", question=f"Which law? {SCRIPT}")
    assert asked.status_code == 303

    page = lawyer.get(f"/console/orders/{order['id']}")
    listing = lawyer.get("/console/orders?show=all")

    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for html in (page.text, listing.text):
        assert SCRIPT not in html
        assert "<img" not in html
        assert "<b " not in html
    assert page.text.count(ESCAPED_SCRIPT) >= 4  # the reasons, the content, the question, the history
    assert f"Reasons: {ESCAPED_SCRIPT}" in page.text
    assert f"{ESCAPED_SCRIPT} and more" in page.text
    assert "&#34;&gt;&lt;img src=x onerror=alert(3)&gt;" in page.text
    assert "&lt;b onmouseover=&#34;alert(2)&#34;&gt;A9&lt;/b&gt;" in listing.text


def test_only_legal_staff_see_the_orders_pages(api: Api, paris: SigningAuthority, sign_in: Any) -> None:
    post(api, "post-1")
    order = send(api, paris, order_to_act(paris, "A9-1", "post-1", ["FR"]))
    lawyer = sign_in(Role.LEGAL)
    assert 'href="/console/orders"' in lawyer.get("/console/queues").text
    assert lawyer.get(f"/console/orders/{order['id']}").status_code == 200
    assert lawyer.get("/console/orders/ord_nothing").status_code == 404

    for role in (Role.REVIEWER, Role.SENIOR_REVIEWER, Role.CHILD_SAFETY_REVIEWER, Role.ADMIN):
        other = sign_in(role)
        token = other.csrf("/console/queues")
        pages = (
            other.get("/console/orders"),
            other.get(f"/console/orders/{order['id']}"),
            other.post(f"/console/orders/{order['id']}/execute", {"csrf": token}),
            other.post(
                f"/console/orders/{order['id']}/refuse",
                {"csrf": token, "ground": "other", "explanation": "no"},
            ),
        )
        for refused in pages:
            assert refused.status_code == 403
            assert "The orders pages are for legal staff" in refused.text
            assert "A9-1" not in refused.text
        assert 'href="/console/orders"' not in other.get("/console/queues").text
    assert state_of(api, order["id"]) == "in_legal_review"


def test_an_order_form_posted_without_its_csrf_token_is_refused(
    api: Api, paris: SigningAuthority, sign_in: Any
) -> None:
    post(api, "post-1")
    order = send(api, paris, order_to_act(paris, "A9-1", "post-1", ["FR"]))
    lawyer, other = sign_in(Role.LEGAL), sign_in(Role.LEGAL)
    path = f"/console/orders/{order['id']}/execute"

    missing = lawyer.post(path, {})
    wrong = lawyer.post(path, {"csrf": "x" * 43})
    borrowed = lawyer.post(path, {"csrf": other.csrf()})
    as_json = lawyer.http.post(path, json={"csrf": lawyer.csrf()}, follow_redirects=False)

    for refused in (missing, wrong, borrowed, as_json):
        assert refused.status_code == 403
        assert "security token (CSRF)" in refused.text
    assert state_of(api, order["id"]) == "in_legal_review"


def test_a_lawyer_executes_an_order_and_the_page_shows_the_effect(
    api: Api, paris: SigningAuthority, sign_in: Any
) -> None:
    post(api, "post-1")
    order = send(api, paris, order_to_act(paris, "A9-1", "post-1", ["FR"]))
    lawyer = sign_in(Role.LEGAL)
    form = lawyer.get(f"/console/orders/{order['id']}").text
    assert 'id="execute"' in form
    assert 'name="target"' not in form  # one target: nothing to tick

    done = lawyer.act(order["id"], "execute", note="Checked against the law.")

    assert (done.status_code, done.headers["location"]) == (303, f"/console/orders/{order['id']}")
    page = lawyer.get(done.headers["location"]).text
    assert 'id="flash">Order executed.</p>' in page
    assert state_of(api, order["id"]) == "executed"
    assert 'data-status="executed"' in page
    assert "geo_restrict, notify_user" in page
    assert "Checked against the law." in page
    assert 'id="execute"' not in page  # nothing more to do


def test_unticked_targets_are_left_out_of_a_partial_execution(
    api: Api, paris: SigningAuthority, sign_in: Any
) -> None:
    post(api, "post-a")
    post(api, "post-b")
    document = order_to_act(paris, "A9-2", "post-a", ["FR"])
    document["targets"].append({"content_id": "post-b"})
    order = send(api, paris, document)
    lawyer = sign_in(Role.LEGAL)
    form = lawyer.get(f"/console/orders/{order['id']}").text
    assert form.count('name="target"') == 2

    nothing = lawyer.act(order["id"], "execute", partial="1")
    assert nothing.status_code == 422
    assert "Tick at least one target to execute, or refuse the order." in nothing.text
    done = lawyer.act(order["id"], "execute", partial="1", target="post-a", note="post-b is satire")

    assert done.status_code == 303
    found = api.client.get(f"/v1/orders/{order['id']}", headers=api.admin).json()
    assert found["state"] == "partially_executed"
    outcomes = {t["content_id"]: (t["status"], t["reason"]) for t in found["effect"]["targets"]}
    assert outcomes == {"post-a": ("executed", ""), "post-b": ("excluded", "post-b is satire")}
    assert 'id="flash">Order partially executed.</p>' in lawyer.get(done.headers["location"]).text


def test_asking_for_clarification_stops_the_clock_and_a_refusal_answers_the_authority(
    api: Api, paris: SigningAuthority, sign_in: Any
) -> None:
    post(api, "post-1")
    order = send(api, paris, order_to_act(paris, "A9-1", "post-1", ["FR"]))
    lawyer = sign_in(Role.LEGAL)

    asked = lawyer.act(order["id"], "clarification-request", question="Which statement is denied?")
    page = lawyer.get(asked.headers["location"]).text
    assert "The authority was asked. The clock is stopped until it answers." in page
    assert "clock stopped — awaiting clarification" in page
    assert '<pre class="statement" id="question">Which statement is denied?</pre>' in page
    assert 'id="execute"' not in page  # nothing runs while the authority is asked
    unknown = lawyer.act(order["id"], "refuse", ground="dislike", explanation="x")
    unexplained = lawyer.act(order["id"], "refuse", ground="not_illegal", explanation="  ")
    refused = lawyer.act(order["id"], "refuse", ground="not_illegal", explanation="History, not denial.")

    assert unknown.status_code == 400
    assert "unknown refusal ground &#39;dislike&#39;" in unknown.text
    assert unexplained.status_code == 422
    assert "A refusal needs its explanation" in unexplained.text
    assert refused.status_code == 303
    page = lawyer.get(refused.headers["location"]).text
    assert "Refused (not illegal under the law invoked). The authority has the answer." in page
    assert "History, not denial." in page
    assert state_of(api, order["id"]) == "answered"
    again = lawyer.act(order["id"], "execute")
    assert again.status_code == 409
    assert "the order is answered, not in_legal_review" in again.text


def test_a_disclosure_is_made_on_the_second_lawyer_s_approval(
    api: Api, paris: SigningAuthority, clock: Clock, sign_in: Any
) -> None:
    post(api, "post-1")
    order = send(api, paris, disclosure_order(paris, "A10-1", clock.at))
    first, second = sign_in(Role.LEGAL), sign_in(Role.LEGAL)
    assert 'id="execute"' not in first.get(f"/console/orders/{order['id']}").text

    once = first.act(order["id"], "approve", note="Proportionate.")
    page = first.get(once.headers["location"]).text
    assert "Approved. The disclosure waits for another lawyer&#39;s approval." in page
    assert "Approvals: 1 of 2" in page
    assert "You approved this disclosure; another lawyer must approve it too." in page
    twice = first.act(order["id"], "approve")
    assert twice.status_code == 409
    assert "you approved this disclosure already" in twice.text
    assert state_of(api, order["id"]) == "in_legal_review"

    done = second.act(order["id"], "approve")

    page = second.get(done.headers["location"]).text
    assert "Approved. Order executed. The disclosure was made." in page
    assert state_of(api, order["id"]) == "executed"
    assert "subscriber_identity" in page


def test_an_order_held_for_senior_review_says_why_and_only_a_senior_lawyer_acts(
    api: Api, paris: SigningAuthority, sign_in: Any
) -> None:
    post(api, "post-4", text=PROTEST)
    order = send(api, paris, removal_order(paris, "TCO-4", "post-4"))
    assert order["state"] == "in_legal_review"
    hold = "This order waits for senior legal review: content post-4 reads as reporting, protest or political speech"
    lawyer, senior = sign_in(Role.LEGAL), sign_in(Role.SENIOR_LEGAL)

    page = lawyer.get(f"/console/orders/{order['id']}").text
    assert hold in page
    assert '<fieldset class="actions" disabled>' in page
    assert "protected speech" in page
    refused = lawyer.act(order["id"], "execute")
    assert refused.status_code == 403
    assert 'class="flash flash-error"' in refused.text
    assert hold in refused.text
    assert state_of(api, order["id"]) == "in_legal_review"

    page = senior.get(f"/console/orders/{order['id']}").text
    assert hold not in page
    assert '<fieldset class="actions">' in page
    done = senior.act(order["id"], "execute", note="Propaganda posing as reporting.")
    assert done.status_code == 303
    assert state_of(api, order["id"]) == "executed"


def test_an_unknown_list_filter_is_refused(api: Api, sign_in: Any) -> None:
    lawyer = sign_in(Role.LEGAL)
    page = lawyer.get("/console/orders?show=everything")
    assert page.status_code == 400
    assert "show: choose open, done or all" in page.text
