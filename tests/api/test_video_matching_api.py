"""Known videos over HTTP: uploads hashed by vPDQ, device-side vPDQ hashes, hash lists with videos."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.api.conftest import Api
from tests.videos import make_video, transcode
from vigil.detect.hashing.video import hash_video_file
from vigil.domain.hashes import format_vpdq

SCENES = list(range(40, 52))


@pytest.fixture(scope="module")
def banked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("api-video") / "banked.mp4", SCENES)


def _video_bank(api: Api, banked: Path) -> str:
    vpdq = format_vpdq(hash_video_file(banked))
    api.client.post("/v1/banks", json={"name": "gifct-video", "category": "terrorism"}, headers=api.admin)
    added = api.client.post(
        "/v1/banks/gifct-video/hashes",
        json={"hashes": [{"type": "vpdq", "value": vpdq, "source_id": "G-9"}]},
        headers=api.admin,
    )
    assert added.json()["added"] == 1
    return vpdq


def _upload(content_id: str, video: Path) -> dict[str, object]:
    data = base64.b64encode(video.read_bytes()).decode()
    return {
        "id": content_id,
        "author_id": "u",
        "media": [{"id": "v", "mime_type": "video/mp4", "data_base64": data}],
    }


def test_a_reencoded_clip_of_a_banked_video_is_removed(api: Api, banked: Path, tmp_path: Path) -> None:
    _video_bank(api, banked)
    clip = transcode(banked, tmp_path / "clip.mp4", "-ss", "3", "-t", "5", "-vf", "scale=160:160")

    response = api.client.post("/v1/content", json=_upload("v1", clip), headers=api.admin).json()

    assert response["decision"]["outcome"] == "remove"
    [signal] = response["signals"]
    assert (signal["bank"], signal["hash_type"], signal["detector"]) == ("gifct-video", "vpdq", "vpdq_bank")
    assert signal["score"] == 1.0
    assert "100% of the video's frames" in signal["evidence"][0]["text"]


def test_an_unrelated_video_is_not_matched(api: Api, banked: Path, tmp_path: Path) -> None:
    _video_bank(api, banked)
    other = make_video(tmp_path / "other.mp4", [900, 901, 902, 903, 904])
    response = api.client.post("/v1/content", json=_upload("v2", other), headers=api.admin).json()
    assert response["decision"]["outcome"] == "no_action"
    assert response["signals"] == []


def test_a_platform_that_hashes_on_the_device_sends_vpdq_only(api: Api, banked: Path) -> None:
    vpdq = _video_bank(api, banked)
    item = {"id": "v3", "author_id": "u", "media": [{"id": "v", "vpdq": vpdq}]}
    decided = api.client.post("/v1/content", json=item, headers=api.admin).json()
    looked_up = api.client.post(
        "/v1/hashes/match", json={"hashes": [{"type": "vpdq", "value": vpdq}]}, headers=api.admin
    ).json()

    assert decided["decision"]["outcome"] == "remove"
    [result] = looked_up["results"]
    assert (result["matched"], result["matches"][0]["bank"]) == (True, "gifct-video")


def test_a_malformed_vpdq_hash_is_refused_with_its_location(api: Api) -> None:
    item = {"id": "v4", "author_id": "u", "media": [{"id": "v", "vpdq": '["abc,1,0"]'}]}
    response = api.client.post("/v1/content", json=item, headers=api.admin)
    assert response.status_code == 422
    assert "vpdq frame 0" in json.dumps(response.json())


def test_a_broken_video_is_decided_by_its_digests_and_the_answer_says_why(api: Api, banked: Path) -> None:
    data = banked.read_bytes()[:200]
    item = {
        "id": "v5",
        "author_id": "u",
        "media": [{"id": "v", "mime_type": "video/mp4", "data_base64": base64.b64encode(data).decode()}],
    }
    response = api.client.post("/v1/content", json=item, headers=api.admin).json()
    assert response["decision"]["outcome"] == "no_action"
    assert "a video matched by digest only" in response["warnings"][0]


def test_video_hash_lists_round_trip_through_threatexchange_lines(api: Api, banked: Path) -> None:
    vpdq = _video_bank(api, banked)
    exported = api.client.get("/v1/banks/gifct-video/export?format=threatexchange", headers=api.admin)
    assert exported.headers["content-type"].startswith("text/plain")
    assert exported.text == f"vpdq {vpdq}\n"

    api.client.post("/v1/banks", json={"name": "copy", "category": "terrorism"}, headers=api.admin)
    imported = api.client.post(
        "/v1/banks/copy/import",
        json={"format": "threatexchange", "content": exported.text},
        headers=api.admin,
    )
    assert imported.json()["added"] == 1
    csv_lines = api.client.get("/v1/banks/copy/export", headers=api.admin).text.splitlines()
    assert csv_lines[1].startswith('vpdq,"[')
