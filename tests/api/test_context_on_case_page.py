"""A reviewer sees why a flagged text was held instead of acted on: the case page shows the context
signal (the frame and the phrases that mark it) beside the classifier's finding. A context phrase
inside a real offer costs the machine its automatic action, never the reviewer's sight of it."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.console_forms import sign_in_with_key
from vigil.domain.roles import Role

# a sale offer that mentions an arrest: suspected, and held because a news phrase is in it
OFFER = (
    "Selling coke and mdma tonight, discreet delivery, DM me <b>for prices</b>. "
    "My old plug was arrested, so I am your guy now"
)


def test_a_text_held_for_its_context_shows_the_context_on_its_case_page(api: Api) -> None:
    item = {"id": "warn-1", "author_id": "user-1", "text": OFFER, "language": "en"}
    answered = api.client.post("/v1/content", json=item, headers=api.admin)
    assert answered.status_code in (200, 201), answered.text
    body = answered.json()
    frames = [s for s in body["signals"] if s["kind"] == "context"]
    assert [s["label"] for s in frames] == ["news"]
    suspected = [s for s in body["signals"] if s["kind"] == "classifier" and s["score"] >= 0.5]
    assert [s["category"] for s in suspected] == ["drugs"]
    # suspected but in context: held for a reviewer, nothing restricted
    assert body["decision"]["actions"] == []
    assert body["decision"]["held_actions"] == ["remove"]
    reviewer = api.key(Role.REVIEWER)
    cases = api.client.get("/v1/cases?queue=general", headers=api.as_(reviewer)).json()
    (case,) = [c for c in cases if c["content_id"] == "warn-1"]
    with TestClient(api.client.app) as http:
        sign_in_with_key(http, reviewer)
        page = http.get(f"/console/cases/{case['id']}")
    assert page.status_code == 200, page.text
    text = " ".join(page.text.split())
    assert "<td>context</td>" in text
    assert "<q>was arrested</q>" in text
    assert "<b>for prices</b>" not in text  # the content stays escaped
    assert html.escape("<b>for prices</b>", quote=False) in text
