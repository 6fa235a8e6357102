"""Attacks found by probing Vigil as an attacker would, each replayed against `vigil serve` (issue 12).

Content forgery by trusted flaggers, signed clarifications replayed on other orders or questions,
and a role the route table forgot. Each test failed before its fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.live import Platform, Vigil, start_platform
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
    assert client.post("/v1/authorities", json=paris.registration(), headers=platform.admin).status_code == 201
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
