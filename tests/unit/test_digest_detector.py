"""Exact bank matching: one hash_match signal per bank and media item, nothing for unknown media."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigil.detect.base import DetectorRegistry
from vigil.detect.hashing.digest_detector import BankRef, DigestBankDetector, DigestEntry, DigestIndex
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.hashes import HashType
from vigil.domain.signals import Signal, SignalKind
from vigil.domain.taxonomy import Category

CSAM_BANK = BankRef("ncmec-csam", 7, Category.CSAM)
INTERNAL_BANK = BankRef("internal-removed", 2, Category.SPAM)
TERROR_BANK = BankRef("gifct-terror", 12, Category.TERRORISM)

KNOWN_MD5 = "1" * 32
KNOWN_SHA256 = "2" * 64
OTHER_SHA256 = "3" * 64
UNKNOWN_MD5 = "e" * 32
UNKNOWN_SHA256 = "f" * 64


def media(media_id: str, md5: str | None = None, sha256: str | None = None) -> MediaHashes:
    return MediaHashes(media_id, "image/jpeg", md5, sha256, 4096)


def post(*attachments: MediaHashes) -> Content:
    return Content(
        id="post-1",
        kind=ContentKind.POST,
        audience=Audience.PUBLIC,
        author_id="user-7",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        media=attachments,
    )


def detector(*entries: DigestEntry) -> DigestBankDetector:
    return DigestBankDetector(DigestIndex(entries))


def test_media_in_a_bank_gives_one_hash_match_signal_describing_the_match() -> None:
    found = detector(DigestEntry(HashType.SHA256, KNOWN_SHA256, CSAM_BANK))

    signals = found.detect(post(media("m-1", md5=UNKNOWN_MD5, sha256=KNOWN_SHA256)))

    assert signals == [
        Signal(
            detector="digest_bank",
            kind=SignalKind.HASH_MATCH,
            category=Category.CSAM,
            score=1.0,
            bank="ncmec-csam",
            bank_version=7,
            hash_type="sha256",
            distance=0,
            media_id="m-1",
        )
    ]


def test_md5_alone_is_enough_to_match() -> None:
    found = detector(DigestEntry(HashType.MD5, KNOWN_MD5, TERROR_BANK))

    (signal,) = found.detect(post(media("m-1", md5=KNOWN_MD5)))

    assert signal.hash_type == "md5"
    assert signal.category is Category.TERRORISM


def test_hash_in_two_banks_gives_one_signal_per_bank() -> None:
    found = detector(
        DigestEntry(HashType.SHA256, KNOWN_SHA256, CSAM_BANK),
        DigestEntry(HashType.SHA256, KNOWN_SHA256, INTERNAL_BANK),
    )

    signals = found.detect(post(media("m-1", sha256=KNOWN_SHA256)))

    assert sorted((s.bank, s.category) for s in signals) == [
        ("internal-removed", Category.SPAM),
        ("ncmec-csam", Category.CSAM),
    ]


def test_both_digests_of_one_media_in_the_same_bank_give_one_signal() -> None:
    found = detector(
        DigestEntry(HashType.MD5, KNOWN_MD5, CSAM_BANK),
        DigestEntry(HashType.SHA256, KNOWN_SHA256, CSAM_BANK),
    )

    signals = found.detect(post(media("m-1", md5=KNOWN_MD5, sha256=KNOWN_SHA256)))

    assert len(signals) == 1
    assert signals[0].bank == "ncmec-csam"
    assert signals[0].hash_type == "sha256"  # the stronger digest is reported


def test_each_matching_media_item_gives_its_own_signal() -> None:
    found = detector(
        DigestEntry(HashType.SHA256, KNOWN_SHA256, CSAM_BANK),
        DigestEntry(HashType.SHA256, OTHER_SHA256, CSAM_BANK),
    )

    signals = found.detect(
        post(
            media("m-1", sha256=KNOWN_SHA256),
            media("m-2", sha256=UNKNOWN_SHA256),
            media("m-3", sha256=OTHER_SHA256),
        )
    )

    assert [(s.bank, s.media_id) for s in signals] == [("ncmec-csam", "m-1"), ("ncmec-csam", "m-3")]


def test_same_file_attached_twice_gives_a_signal_for_each_attachment() -> None:
    found = detector(DigestEntry(HashType.SHA256, KNOWN_SHA256, CSAM_BANK))

    signals = found.detect(post(media("m-1", sha256=KNOWN_SHA256), media("m-2", sha256=KNOWN_SHA256)))

    assert [s.media_id for s in signals] == ["m-1", "m-2"]


def test_unknown_hashes_give_no_signal() -> None:
    found = detector(
        DigestEntry(HashType.MD5, KNOWN_MD5, CSAM_BANK),
        DigestEntry(HashType.SHA256, KNOWN_SHA256, CSAM_BANK),
    )

    assert found.detect(post(media("m-1", md5=UNKNOWN_MD5, sha256=UNKNOWN_SHA256))) == []


def test_a_value_listed_under_another_hash_type_does_not_match() -> None:
    # a PDQ hash and a SHA-256 digest can be spelt alike (64 hex characters); types never mix
    found = detector(DigestEntry(HashType.PDQ, KNOWN_SHA256, CSAM_BANK))

    assert found.detect(post(media("m-1", sha256=KNOWN_SHA256))) == []


def test_content_without_media_gives_no_signal() -> None:
    found = detector(DigestEntry(HashType.SHA256, KNOWN_SHA256, CSAM_BANK))

    assert found.detect(post()) == []
    assert found.detect(post(media("m-1"))) == []


def test_empty_index_matches_nothing() -> None:
    index = DigestIndex([])

    assert len(index) == 0
    assert DigestBankDetector(index).detect(post(media("m-1", KNOWN_MD5, KNOWN_SHA256))) == []


def test_index_counts_distinct_hashes_and_looks_up_every_bank_of_a_hash() -> None:
    index = DigestIndex(
        [
            DigestEntry(HashType.SHA256, KNOWN_SHA256, CSAM_BANK),
            DigestEntry(HashType.SHA256, KNOWN_SHA256, INTERNAL_BANK),
            DigestEntry(HashType.MD5, KNOWN_MD5, CSAM_BANK),
        ]
    )

    assert len(index) == 2
    assert index.lookup(HashType.SHA256, KNOWN_SHA256) == (CSAM_BANK, INTERNAL_BANK)
    assert index.lookup(HashType.MD5, UNKNOWN_MD5) == ()


def test_registry_runs_every_detector_and_refuses_a_second_with_the_same_name() -> None:
    registry = DetectorRegistry([detector(DigestEntry(HashType.SHA256, KNOWN_SHA256, CSAM_BANK))])

    with pytest.raises(ValueError, match="already registered"):
        registry.register(detector())

    assert registry.names == ("digest_bank",)
    assert len(registry.detect(post(media("m-1", sha256=KNOWN_SHA256)))) == 1
    # a rebuilt detector (after a bank changed) replaces the old one
    registry.replace(detector())
    assert registry.detect(post(media("m-1", sha256=KNOWN_SHA256))) == []
