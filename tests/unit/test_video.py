"""Video: a banked video is found again after re-encoding, resizing and cutting; others are not.

The videos are made by FFmpeg from generated scenes (``tests/videos.py``). Matching follows the
``vpdq`` package's semantics: the share of the query's distinct good frames that match a bank video.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.videos import make_video, transcode
from vigil.detect.hashing.digest_detector import BankRef
from vigil.detect.hashing.media import fingerprint, fingerprint_file
from vigil.detect.hashing.video import (
    VideoLimits,
    VideoRefusedError,
    hash_video_bytes,
    hash_video_file,
    looks_like_video,
)
from vigil.detect.hashing.video_detector import VideoEntry, VpdqBankIndex
from vigil.domain.hashes import (
    HashType,
    InvalidHashError,
    VideoFrame,
    format_vpdq,
    normalise_hash,
    parse_vpdq,
)
from vigil.domain.taxonomy import Category

BANK = BankRef("gifct-videos", 3, Category.TERRORISM)
SCENES = list(range(100, 120))  # 20 one-second scenes


@pytest.fixture(scope="module")
def banked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "banked.mp4", SCENES)


@pytest.fixture(scope="module")
def index(banked: Path) -> VpdqBankIndex:
    return VpdqBankIndex([VideoEntry(1, hash_video_file(banked), BANK, 31)], quality_threshold=50)


def test_a_video_is_hashed_a_frame_a_second_with_quality(banked: Path) -> None:
    frames = hash_video_file(banked)
    assert len(frames) == len(SCENES)
    assert [f.timestamp for f in frames] == [float(i) for i in range(len(SCENES))]
    assert all(f.quality >= 50 and len(f.pdq) == 64 for f in frames)
    assert hash_video_bytes(banked.read_bytes()) == frames


def test_the_video_itself_matches_fully(banked: Path, index: VpdqBankIndex) -> None:
    [found] = index.match(hash_video_file(banked))
    assert (found.bank, found.query_percent, found.bank_percent, found.distance) == (BANK, 100.0, 100.0, 0)


@pytest.mark.parametrize(
    ("edit", "arguments"),
    [
        ("re-encoded at low quality", ("-c:v", "libx264", "-crf", "38")),
        ("half size", ("-vf", "scale=128:128", "-c:v", "libx264")),
        ("greyscale", ("-vf", "hue=s=0", "-c:v", "libx264")),
        ("another frame rate and codec", ("-r", "24", "-c:v", "mpeg4", "-q:v", "5")),
    ],
)
def test_an_edited_copy_still_matches(
    banked: Path, index: VpdqBankIndex, tmp_path: Path, edit: str, arguments: tuple[str, ...]
) -> None:
    copy = transcode(banked, tmp_path / "copy.mp4", *arguments)
    [found] = index.match(hash_video_file(copy))
    assert found.query_percent >= 90, edit


def test_a_clip_cut_from_a_banked_video_matches(banked: Path, index: VpdqBankIndex, tmp_path: Path) -> None:
    clip = transcode(banked, tmp_path / "clip.mp4", "-ss", "5", "-t", "6", "-c:v", "libx264")
    [found] = index.match(hash_video_file(clip))
    assert found.query_percent == 100.0
    assert 20 <= found.bank_percent <= 40  # six of the twenty scenes


def test_a_banked_clip_inside_a_longer_upload_needs_most_of_the_upload(tmp_path: Path) -> None:
    # the upload is mostly other footage: 6 banked seconds out of 26 do not make 80% of it
    clip = make_video(tmp_path / "clip.mp4", SCENES[:6])
    longer = make_video(tmp_path / "longer.mp4", SCENES[:6] + list(range(300, 320)))
    strict = VpdqBankIndex([VideoEntry(1, hash_video_file(clip), BANK, 31)], quality_threshold=50)
    assert strict.match(hash_video_file(longer)) == []
    lenient = VpdqBankIndex(
        [VideoEntry(1, hash_video_file(clip), BANK, 31)], quality_threshold=50, query_percent=20.0
    )
    [found] = lenient.match(hash_video_file(longer))
    assert found.bank_percent == 100.0


def test_unrelated_videos_do_not_match(index: VpdqBankIndex, tmp_path: Path) -> None:
    for start in (500, 600, 700):
        other = make_video(tmp_path / f"other-{start}.mp4", list(range(start, start + 10)))
        assert index.match(hash_video_file(other)) == [], start


def test_low_quality_frames_are_left_out_on_both_sides() -> None:
    good = "f" * 64
    frames = (VideoFrame(good, 100, 0.0), VideoFrame("0" * 64, 10, 1.0))
    index = VpdqBankIndex([VideoEntry(1, frames, BANK, 31)], quality_threshold=50)
    # the query's only good frame matches the bank's only good frame: 100% both ways
    [found] = index.match((VideoFrame("0" * 64, 5, 0.0), VideoFrame(good, 90, 1.0)))
    assert (found.query_percent, found.bank_percent) == (100.0, 100.0)
    assert index.match((VideoFrame("0" * 64, 5, 0.0),)) == []


def test_videos_added_later_join_the_index_in_place(banked: Path) -> None:
    index = VpdqBankIndex([], quality_threshold=50)
    frames = hash_video_file(banked)
    assert index.match(frames) == []
    index.add([VideoEntry(7, frames, BANK, 31)])
    index.add([VideoEntry(7, frames, BANK, 31)])  # taken in once
    assert len(index) == 1
    assert [m.entry_id for m in index.match(frames)] == [7]


# --- the vPDQ text form --------------------------------------------------------------------------


def test_the_vpdq_text_form_round_trips_and_is_canonical() -> None:
    text = '["' + "AB" * 32 + ',87,0.0", "' + "cd" * 32 + ',100,1.5"]'
    frames = parse_vpdq(text)
    assert frames == (VideoFrame("ab" * 32, 87, 0.0), VideoFrame("cd" * 32, 100, 1.5))
    assert parse_vpdq(format_vpdq(frames)) == frames
    assert normalise_hash(HashType.VPDQ, text) == format_vpdq(frames)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON"),
        ("[]", "non-empty"),
        ('{"a": 1}', "non-empty JSON list"),
        ('["abc,1,0"]', "frame 0"),
        ('["' + "a" * 64 + ',101,0"]', "quality 101"),
        ('["' + "a" * 64 + ',50,-1"]', "timestamp"),
        ('["' + "a" * 64 + ',50,nan"]', "timestamp"),
        ('["' + "a" * 64 + ',50"]', "pdq_hex,quality,timestamp"),
    ],
)
def test_a_malformed_vpdq_hash_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidHashError, match=reason):
        parse_vpdq(text)


# --- hostile files ---------------------------------------------------------------------------------


def test_files_that_only_pretend_to_be_video_are_refused_not_crashed_on(banked: Path) -> None:
    data = banked.read_bytes()
    truncated = fingerprint(data[: len(data) // 3], expect_image=False)
    assert looks_like_video(data[: len(data) // 3])
    assert truncated.vpdq == () or len(truncated.vpdq) < len(SCENES)
    fake = b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100
    found = fingerprint(fake, expect_image=False)
    assert (found.vpdq, found.md5 is not None) == ((), True)
    assert found.video_refused is not None
    assert "not a readable video" in found.video_refused


def test_a_video_over_the_duration_limit_is_refused_before_decoding(banked: Path) -> None:
    with pytest.raises(VideoRefusedError, match="the limit is 10 s"):
        hash_video_file(banked, VideoLimits(max_seconds=10))
    with pytest.raises(VideoRefusedError, match="larger than"):
        hash_video_file(banked, VideoLimits(max_pixels=100 * 100))


def test_scanning_a_video_file_hashes_it_from_disk(banked: Path) -> None:
    found = fingerprint_file(banked)
    assert len(found.vpdq) == len(SCENES)
    assert found.md5 == fingerprint(banked.read_bytes(), expect_image=False).md5
