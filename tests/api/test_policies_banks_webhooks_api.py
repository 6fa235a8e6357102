"""Policies, banks and webhooks over HTTP, including the dead-letter path."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.conftest import Api
from vigil.enforce.outbox import DeliveryLoop, RetryPolicy

GOOD_POLICY = """\
id: spam-links
when: "signals.exists(s, s.category == 'spam' && s.score >= 0.5)"
category: spam
ground:
  type: incompatible_content
  reference: "Terms § 4.7"
  explanation: "Bulk links."
actions: [label]
"""


def test_a_policy_with_a_typo_is_refused_with_its_line(api: Api) -> None:
    source = GOOD_POLICY.replace("actions: [label]", "actions: [lable]")
    response = api.client.post(
        "/v1/policies", json={"source": source, "file": "spam.yaml"}, headers=api.admin
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_policy"
    assert error["details"] == [
        {
            "file": "spam.yaml",
            "line": 8,
            "message": error["details"][0]["message"],
        }
    ]
    assert "did you mean 'label'" in error["message"]


def test_an_invalid_cel_condition_is_refused_and_nothing_is_applied(api: Api) -> None:
    source = GOOD_POLICY.replace("s.score >= 0.5)", "s.score >= )")
    response = api.client.post("/v1/policies", json={"source": source}, headers=api.admin)
    assert response.status_code == 422
    assert "invalid CEL condition" in response.json()["error"]["message"]
    assert response.json()["error"]["details"][0]["line"] == 2
    ids = [p["id"] for p in api.client.get("/v1/policies", headers=api.admin).json()]
    assert "spam-links" not in ids


def test_applying_a_changed_policy_creates_a_new_version_and_keeps_the_old(api: Api) -> None:
    first = api.client.post("/v1/policies", json={"source": GOOD_POLICY}, headers=api.admin).json()
    same = api.client.post("/v1/policies", json={"source": GOOD_POLICY}, headers=api.admin).json()
    changed = api.client.post(
        "/v1/policies", json={"source": GOOD_POLICY.replace("0.5", "0.6")}, headers=api.admin
    ).json()

    assert first == [{"id": "spam-links", "version": 1, "changed": True}]
    assert same == [{"id": "spam-links", "version": 1, "changed": False}]
    assert changed == [{"id": "spam-links", "version": 2, "changed": True}]
    versions = api.client.get("/v1/policies/spam-links/versions", headers=api.admin).json()
    assert [(v["version"], v["active"]) for v in versions] == [(1, False), (2, True)]
    assert "0.5" in versions[0]["source"]


def test_validate_checks_without_applying(api: Api) -> None:
    response = api.client.post("/v1/policies/validate", json={"source": GOOD_POLICY}, headers=api.admin)
    assert response.json() == {"ids": ["spam-links"]}
    assert api.client.get("/v1/policies/spam-links/versions", headers=api.admin).status_code == 404


def test_a_bad_hash_refuses_the_whole_addition(api: Api) -> None:
    api.client.post("/v1/banks", json={"name": "ncii", "category": "ncii"}, headers=api.admin)
    response = api.client.post(
        "/v1/banks/ncii/hashes",
        json={
            "hashes": [
                {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"},
                {"type": "md5", "value": "xyz"},
            ]
        },
        headers=api.admin,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_hash"
    assert response.json()["error"]["details"][0]["loc"] == "hashes.1.value"
    bank = api.client.get("/v1/banks/ncii", headers=api.admin).json()
    assert (bank["hash_count"], bank["version"]) == (0, 1)


def test_per_hash_metadata_sent_over_http_is_kept_in_its_own_fields(api: Api) -> None:
    api.client.post(
        "/v1/banks", json={"name": "gifct", "category": "terrorism", "source": "gifct"}, headers=api.admin
    )
    added = api.client.post(
        "/v1/banks/gifct/hashes",
        json={
            "hashes": [
                {
                    "type": "md5",
                    "value": "D41D8CD98F00B204E9800998ECF8427E",
                    "source_id": "G-77",
                    "note": "propaganda video",
                }
            ]
        },
        headers=api.admin,
    )
    assert added.status_code == 200
    exported = api.client.get("/v1/banks/gifct/export", headers=api.admin).text.splitlines()
    hash_type, value, category, source, source_id, _added_at, note = exported[1].split(",")
    assert (hash_type, value, category) == ("md5", "d41d8cd98f00b204e9800998ecf8427e", "terrorism")
    assert (source, source_id, note) == ("", "G-77", "propaganda video")


def test_bank_names_are_unique(api: Api) -> None:
    assert (
        api.client.post("/v1/banks", json={"name": "b1", "category": "csam"}, headers=api.admin).status_code
        == 201
    )
    again = api.client.post("/v1/banks", json={"name": "b1", "category": "csam"}, headers=api.admin)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_webhook_urls_must_be_http(api: Api) -> None:
    response = api.client.post("/v1/webhooks", json={"url": "file:///etc/passwd"}, headers=api.admin)
    assert response.status_code == 422


def test_undeliverable_webhooks_end_in_the_dead_letter_list_and_can_be_retried(api: Api) -> None:
    created = api.client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=api.admin)
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    api.client.post("/v1/banks", json={"name": "csam-list", "category": "csam"}, headers=api.admin)
    api.client.post(
        "/v1/banks/csam-list/hashes",
        json={"hashes": [{"type": "sha256", "value": "ab" * 32}]},
        headers=api.admin,
    )
    item = {"id": "p1", "author_id": "u", "media": [{"id": "m", "sha256": "AB" * 32}]}
    assert (
        api.client.post("/v1/content", json=item, headers=api.admin).json()["decision"]["outcome"] == "remove"
    )

    loop = DeliveryLoop(api.store, RetryPolicy(max_attempts=1), 1.0, 0.1, clock=lambda: datetime.now(UTC))
    try:
        assert loop.run_once() == 1
    finally:
        loop.stop()

    dead = api.client.get("/v1/webhooks/deliveries?state=dead", headers=api.admin).json()
    assert len(dead) == 1
    assert dead[0]["attempts"] == 1
    assert dead[0]["last_error"] == "connection_failed"  # a category, never the exception text
    retried = api.client.post(f"/v1/webhooks/deliveries/{dead[0]['id']}/retry", headers=api.admin)
    assert retried.status_code == 202
    assert api.client.get("/v1/webhooks/deliveries?state=dead", headers=api.admin).json() == []
    assert (
        api.client.post(f"/v1/webhooks/deliveries/{dead[0]['id']}/retry", headers=api.admin).status_code
        == 404
    )


def test_audit_verify_reports_an_intact_chain(api: Api) -> None:
    api.client.post("/v1/banks", json={"name": "b", "category": "spam"}, headers=api.admin)
    verdict = api.client.get("/v1/audit/verify", headers=api.admin).json()
    assert verdict["intact"] is True
    assert verdict["events_checked"] >= 2
    assert verdict["first_broken_seq"] is None
