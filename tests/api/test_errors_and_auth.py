"""Every refusal has the same shape, a 4xx status, and a code a client can branch on."""

from __future__ import annotations

from tests.api.conftest import Api
from vigil.domain.roles import Role


def test_missing_api_key_is_unauthenticated(api: Api) -> None:
    response = api.client.post("/v1/content", json={"id": "x", "author_id": "u"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_and_revoked_keys_are_refused(api: Api) -> None:
    token = api.key(Role.PLATFORM)
    key_id = token.split("_")[1]
    assert api.client.get("/v1/webhooks", headers=api.as_(token)).status_code == 200
    assert api.client.delete(f"/v1/keys/{key_id}", headers=api.admin).status_code == 200

    revoked = api.client.get("/v1/webhooks", headers=api.as_(token))
    garbage = api.client.get("/v1/webhooks", headers=api.as_("vgl_nothing_here"))

    assert revoked.status_code == garbage.status_code == 401
    assert revoked.json()["error"]["code"] == garbage.json()["error"]["code"] == "invalid_api_key"


def test_a_role_without_permission_is_forbidden(api: Api) -> None:
    reviewer = api.as_(api.key(Role.REVIEWER))
    response = api.client.post("/v1/banks", json={"name": "b", "category": "csam"}, headers=reviewer)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "reviewer" in response.json()["error"]["message"]
    flagger = api.as_(api.key(Role.TRUSTED_FLAGGER, bound_to="inhope-hotline"))
    assert (
        api.client.post("/v1/content", json={"id": "x", "author_id": "u"}, headers=flagger).status_code == 403
    )


def test_rotating_a_key_stops_the_old_one_and_starts_the_new_one(api: Api) -> None:
    old = api.key(Role.PLATFORM)
    rotated = api.client.post(f"/v1/keys/{old.split('_')[1]}/rotate", headers=api.admin)
    assert rotated.status_code == 201
    new = rotated.json()["key"]
    assert rotated.json()["role"] == "platform"
    assert api.client.get("/v1/webhooks", headers=api.as_(old)).status_code == 401
    assert api.client.get("/v1/webhooks", headers=api.as_(new)).status_code == 200


def test_key_listing_never_shows_secrets(api: Api) -> None:
    token = api.key(Role.AUDITOR)
    listing = api.client.get("/v1/keys", headers=api.admin)
    assert listing.status_code == 200
    assert token not in listing.text
    assert token.split("_", 2)[2] not in listing.text  # the secret, which may itself contain "_"


def test_bound_roles_must_name_their_organisation(api: Api) -> None:
    response = api.client.post("/v1/keys", json={"role": "authority"}, headers=api.admin)
    assert response.status_code == 422
    assert "bound_to" in response.json()["error"]["message"]


def test_malformed_json_is_a_400(api: Api) -> None:
    response = api.client.post(
        "/v1/content", content=b'{"id": "x", ', headers={**api.admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_wrong_types_and_unknown_fields_are_named(api: Api) -> None:
    response = api.client.post(
        "/v1/content", json={"id": "x", "author_id": "u", "reach": "lots", "colour": "red"}, headers=api.admin
    )
    assert response.status_code == 422
    locations = {d["loc"] for d in response.json()["error"]["details"]}
    assert {"reach", "colour"} <= locations


def test_oversized_bodies_are_refused_before_parsing(api: Api) -> None:
    big = {"id": "x", "author_id": "u", "text": "a" * (300 * 1024)}
    response = api.client.post("/v1/content", json=big, headers=api.admin)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_unknown_routes_use_the_error_shape(api: Api) -> None:
    response = api.client.get("/v1/nothing-here", headers=api.admin)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_openapi_describes_the_v1_areas(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/v1/content",
        "/v1/content/batch",
        "/v1/banks",
        "/v1/policies",
        "/v1/webhooks",
        "/v1/audit/verify",
    } <= paths


def test_nul_characters_are_refused_in_bodies_and_urls(api: Api) -> None:
    body = api.client.post(
        "/v1/content", json={"id": "x", "author_id": "u", "text": "a\x00b"}, headers=api.admin
    )
    url = api.client.get("/v1/banks/b%00x", headers=api.admin)
    assert body.status_code == url.status_code == 400
    assert body.json()["error"]["code"] == url.json()["error"]["code"] == "nul_character"
