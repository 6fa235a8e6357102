"""Evidence over HTTP and on the command line: the platform preserves media for the decisions that
ask for it, only the roles allowed read it back (each read audited), and Vigil refuses to start
with a key it cannot use."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.cli import run
from tests.api.conftest import Api
from tests.review_fixtures import ABUSE
from vigil.api.app import create_app
from vigil.cli import serving
from vigil.config import Settings
from vigil.domain.hashes import HashType, ListedHash
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.pipeline.admin import Admin

KEY = base64.b64encode(os.urandom(32)).decode()
MAX_MEDIA = 64 * 1024


@pytest.fixture
def keyed(api: Api) -> Iterator[Api]:
    """The same Vigil, with an evidence key configured."""
    settings: Settings = api.client.app.state.settings  # type: ignore[attr-defined]
    configured = settings.model_copy(update={"evidence_keys": f"2026-03:{KEY}", "max_media_bytes": MAX_MEDIA})
    with TestClient(create_app(configured, api.store)) as client:
        yield Api(client, api.store, api.admin_key)


def _known_abuse(api: Api) -> None:
    admin = Admin(api.store)
    admin.create_bank("ncmec", Category.CSAM, "ncmec", 31, "test")
    admin.add_hashes("ncmec", [ListedHash(HashType.MD5, hashlib.md5(ABUSE).hexdigest())], "test")


def _submit(api: Api, platform: dict[str, str], content_id: str, media: dict[str, str]) -> dict[str, object]:
    item = {"id": content_id, "author_id": "user-7", "text": "look", "media": [{"id": "m1", **media}]}
    response = api.client.post("/v1/content", json=item, headers=platform)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _audited_reads(api: Api) -> list[dict[str, object]]:
    events = api.client.get("/v1/audit/events", params={"limit": 1000}, headers=api.admin).json()
    return [e for e in events if e["action"] == "evidence.read"]


def test_media_sent_inline_is_kept_and_only_child_safety_roles_read_it_back(keyed: Api) -> None:
    _known_abuse(keyed)
    platform = keyed.as_(keyed.key(Role.PLATFORM))
    trained = keyed.as_(keyed.key(Role.CHILD_SAFETY_REVIEWER))

    inline = {"mime_type": "image/jpeg", "data_base64": base64.b64encode(ABUSE).decode()}
    submitted = _submit(keyed, platform, "abuse-1", inline)
    decision_id = submitted["decision_id"]

    listed = keyed.client.get("/v1/evidence", params={"decision_id": decision_id}, headers=trained)
    assert listed.status_code == 200, listed.text
    items = {item["kind"]: item for item in listed.json()}
    assert set(items) == {"media", "metadata"}
    media = items["media"]
    assert (media["media_id"], media["sha256"], media["readable"]) == (
        "m1",
        hashlib.sha256(ABUSE).hexdigest(),
        True,
    )
    read = keyed.client.get(f"/v1/evidence/{media['id']}/content", headers=trained)
    assert read.status_code == 200
    assert read.content == ABUSE
    assert read.headers["cache-control"] == "no-store"
    assert read.headers["content-disposition"].startswith("attachment")
    assert read.headers["x-content-type-options"] == "nosniff"
    assert read.headers["content-type"] == "image/jpeg"

    for role in (Role.REVIEWER, Role.ADMIN, Role.PLATFORM, Role.AUDITOR):
        refused = keyed.client.get(f"/v1/evidence/{media['id']}/content", headers=keyed.as_(keyed.key(role)))
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    reviewer = keyed.as_(keyed.key(Role.REVIEWER))
    hidden = keyed.client.get("/v1/evidence", params={"decision_id": decision_id}, headers=reviewer)
    assert hidden.status_code == 403
    oversight = keyed.client.get(
        "/v1/evidence", params={"decision_id": decision_id}, headers=keyed.as_(keyed.key(Role.AUDITOR))
    )
    assert [item["readable"] for item in oversight.json()] == [False, False]

    [audited] = _audited_reads(keyed)
    payload = audited["payload"]
    assert isinstance(payload, dict)
    assert (audited["subject_id"], payload["role"]) == (media["id"], "child_safety_reviewer")
    assert keyed.client.get("/v1/audit/verify", headers=keyed.admin).json()["intact"] is True


def test_the_platform_uploads_the_media_of_a_decision_that_asked_to_preserve_it(keyed: Api) -> None:
    _known_abuse(keyed)
    platform = keyed.as_(keyed.key(Role.PLATFORM))
    legal = keyed.as_(keyed.key(Role.LEGAL))
    # the platform hashes on the device: Vigil has the MD5, not the bytes
    submitted = _submit(keyed, platform, "abuse-1", {"md5": hashlib.md5(ABUSE).hexdigest()})
    decision_id = submitted["decision_id"]
    harmless = _submit(keyed, platform, "cat-1", {"md5": "0" * 32})["decision_id"]

    def upload(data: bytes, **fields: object) -> tuple[int, dict[str, object]]:
        body = {
            "decision_id": decision_id,
            "media_id": "m1",
            "mime_type": "image/jpeg",
            "data_base64": base64.b64encode(data).decode(),
            **fields,
        }
        response = keyed.client.post("/v1/evidence", json=body, headers=platform)
        return response.status_code, response.json()

    status, kept = upload(ABUSE)
    again_status, again = upload(ABUSE)

    assert (status, again_status, again["id"]) == (201, 200, kept["id"])
    assert (kept["kind"], kept["size_bytes"], kept["readable"]) == ("media", len(ABUSE), False)
    for data, fields, expected in (
        (b"other bytes", {}, (422, "hash_mismatch")),
        (ABUSE, {"media_id": "m9"}, (422, "unknown_media")),
        (ABUSE, {"decision_id": harmless}, (422, "not_preserved")),
        (ABUSE, {"decision_id": "dec_missing"}, (404, "not_found")),
        (b"x" * (MAX_MEDIA + 1), {}, (413, "media_too_large")),
        (ABUSE, {"extra": 1}, (422, "validation_error")),
    ):
        code, body = upload(data, **fields)
        assert (code, body["error"]["code"]) == expected, body  # type: ignore[index]
    broken = keyed.client.post(
        "/v1/evidence",
        json={"decision_id": decision_id, "media_id": "m1", "data_base64": "!!!"},
        headers=platform,
    )
    assert (broken.status_code, broken.json()["error"]["code"]) == (422, "validation_error")
    reviewer_upload = keyed.client.post(
        "/v1/evidence",
        json={"decision_id": decision_id, "media_id": "m1", "data_base64": "eA=="},
        headers=keyed.as_(keyed.key(Role.REVIEWER)),
    )
    assert reviewer_upload.status_code == 403

    listed = keyed.client.get("/v1/evidence", params={"decision_id": decision_id}, headers=legal).json()
    assert sorted(item["kind"] for item in listed) == ["media", "metadata"]
    assert keyed.client.get(f"/v1/evidence/{kept['id']}/content", headers=legal).content == ABUSE
    metadata = next(item for item in listed if item["kind"] == "metadata")
    snapshot = keyed.client.get(f"/v1/evidence/{metadata['id']}/content", headers=legal)
    assert snapshot.headers["content-type"] == "application/json"
    assert snapshot.json()["decision_id"] == decision_id
    assert [e["subject_id"] for e in _audited_reads(keyed)] == [kept["id"], metadata["id"]]
    missing = keyed.client.get("/v1/evidence/ev_missing/content", headers=legal)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


def test_without_keys_evidence_is_off_and_nothing_is_kept(api: Api) -> None:
    _known_abuse(api)
    platform = api.as_(api.key(Role.PLATFORM))
    submitted = _submit(api, platform, "abuse-1", {"data_base64": base64.b64encode(ABUSE).decode()})

    upload = api.client.post(
        "/v1/evidence",
        json={"decision_id": submitted["decision_id"], "media_id": "m1", "data_base64": "eA=="},
        headers=platform,
    )
    listed = api.client.get(
        "/v1/evidence",
        params={"decision_id": submitted["decision_id"]},
        headers=api.as_(api.key(Role.CHILD_SAFETY_REVIEWER)),
    )

    assert (upload.status_code, upload.json()["error"]["code"]) == (503, "evidence_off")
    assert (listed.status_code, listed.json()) == (200, [])


# --- the command line ------------------------------------------------------------------------------


def test_serve_refuses_a_malformed_evidence_key_in_one_line_and_warns_when_there_is_none(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: Path
) -> None:
    run(capsys, "init")
    short = base64.b64encode(b"sixteen byte key").decode()
    monkeypatch.setenv("VIGIL_EVIDENCE_KEYS", f"2026-03:{short}")

    code, _, err = run(capsys, "serve")

    assert code == 2
    assert err == (
        "vigil: VIGIL_EVIDENCE_KEYS: key 1 ('2026-03') is 16 bytes; "
        "it must be 32 random bytes, base64-encoded\n"
    )
    assert short not in err

    monkeypatch.delenv("VIGIL_EVIDENCE_KEYS")
    served: list[object] = []
    monkeypatch.setattr(serving, "serve_app", lambda application, *_: served.append(application))
    code, _, err = run(capsys, "serve")
    assert (code, len(served)) == (0, 1)
    assert err == "vigil: warning: evidence preservation is off; set VIGIL_EVIDENCE_KEYS to keep evidence\n"


def test_serve_refuses_a_hotline_without_its_reporter_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: Path
) -> None:
    run(capsys, "init")
    monkeypatch.setenv("VIGIL_HOTLINE_URL", "https://exttest.cybertip.org/ispws")
    monkeypatch.setenv("VIGIL_HOTLINE_USERNAME", "example")
    monkeypatch.setenv("VIGIL_HOTLINE_PASSWORD", "secret")

    code, _, err = run(capsys, "serve")

    assert (code, err) == (
        2,
        "vigil: VIGIL_HOTLINE_URL is set, so VIGIL_HOTLINE_REPORTER_FILE must be set too\n",
    )


def test_evidence_purge_and_rotate_from_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database: Path
) -> None:
    run(capsys, "init")

    code, _, err = run(capsys, "evidence", "rotate")
    assert (code, err) == (
        2,
        "vigil: no evidence keys: set VIGIL_EVIDENCE_KEYS to the new key first, then the keys in use\n",
    )
    monkeypatch.setenv("VIGIL_EVIDENCE_KEYS", "2026-03")
    code, _, err = run(capsys, "evidence", "purge")
    assert code == 2
    assert err.startswith("vigil: VIGIL_EVIDENCE_KEYS: key 1 is not written as 'id:base64'")
    assert err.count("\n") == 1

    monkeypatch.setenv("VIGIL_EVIDENCE_KEYS", f"2026-03:{KEY}")
    code, out, _ = run(capsys, "evidence", "purge", "--json")
    assert (code, json.loads(out)) == (0, {"deleted": 0})
    code, out, _ = run(capsys, "evidence", "rotate", "--json")
    assert (code, json.loads(out)) == (0, {"rotated": 0, "key_id": "2026-03"})
