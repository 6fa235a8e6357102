"""A removal order as an authority sends it, against `vigil serve` and a real webhook receiver."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.live import (
    Vigil,
    assert_every_restriction_has_one_valid_statement,
    start_platform,
    wait_for,
)
from tests.order_fixtures import SigningAuthority, removal_order
from vigil.enforce.webhooks import SIGNATURE_HEADER, verify_signature

pytestmark = pytest.mark.e2e


def test_a_signed_removal_order_is_enforced_answered_and_preserved_well_inside_the_hour(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    platform = start_platform(tmp_path, env, vigil)
    client, admin, receiver = platform.client, platform.admin, platform.receiver
    paris = SigningAuthority("fr-ocrv", "FR", ["tco_removal"], "OCRV Paris")
    assert client.post("/v1/authorities", json=paris.registration(), headers=admin).status_code == 201
    minted = client.post("/v1/keys", json={"role": "authority", "bound_to": paris.id}, headers=admin)
    assert minted.status_code == 201, minted.text
    key = minted.json()["key"]
    item = {
        "id": "channel-9/post-77",
        "author_id": "user-3",
        "channel_id": "channel-9",
        "text": "new video, share it",
    }
    assert client.post("/v1/content", json=item, headers=admin).status_code == 200

    body, headers = paris.signed(removal_order(paris, "OCRV-2026-0042", "channel-9/post-77"), key)
    sent = time.monotonic()
    response = client.post("/v1/orders", content=body, headers=headers)

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["state"] == "executed"
    wait_for(lambda: len(receiver.received) == 1)
    arrived = time.monotonic()
    webhook_headers, webhook_body = receiver.received[0]
    verify_signature(
        platform.webhook_secret, webhook_headers[SIGNATURE_HEADER], webhook_body, now=int(time.time())
    )
    event = json.loads(webhook_body)
    assert event["subject"] == {"type": "content", "id": "channel-9/post-77"}
    assert event["actions"] == ["geo_restrict", "notify_user"]
    assert arrived - sent < 60  # the law allows an hour; Vigil needs seconds

    def answered() -> bool:
        state: str = client.get(
            f"/v1/orders/{order['id']}", headers={"Authorization": f"Bearer {key}"}
        ).json()["state"]
        return state == "answered"

    wait_for(answered)
    seen = client.get(f"/v1/orders/{order['id']}", headers={"Authorization": f"Bearer {key}"}).json()
    received_at = datetime.fromisoformat(seen["received_at"])
    confirmed_at = datetime.fromisoformat(seen["effect_confirmed_at"])
    assert timedelta(0) <= confirmed_at - received_at < timedelta(minutes=1)
    assert seen["late"] is False
    preserved_until = datetime.fromisoformat(seen["effect"]["preservation"]["until"].replace("Z", "+00:00"))
    assert preserved_until - received_at >= timedelta(days=182)

    # the same order again is a replay: refused, and nothing more reaches the platform
    replay = client.post("/v1/orders", content=body, headers=headers)
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "order_replayed"
    time.sleep(1.0)
    assert len(receiver.received) == 1
    audit = client.get("/v1/audit/events", headers=admin, params={"limit": 1000}).json()
    actions = [e["action"] for e in audit]
    assert "order.received" in actions
    assert "order.rejected" in actions
    assert assert_every_restriction_has_one_valid_statement(platform) >= 1
    receiver.stop()
