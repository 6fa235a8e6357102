"""The whole flow as a user runs it: `vigil init`, `vigil serve`, a real webhook receiver, a restart."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path

import pytest

from tests.integration.live import (
    Vigil,
    assert_every_restriction_has_one_valid_statement,
    start_platform,
    wait_for,
)
from vigil.enforce.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, verify_signature

pytestmark = pytest.mark.e2e

PROPAGANDA = b"frame bytes of a known terrorist propaganda video"


def test_known_media_is_removed_enforced_once_and_delivered_after_a_crash(
    tmp_path: Path, env: dict[str, str], vigil: Vigil
) -> None:
    platform = start_platform(tmp_path, env, vigil)
    client, admin, receiver = platform.client, platform.admin, platform.receiver
    assert (
        client.post("/v1/banks", json={"name": "gifct", "category": "terrorism"}, headers=admin).status_code
        == 201
    )
    md5 = hashlib.md5(PROPAGANDA).hexdigest()
    client.post("/v1/banks/gifct/hashes", json={"hashes": [{"type": "md5", "value": md5}]}, headers=admin)
    post = {
        "id": "channel-42/post-1",
        "author_id": "user-7",
        "channel_id": "channel-42",
        "media": [
            {"id": "v1", "mime_type": "video/mp4", "data_base64": base64.b64encode(PROPAGANDA).decode()}
        ],
    }

    decided = client.post("/v1/content", json=post, headers=admin).json()

    assert decided["decision"]["outcome"] == "remove"
    assert decided["decision"]["category"] == "terrorism"
    wait_for(lambda: len(receiver.received) == 1)
    headers, body = receiver.received[0]
    verify_signature(platform.webhook_secret, headers[SIGNATURE_HEADER], body, now=int(time.time()))
    event = json.loads(body)
    assert event["decision_id"] == decided["decision_id"]
    assert event["subject"] == {"type": "content", "id": "channel-42/post-1"}
    assert event["actions"] == ["remove"]
    assert event["category"] == "terrorism"
    assert headers[EVENT_ID_HEADER] == event["id"]

    again = client.post("/v1/content", json=post, headers=admin).json()
    assert again["duplicate"] is True
    assert again["decision_id"] == decided["decision_id"]
    time.sleep(1.0)  # several delivery-loop polls: a second webhook would have arrived by now
    assert len(receiver.received) == 1

    # The platform's endpoint goes down; Vigil decides, fails to deliver, and is killed.
    receiver.stop()
    second = client.post("/v1/content", json={**post, "id": "channel-42/post-2"}, headers=admin).json()
    assert second["decision"]["outcome"] == "remove"
    wait_for(
        lambda: any(
            d["attempts"] >= 1 and d["state"] == "pending"
            for d in client.get("/v1/content/channel-42/post-2", headers=admin).json()["deliveries"]
        )
    )
    vigil.kill()

    receiver.start()  # the endpoint comes back on the same address
    vigil.start()  # and so does Vigil, with nothing but its database to go on

    wait_for(lambda: len(receiver.received) == 2)
    headers, body = receiver.received[1]
    verify_signature(platform.webhook_secret, headers[SIGNATURE_HEADER], body, now=int(time.time()))
    assert json.loads(body)["decision_id"] == second["decision_id"]
    deliveries = client.get("/v1/content/channel-42/post-2", headers=admin).json()["deliveries"]
    assert [d["state"] for d in deliveries] == ["delivered"]
    assert assert_every_restriction_has_one_valid_statement(platform) >= 1
    receiver.stop()
