"""Attacks found by probing Vigil as an attacker would, each replayed against `vigil serve` (issue 12).

Content forgery by trusted flaggers, signed clarifications replayed on other orders or questions,
and a role the route table forgot. Each test failed before its fix.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.console_forms import csrf_token
from tests.integration.live import Platform, Vigil, start_platform, wait_for
from tests.order_fixtures import SigningAuthority, removal_order

pytestmark = pytest.mark.e2e


def _key(platform: Platform, role: str, bound_to: str | None = None) -> dict[str, str]:
    minted = platform.client.post(
        "/v1/keys", json={"role": role, "bound_to": bound_to, "label": role}, headers=platform.admin
    )
    assert minted.status_code == 201, minted.text
    return {"Authorization": f"Bearer {minted.json()['key']}"}


def _audit(platform: Platform) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = platform.client.get(
        "/v1/audit/events", params={"limit": 1000}, headers=platform.admin
    ).json()
    return events


@pytest.fixture
def platform(tmp_path: Path, env: dict[str, str], vigil: Vigil) -> Iterator[Platform]:
    started = start_platform(tmp_path, env, vigil)
    yield started
    started.receiver.stop()


def _awaiting_clarification(
    platform: Platform, paris: SigningAuthority, key: dict[str, str], legal: dict[str, str], reference: str
) -> dict[str, Any]:
    token = key["Authorization"].removeprefix("Bearer ")
    body, headers = paris.signed(removal_order(paris, reference, f"unknown-{reference}"), token)
    order = platform.client.post("/v1/orders", content=body, headers=headers).json()
    assert order["state"] == "in_legal_review", order
    asked = platform.client.post(
        f"/v1/orders/{order['id']}/clarification-request", json={"question": "Which post?"}, headers=legal
    )
    assert asked.status_code == 200, asked.text
    seen: dict[str, Any] = platform.client.get(f"/v1/orders/{order['id']}", headers=key).json()
    assert seen["state"] == "awaiting_clarification"
    return seen


def test_a_signed_clarification_answers_one_question_of_one_order_once(platform: Platform) -> None:
    client = platform.client
    paris = SigningAuthority("fr-ocrv", "FR", ["tco_removal"], "OCRV Paris")
    assert (
        client.post("/v1/authorities", json=paris.registration(), headers=platform.admin).status_code == 201
    )
    key = _key(platform, "authority", paris.id)
    token = key["Authorization"].removeprefix("Bearer ")
    legal = _key(platform, "legal")
    first = _awaiting_clarification(platform, paris, key, legal, "TCO-A")
    second = _awaiting_clarification(platform, paris, key, legal, "TCO-B")

    answer = {
        "order_id": first["id"],
        "question_id": first["clarification_question_id"],
        "answer": "The post at the address we gave; it was re-posted.",
    }
    body, headers = paris.signed(answer, token)

    # the same bytes and signature cannot retarget another order
    retargeted = client.post(f"/v1/orders/{second['id']}/clarification", content=body, headers=headers)
    assert retargeted.status_code == 422, retargeted.text
    assert retargeted.json()["error"]["code"] == "clarification_misdirected"
    assert client.get(f"/v1/orders/{second['id']}", headers=key).json()["state"] == "awaiting_clarification"

    # an answer that names no order and no question is refused before anything happens
    unbound, unbound_headers = paris.signed({"answer": "This one."}, token)
    refused = client.post(f"/v1/orders/{first['id']}/clarification", content=unbound, headers=unbound_headers)
    assert refused.status_code == 422

    taken = client.post(f"/v1/orders/{first['id']}/clarification", content=body, headers=headers)
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "in_legal_review"

    # used once: the same answer again is refused, and so it is after a second question
    again = client.post(f"/v1/orders/{first['id']}/clarification", content=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "no_open_question"
    asked = client.post(
        f"/v1/orders/{first['id']}/clarification-request", json={"question": "And the copy?"}, headers=legal
    )
    assert asked.status_code == 200
    stale = client.post(f"/v1/orders/{first['id']}/clarification", content=body, headers=headers)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "clarification_stale"
    assert client.get(f"/v1/orders/{first['id']}", headers=key).json()["state"] == "awaiting_clarification"

    refusals = [e for e in _audit(platform) if e["action"] == "order.clarification_rejected"]
    assert sorted(e["payload"]["code"] for e in refusals) == [
        "clarification_misdirected",
        "clarification_stale",
        "no_open_question",
    ]


def _bank_media(platform: Platform, media: bytes) -> None:
    client, admin = platform.client, platform.admin
    created = client.post(
        "/v1/banks", json={"name": "tvec", "category": "terrorism", "source": "internal"}, headers=admin
    )
    assert created.status_code == 201, created.text
    digest = hashlib.md5(media).hexdigest()
    added = client.post(
        "/v1/banks/tvec/hashes", json={"hashes": [{"type": "md5", "value": digest}]}, headers=admin
    )
    assert added.status_code == 200, added.text


def _item(content_id: str, media: bytes | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": content_id, "author_id": "user-7", "country": "DE", "text": "watch this"}
    if media is not None:
        item["media"] = [
            {
                "id": f"{content_id}-m",
                "mime_type": "video/mp4",
                "data_base64": base64.b64encode(media).decode(),
            }
        ]
    return item


def _notice(content_id: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "content_id": content_id,
        "url": f"https://social.example/{content_id}",
        "category": "terrorism",
        "explanation": "The video is propaganda of a proscribed organisation.",
        "good_faith": True,
    }
    if content is not None:
        body["content"] = content
    return body


def test_a_trusted_flagger_can_neither_forge_nor_pre_seed_the_platforms_content(platform: Platform) -> None:
    client, admin, receiver = platform.client, platform.admin, platform.receiver
    propaganda = b"pretend this is a known propaganda video"
    _bank_media(platform, propaganda)
    registered = client.post(
        "/v1/trusted-flaggers",
        json={
            "id": "hotline",
            "name": "Hotline e.V.",
            "country": "de",
            "expertise": ["terrorism"],
            "coordinator": "Bundesnetzagentur",
            "contact_email": "notices@hotline.example",
        },
        headers=admin,
    )
    assert registered.status_code == 201, registered.text
    flagger = _key(platform, "trusted_flagger", "hotline")
    platform_key = _key(platform, "platform")

    # forgery: banked media in an item the platform never sent; nothing is stored, decided or sent
    forged = client.post("/v1/notices", json=_notice("post-1", _item("post-1", propaganda)), headers=flagger)
    assert forged.status_code == 403, forged.text
    assert forged.json()["error"]["code"] == "content_from_platform_only"
    assert client.get("/v1/content/post-1", headers=admin).status_code == 404

    # pre-seeding: harmless content for an id the platform is about to send is refused too ...
    seeded = client.post("/v1/notices", json=_notice("post-2", _item("post-2")), headers=flagger)
    assert seeded.status_code == 403
    # ... and a notice without content waits, asking the platform for the item
    waiting = client.post("/v1/notices", json=_notice("post-2"), headers=flagger)
    assert waiting.status_code == 201, waiting.text
    assert waiting.json()["state"] == "awaiting_content"
    wait_for(lambda: "content.requested" in _received_types(platform))
    assert client.get("/v1/content/post-2", headers=admin).status_code == 404

    # the platform's real submission is decided on its own bytes, not on anything a notifier sent
    real = client.post("/v1/content", json=_item("post-2", propaganda), headers=platform_key)
    assert real.status_code == 200, real.text
    assert (real.json()["duplicate"], real.json()["decision"]["outcome"]) == (False, "remove")
    answered = client.get(f"/v1/notices/{waiting.json()['id']}", headers=flagger).json()
    assert (answered["state"], answered["outcome"]) == ("decided", "remove")

    wait_for(lambda: "enforcement.requested" in _received_types(platform))
    enforced = [
        json.loads(body)["subject"]["id"]
        for _, body in receiver.received
        if json.loads(body)["type"] == "enforcement.requested"
    ]
    assert enforced == ["post-2"]  # never post-1
    refused = [e for e in _audit(platform) if e["action"] == "notice.refused"]
    assert [e["payload"]["code"] for e in refused] == ["content_from_platform_only"] * 2


def _received_types(platform: Platform) -> list[str]:
    return [json.loads(body)["type"] for _, body in platform.receiver.received]


def test_senior_legal_may_read_the_banks_as_legal_may(platform: Platform) -> None:
    _bank_media(platform, b"known material")
    for role in ("legal", "senior_legal"):
        headers = _key(platform, role)
        for path in ("/v1/banks", "/v1/banks/tvec", "/v1/banks/tvec/export"):
            answer = platform.client.get(path, headers=headers)
            assert answer.status_code == 200, (role, path, answer.text)
    refused = platform.client.get("/v1/banks", headers=_key(platform, "reviewer"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")


def test_console_sign_in_is_limited_per_client_across_wrong_keys(platform: Platform) -> None:
    browser = httpx.Client(base_url=str(platform.client.base_url), timeout=10)
    reviewer = _key(platform, "reviewer")["Authorization"].removeprefix("Bearer ")

    def sign_in(key: str) -> httpx.Response:
        token = csrf_token(browser.get("/console/login").text)
        return browser.post(
            "/console/login",
            data={"csrf": token, "api_key": key},
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    answers = [sign_in(f"vgl_000000000000_wrong{n}").status_code for n in range(10)]
    assert answers == [401] * 10
    limited = sign_in("vgl_000000000000_wrong-again")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["error"]["code"] == "too_many_sign_in_attempts"
    # the right key from the same client waits for the window too: guessing gains nothing
    assert sign_in(reviewer).status_code == 429
