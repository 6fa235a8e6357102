"""Known-media matching over HTTP: PDQ on submitted images, hash-only look-ups, hash-list files."""

from __future__ import annotations

import base64

import numpy as np

from tests.api.conftest import Api
from tests.images import encode, photo_like
from tests.provenance_fixtures import jpeg_with_xmp, xmp_packet
from vigil.detect.hashing.pdq import pdq_hash
from vigil.domain.roles import Role

BANKED = photo_like(seed=7, size=384)
BANKED_PDQ = pdq_hash(BANKED).value


def _pdq_bank(api: Api, name: str = "gifct-pdq") -> None:
    api.client.post("/v1/banks", json={"name": name, "category": "terrorism"}, headers=api.admin)
    added = api.client.post(
        f"/v1/banks/{name}/hashes", json={"hashes": [{"type": "pdq", "value": BANKED_PDQ}]}, headers=api.admin
    )
    assert added.json()["added"] == 1


def _image_item(content_id: str, image: np.ndarray) -> dict[str, object]:
    data = base64.b64encode(encode(image, "JPEG", quality=70)).decode()
    return {
        "id": content_id,
        "author_id": "u",
        "media": [{"id": "img", "mime_type": "image/jpeg", "data_base64": data}],
    }


def test_a_mirrored_recompressed_copy_of_a_banked_image_is_removed(api: Api) -> None:
    _pdq_bank(api)

    response = api.client.post(
        "/v1/content", json=_image_item("p1", BANKED[:, ::-1]), headers=api.admin
    ).json()

    assert response["decision"]["outcome"] == "remove"
    [signal] = [s for s in response["signals"] if s["kind"] == "hash_match"]
    assert (signal["bank"], signal["hash_type"]) == ("gifct-pdq", "pdq")
    assert 0 <= signal["distance"] <= 31
    assert response["warnings"] == []


def test_an_unrelated_image_is_not_matched(api: Api) -> None:
    _pdq_bank(api)
    response = api.client.post(
        "/v1/content", json=_image_item("p2", photo_like(seed=8, size=384)), headers=api.admin
    )
    assert response.json()["decision"]["outcome"] == "no_action"


def test_a_flat_image_is_not_matched_by_pdq_and_the_answer_says_why(api: Api) -> None:
    flat = np.full((256, 256, 3), 120, dtype=np.uint8)
    response = api.client.post("/v1/content", json=_image_item("p3", flat), headers=api.admin).json()
    assert response["decision"]["outcome"] == "no_action"
    assert "PDQ quality" in response["warnings"][0]


def test_a_broken_image_is_still_decided_by_its_digests_and_the_answer_says_why(api: Api) -> None:
    item = {
        "id": "p4",
        "author_id": "u",
        "media": [
            {"id": "m", "mime_type": "image/png", "data_base64": base64.b64encode(b"\x89PNG broken").decode()}
        ],
    }
    response = api.client.post("/v1/content", json=item, headers=api.admin).json()
    assert response["decision"]["outcome"] == "no_action"
    assert "not matched by PDQ" in response["warnings"][0]


def test_hash_only_lookup_matches_digests_exactly_and_pdq_by_distance(api: Api) -> None:
    _pdq_bank(api)
    api.client.post("/v1/banks", json={"name": "ncii", "category": "ncii"}, headers=api.admin)
    api.client.post(
        "/v1/banks/ncii/hashes",
        json={"hashes": [{"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"}]},
        headers=api.admin,
    )
    near = format(int(BANKED_PDQ, 16) ^ 0b1011, "064x")  # three bits flipped
    platform = api.as_(api.key(Role.PLATFORM))

    response = api.client.post(
        "/v1/hashes/match",
        json={
            "hashes": [
                {"type": "md5", "value": "D41D8CD98F00B204E9800998ECF8427E"},
                {"type": "pdq", "value": near, "quality": 90},
                {"type": "pdq", "value": near, "quality": 20},
                {"type": "sha256", "value": "ab" * 32},
            ]
        },
        headers=platform,
    )

    assert response.status_code == 200, response.text
    md5, pdq, low, unknown = response.json()["results"]
    assert md5["matches"] == [{"bank": "ncii", "category": "ncii", "hash_type": "md5", "distance": 0}]
    assert pdq["matches"] == [
        {"bank": "gifct-pdq", "category": "terrorism", "hash_type": "pdq", "distance": 3}
    ]
    assert (low["matched"], low["matches"]) == (False, [])
    assert "below 50" in low["note"]
    assert unknown["matched"] is False


def test_hash_only_lookup_refuses_malformed_hashes(api: Api) -> None:
    response = api.client.post(
        "/v1/hashes/match", json={"hashes": [{"type": "pdq", "value": "abc"}]}, headers=api.admin
    )
    assert response.status_code == 422
    assert "not a pdq hash" in response.json()["error"]["message"]


def test_hash_lists_import_all_or_nothing_and_export_as_csv(api: Api) -> None:
    api.client.post(
        "/v1/banks", json={"name": "hotline", "category": "csam", "source": "ncmec"}, headers=api.admin
    )
    good = "d41d8cd98f00b204e9800998ecf8427e"
    content = f"{good}\nnot-a-hash\n"

    refused = api.client.post(
        "/v1/banks/hotline/import",
        json={"format": "plain", "type": "md5", "content": content},
        headers=api.admin,
    )
    partial = api.client.post(
        "/v1/banks/hotline/import",
        json={"format": "plain", "type": "md5", "content": content, "partial": True},
        headers=api.admin,
    )
    exported = api.client.get("/v1/banks/hotline/export", headers=api.admin)

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "rows_refused"
    assert refused.json()["error"]["details"][0]["loc"] == "content.line.2"
    assert partial.status_code == 200
    assert (partial.json()["added"], partial.json()["refused"][0]["line"]) == (1, 2)
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[1].startswith(f"md5,{good},csam,")


def test_provenance_read_from_an_upload_is_part_of_the_decision_and_kept_with_the_item(api: Api) -> None:
    tagged = jpeg_with_xmp(
        encode(photo_like(seed=21, size=256), "JPEG", quality=90),
        xmp_packet("http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"),
    )
    item = {
        "id": "ai-1",
        "author_id": "u",
        "media": [{"id": "img", "mime_type": "image/jpeg", "data_base64": base64.b64encode(tagged).decode()}],
    }

    answered = api.client.post("/v1/content", json=item, headers=api.admin).json()
    stored = api.client.get("/v1/content/ai-1", headers=api.admin).json()

    [provenance] = [s for s in answered["signals"] if s["kind"] == "provenance"]
    assert (provenance["detector"], provenance["label"], provenance["category"]) == (
        "iptc_metadata",
        "ai_generated",
        "",
    )
    assert provenance["media_id"] == "img"
    assert "trainedAlgorithmicMedia" in provenance["evidence"][0]["text"]
    assert provenance in stored["signals"]
