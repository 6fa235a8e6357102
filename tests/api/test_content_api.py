"""Submitting content over HTTP: decisions, idempotency, batches, and refusals that write nothing."""

from __future__ import annotations

import base64
import hashlib

from tests.api.conftest import Api
from vigil.domain.roles import Role

PROPAGANDA = b"\x89PNG...bytes of a known propaganda video frame"


def _bank_with(api: Api, data: bytes, name: str = "gifct-test", category: str = "terrorism") -> None:
    assert (
        api.client.post("/v1/banks", json={"name": name, "category": category}, headers=api.admin).status_code
        == 201
    )
    response = api.client.post(
        f"/v1/banks/{name}/hashes",
        json={"hashes": [{"type": "md5", "value": hashlib.md5(data).hexdigest().upper()}]},
        headers=api.admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 1


def _item(content_id: str, data: bytes | None = None, **extra: object) -> dict[str, object]:
    item: dict[str, object] = {"id": content_id, "author_id": "user-1", "text": "watch this", **extra}
    if data is not None:
        item["media"] = [
            {"id": "m1", "mime_type": "video/mp4", "data_base64": base64.b64encode(data).decode()}
        ]
    return item


def test_known_media_is_removed_with_the_policy_category(api: Api) -> None:
    _bank_with(api, PROPAGANDA)
    platform = api.as_(api.key(Role.PLATFORM))

    response = api.client.post(
        "/v1/content", json=_item("post-1", PROPAGANDA, country="DE"), headers=platform
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["duplicate"] is False
    decision = body["decision"]
    assert decision["outcome"] == "remove"
    assert decision["category"] == "terrorism"
    assert decision["ground"]["type"] == "illegal_content"
    assert decision["policies"] == ["terrorism-known-media@1"]
    assert decision["territorial_scope"] == "global"
    assert decision["automated_detection"] is True
    assert [s["bank"] for s in body["signals"]] == ["gifct-test"]


def test_resubmitting_a_content_id_returns_the_stored_decision_and_records_nothing_new(api: Api) -> None:
    _bank_with(api, PROPAGANDA)
    first = api.client.post("/v1/content", json=_item("post-1", PROPAGANDA), headers=api.admin).json()
    events_before = len(api.client.get("/v1/audit/events?limit=1000", headers=api.admin).json())

    again = api.client.post(
        "/v1/content", json=_item("post-1", b"different bytes now"), headers=api.admin
    ).json()

    assert again["duplicate"] is True
    assert again["decision_id"] == first["decision_id"]
    assert again["decision"] == first["decision"]
    assert len(api.client.get("/v1/audit/events?limit=1000", headers=api.admin).json()) == events_before


def test_stored_decision_can_be_read_back(api: Api) -> None:
    _bank_with(api, PROPAGANDA)
    submitted = api.client.post("/v1/content", json=_item("post-9", PROPAGANDA), headers=api.admin).json()

    stored = api.client.get("/v1/content/post-9", headers=api.as_(api.key(Role.REVIEWER)))

    assert stored.status_code == 200
    assert stored.json()["decision_id"] == submitted["decision_id"]
    assert stored.json()["decision"]["outcome"] == "remove"
    assert api.client.get("/v1/content/never-seen", headers=api.admin).json()["error"]["code"] == "not_found"


def test_clean_content_gets_no_action(api: Api) -> None:
    response = api.client.post("/v1/content", json=_item("post-2", text="Guten Morgen"), headers=api.admin)
    assert response.json()["decision"]["outcome"] == "no_action"
    assert response.json()["decision"]["actions"] == []


def test_batch_decides_each_item_in_order_and_repeats_within_a_batch_are_duplicates(api: Api) -> None:
    _bank_with(api, PROPAGANDA)
    items = [_item("a", PROPAGANDA), _item("b", text="hello"), _item("a", PROPAGANDA)]

    response = api.client.post("/v1/content/batch", json={"items": items}, headers=api.admin)

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["content_id"] for r in results] == ["a", "b", "a"]
    assert [r["decision"]["outcome"] for r in results] == ["remove", "no_action", "remove"]
    assert [r["duplicate"] for r in results] == [False, False, True]
    assert results[0]["decision_id"] == results[2]["decision_id"]


def test_a_batch_with_one_bad_item_is_refused_whole_and_writes_nothing(api: Api) -> None:
    events_before = api.client.get("/v1/audit/events?limit=1000", headers=api.admin).json()
    items = [_item("ok-1"), _item("bad", country="XX"), _item("ok-2")]

    response = api.client.post("/v1/content/batch", json={"items": items}, headers=api.admin)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(d["loc"] == "items.1.country" for d in error["details"])
    assert "unknown country code 'XX'" in error["message"]
    assert api.client.get("/v1/content/ok-1", headers=api.admin).status_code == 404
    assert api.client.get("/v1/audit/events?limit=1000", headers=api.admin).json() == events_before


def test_batches_hold_at_most_1000_items(api: Api) -> None:
    items = [{"id": f"i{n}", "author_id": "u"} for n in range(1001)]
    response = api.client.post("/v1/content/batch", json={"items": items}, headers=api.admin)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "batch_too_large"


def test_declared_digest_that_does_not_match_the_media_is_refused(api: Api) -> None:
    item = _item("p", b"real bytes")
    item["media"][0]["md5"] = "0" * 32  # type: ignore[index]
    response = api.client.post("/v1/content", json=item, headers=api.admin)
    assert response.status_code == 422
    assert "does not match" in response.json()["error"]["message"]


def test_media_can_be_sent_as_digests_only(api: Api) -> None:
    _bank_with(api, PROPAGANDA)
    item = _item("hashed-on-device")
    item["media"] = [{"id": "m", "md5": hashlib.md5(PROPAGANDA).hexdigest()}]
    assert (
        api.client.post("/v1/content", json=item, headers=api.admin).json()["decision"]["outcome"] == "remove"
    )


def test_invalid_base64_media_is_refused(api: Api) -> None:
    item = _item("p")
    item["media"] = [{"id": "m", "data_base64": "not base64!!"}]
    response = api.client.post("/v1/content", json=item, headers=api.admin)
    assert response.status_code == 422
    assert "base64" in response.json()["error"]["message"]


def test_text_is_classified_and_the_policies_act_on_what_the_classifier_found(api: Api) -> None:
    offer = "selling coke and weed, DM me on telegram, fast delivery"
    response = api.client.post(
        "/v1/content", json=_item("t1", text=offer, language="en"), headers=api.admin
    ).json()

    [drugs] = [s for s in response["signals"] if s["category"] == "drugs"]
    assert (drugs["detector"], drugs["kind"], drugs["language"]) == ("text_classifier", "classifier", "en")
    spans = [e for e in drugs["evidence"] if e["end"] > e["start"]]
    assert [offer[e["start"] : e["end"]] for e in spans] == [e["text"] for e in spans]
    # the last piece of evidence is the verifier's reading, with no span
    assert drugs["evidence"][-1]["text"].startswith("verified")
    assert response["decision"]["category"] == "drugs"
    assert response["decision"]["automated_detection"] is True
