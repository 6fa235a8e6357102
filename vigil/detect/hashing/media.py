"""Fingerprinting one media file: its digests always, PDQ hashes of an image, vPDQ of a video."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vigil.detect.hashing.digests import Digests, digest_bytes
from vigil.detect.hashing.pdq import (
    DEFAULT_LIMITS,
    ImageLimits,
    ImageRefusedError,
    decode_image,
    pdq_crop_variants,
    pdq_dihedral,
    pdq_hash,
)
from vigil.detect.hashing.video import (
    DEFAULT_VIDEO_LIMITS,
    VideoHashingUnavailableError,
    VideoLimits,
    VideoRefusedError,
    hash_video_bytes,
    hash_video_file,
    looks_like_video,
)
from vigil.domain.hashes import HashType, ListedHash, VideoFrame, format_vpdq


@dataclass(frozen=True, slots=True)
class MediaFingerprint:
    """What Vigil keeps of a media file instead of the file."""

    md5: str
    sha256: str
    size_bytes: int
    pdq: tuple[str, ...]  # the image's PDQ hash, then its other dihedral hashes; empty if no image
    pdq_quality: int | None
    image_refused: ImageRefusedError | None  # why there is no PDQ, when the file was expected to be an image
    vpdq: tuple[VideoFrame, ...] = ()  # a video's frame hashes; empty if not a video
    video_refused: str | None = None  # why a file that looks like a video has no vPDQ hash


def _video(digests: Digests, size: int, hasher: Callable[[], tuple[VideoFrame, ...]]) -> MediaFingerprint:
    try:
        return MediaFingerprint(digests.md5, digests.sha256, size, (), None, None, vpdq=hasher())
    except (VideoRefusedError, VideoHashingUnavailableError) as exc:
        return MediaFingerprint(digests.md5, digests.sha256, size, (), None, None, video_refused=str(exc))


def fingerprint(
    data: bytes,
    expect_image: bool,
    limits: ImageLimits = DEFAULT_LIMITS,
    video_limits: VideoLimits = DEFAULT_VIDEO_LIMITS,
) -> MediaFingerprint:
    """Hash ``data``; vPDQ is tried on what looks like a video, PDQ on anything else that may be an image.

    A file that is not an image, or that is refused as one (too large, a decompression bomb), still
    gets its digests: the exact-match banks can still find it. So does a video that cannot be hashed.
    """
    digests = digest_bytes(data)
    if looks_like_video(data):
        return _video(digests, len(data), lambda: hash_video_bytes(data, video_limits))
    pdq: tuple[str, ...] = ()
    quality: int | None = None
    refused: ImageRefusedError | None = None
    try:
        hashes = pdq_dihedral(decode_image(data, limits))
        pdq = tuple(h.value for h in hashes)
        quality = hashes[0].quality
    except ImageRefusedError as exc:
        if expect_image:
            refused = exc
    return MediaFingerprint(digests.md5, digests.sha256, len(data), pdq, quality, refused)


def fingerprint_file(
    path: Path, limits: ImageLimits = DEFAULT_LIMITS, video_limits: VideoLimits = DEFAULT_VIDEO_LIMITS
) -> MediaFingerprint:
    """Fingerprint a file on disk: a video is digested as a stream and hashed from the file itself,
    so it is never held in memory whole; anything else must be within the image size limit.

    Raises OSError when the file cannot be read and ValueError when it is empty or too large.
    """
    with path.open("rb") as handle:
        head = handle.read(4096)
        if not head:
            raise ValueError("empty file")
        if looks_like_video(head):
            size = path.stat().st_size
            if size > video_limits.max_bytes:
                raise ValueError(f"larger than {video_limits.max_bytes} bytes")
            md5, sha256 = hashlib.md5(head, usedforsecurity=False), hashlib.sha256(head)
            while block := handle.read(1 << 20):
                md5.update(block)
                sha256.update(block)
            digests = Digests(md5.hexdigest(), sha256.hexdigest())
            return _video(digests, size, lambda: hash_video_file(path, video_limits))
        if path.stat().st_size > limits.max_bytes:
            raise ValueError(f"larger than {limits.max_bytes} bytes")
        data = head + handle.read()
    return fingerprint(data, expect_image=False, limits=limits, video_limits=video_limits)


def bank_hashes(
    data: bytes, note: str, quality_threshold: int, limits: ImageLimits = DEFAULT_LIMITS
) -> list[ListedHash]:
    """What a bank that holds the media itself stores for one file.

    The digests always; for an image also its PDQ hash and the PDQ hashes of cropped variants, so
    that copies with a border cut off still match (PDQ alone misses most crops). Hash lists from
    partners carry no media and get none of the extra hashes. An image of too little detail gets no
    PDQ hash at all: it would sit close to many unrelated images.
    """
    digests = digest_bytes(data)
    listed = [
        ListedHash(HashType.MD5, digests.md5, note=note),
        ListedHash(HashType.SHA256, digests.sha256, note=note),
    ]
    if looks_like_video(data):
        # a bank holds the video's own frames (the video hash), however they will be matched;
        # a video that cannot be hashed is refused rather than banked by digest only unnoticed
        listed.append(ListedHash(HashType.VPDQ, format_vpdq(hash_video_bytes(data)), note=note))
        return listed
    try:
        image = decode_image(data, limits)
    except ImageRefusedError:
        return listed
    own = pdq_hash(image)
    if own.quality < quality_threshold:
        return listed
    listed.append(ListedHash(HashType.PDQ, own.value, note=note))
    listed.extend(
        ListedHash(HashType.PDQ, variant.value, note=f"{note} (cropped variant)")
        for variant in pdq_crop_variants(image)
    )
    return listed
