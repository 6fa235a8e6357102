"""Fingerprinting one media file: its digests always, its PDQ hashes when it is an image."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.detect.hashing.digests import digest_bytes
from vigil.detect.hashing.pdq import (
    DEFAULT_LIMITS,
    ImageLimits,
    ImageRefusedError,
    decode_image,
    pdq_crop_variants,
    pdq_dihedral,
    pdq_hash,
)
from vigil.domain.hashes import HashType, ListedHash


@dataclass(frozen=True, slots=True)
class MediaFingerprint:
    """What Vigil keeps of a media file instead of the file."""

    md5: str
    sha256: str
    size_bytes: int
    pdq: tuple[str, ...]  # the image's PDQ hash, then its other dihedral hashes; empty if no image
    pdq_quality: int | None
    image_refused: ImageRefusedError | None  # why there is no PDQ, when the file was expected to be an image


def fingerprint(data: bytes, expect_image: bool, limits: ImageLimits = DEFAULT_LIMITS) -> MediaFingerprint:
    """Hash ``data``; PDQ is tried on anything that may be an image.

    A file that is not an image, or that is refused as one (too large, a decompression bomb), still
    gets its digests: the exact-match banks can still find it.
    """
    digests = digest_bytes(data)
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
