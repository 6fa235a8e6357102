"""`vigil hash` and `vigil scan`: what an operator runs over a folder of files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.api.cli import run
from tests.images import encode, photo_like
from tests.videos import make_video, transcode

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    files = tmp_path / "seized"
    (files / "nested").mkdir(parents=True)
    banked = photo_like(seed=7, size=384)
    (files / "banked.png").write_bytes(encode(banked, "PNG"))
    (files / "nested" / "copy-mirrored.jpg").write_bytes(encode(banked[:, ::-1], "JPEG", quality=70))
    (files / "unrelated.jpg").write_bytes(encode(photo_like(seed=12, size=256), "JPEG", quality=90))
    (files / "notes.txt").write_bytes(b"just text")
    (files / "empty.jpg").write_bytes(b"")
    return files


def test_hash_prints_pdq_with_quality_md5_and_sha256(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    code, out, _ = run(capsys, "hash", str(folder / "banked.png"), str(folder / "notes.txt"), "--json")
    image, text = (json.loads(line) for line in out.splitlines())
    assert code == 0
    assert (len(image["pdq"]), len(image["md5"]), len(image["sha256"])) == (64, 32, 64)
    assert image["pdq_quality"] >= 50
    assert (text["pdq"], text["error"]) == (None, None)


def test_scan_matches_a_folder_against_a_bank_built_from_media(
    capsys: pytest.CaptureFixture[str], folder: Path
) -> None:
    assert run(capsys, "init")[0] == 0
    run(capsys, "bank", "create", "seized-media", "--category", "csam")
    code, out, _ = run(capsys, "bank", "add", "seized-media", "--media", str(folder / "banked.png"), "--json")
    assert json.loads(out)["added"] == 15  # md5, sha256, PDQ and 12 cropped variants

    code, out, _ = run(capsys, "scan", str(folder), "--json", "--workers", "2")

    results = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert code == 0
    assert sorted(results) == ["banked.png", "copy-mirrored.jpg", "empty.jpg", "notes.txt", "unrelated.jpg"]
    assert {m["hash_type"] for m in results["banked.png"]["matches"]} == {"sha256", "pdq"}
    assert results["banked.png"]["decision"]["outcome"] == "remove"
    [near] = results["copy-mirrored.jpg"]["matches"]
    assert (near["bank"], near["hash_type"], near["distance"] <= 31) == ("seized-media", "pdq", True)
    assert results["unrelated.jpg"]["matches"] == []
    assert results["unrelated.jpg"]["decision"]["outcome"] == "no_action"
    assert results["empty.jpg"]["error"] == "empty file"
    assert results["notes.txt"]["error"] is None


def test_scan_of_a_missing_path_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "init")
    code, _, err = run(capsys, "scan", str(tmp_path / "nowhere"))
    assert code == 2
    assert "no such file or folder" in err


def test_a_bank_built_from_a_video_finds_a_reencoded_clip_of_it_in_a_scan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    banked = make_video(tmp_path / "propaganda.mp4", list(range(60, 70)))
    seized = tmp_path / "seized"
    seized.mkdir()
    transcode(banked, seized / "clip.mkv", "-ss", "2", "-t", "5", "-vf", "scale=200:200")
    make_video(seized / "holiday.mp4", [70, 71, 72, 73])
    run(capsys, "init")
    run(capsys, "bank", "create", "videos", "--category", "terrorism")

    code, out, _ = run(capsys, "bank", "add", "videos", "--media", str(banked), "--json")
    assert (code, json.loads(out)["added"]) == (0, 3)  # md5, sha256 and the vPDQ hash
    code, out, _ = run(capsys, "hash", str(banked), "--json")
    assert len(json.loads(json.loads(out)["vpdq"])) == 10  # a frame a second

    code, out, _ = run(capsys, "scan", str(seized), "--json", "--workers", "1")
    results = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    [match] = results["clip.mkv"]["matches"]
    assert (match["bank"], match["hash_type"]) == ("videos", "vpdq")
    assert results["clip.mkv"]["decision"]["outcome"] == "remove"
    assert results["holiday.mp4"]["matches"] == []


def test_a_file_that_is_not_a_video_is_refused_when_banked_as_media(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"not really" * 50)
    run(capsys, "init")
    run(capsys, "bank", "create", "videos", "--category", "terrorism")
    code, _, err = run(capsys, "bank", "add", "videos", "--media", str(fake))
    assert code == 2
    assert "not a readable video" in err
    assert "nothing was added" in err
