"""Hash banks in the store: naming, adding hashes, versions, enabling, and what detection reads."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest

from vigil.domain.hashes import DIGEST_TYPES, HashType, ListedHash
from vigil.domain.taxonomy import Category
from vigil.store import banks as bank_store
from vigil.store.banks import BankError, BankNotFoundError
from vigil.store.db import Store


def md5(seed: str) -> ListedHash:
    return ListedHash(HashType.MD5, hashlib.md5(seed.encode()).hexdigest(), source_id=f"src-{seed}")


def sha256(seed: str) -> ListedHash:
    return ListedHash(HashType.SHA256, hashlib.sha256(seed.encode()).hexdigest())


def pdq(seed: str) -> ListedHash:
    return ListedHash(HashType.PDQ, hashlib.sha256(b"pdq" + seed.encode()).hexdigest())


def make_bank(store: Store, name: str, now: datetime, category: Category = Category.TERRORISM) -> None:
    with store.transaction() as session:
        bank_store.create_bank(session, name, category, "gifct", 31, now)


def test_created_bank_is_listed_with_its_settings_and_version_one(store: Store, now: datetime) -> None:
    with store.transaction() as session:
        created = bank_store.create_bank(session, "gifct-tco", Category.TERRORISM, "gifct", 20, now)

    with store.transaction() as session:
        listed = bank_store.list_banks(session)

    assert listed == [created]
    bank = listed[0]
    assert (bank.name, bank.category, bank.source, bank.threshold) == (
        "gifct-tco",
        Category.TERRORISM,
        "gifct",
        20,
    )
    assert bank.enabled
    assert bank.version == 1
    assert bank.hash_count == 0
    assert bank.created_at == now
    assert bank.updated_at == now


def test_a_second_bank_with_the_same_name_is_refused(store: Store, now: datetime) -> None:
    make_bank(store, "ncmec", now, Category.CSAM)

    with pytest.raises(BankError, match="already exists"), store.transaction() as session:
        bank_store.create_bank(session, "ncmec", Category.SPAM, "other", 31, now)

    with store.transaction() as session:
        banks = bank_store.list_banks(session)
    assert [(b.name, b.category) for b in banks] == [("ncmec", Category.CSAM)]


@pytest.mark.parametrize(
    "name", ["", "Upper", "has space", "-leading-dash", ".hidden", "a/b", "x" * 101, "ünicode", "gifct\n"]
)
def test_a_bank_name_outside_the_allowed_spelling_is_refused(store: Store, now: datetime, name: str) -> None:
    with pytest.raises(BankError, match="bank name"), store.transaction() as session:
        bank_store.create_bank(session, name, Category.SPAM, "test", 31, now)

    with store.transaction() as session:
        assert bank_store.list_banks(session) == []


@pytest.mark.parametrize("threshold", [-1, 257])
def test_a_threshold_outside_0_to_256_is_refused(store: Store, now: datetime, threshold: int) -> None:
    with pytest.raises(BankError, match="threshold"), store.transaction() as session:
        bank_store.create_bank(session, "pdq-bank", Category.SPAM, "test", threshold, now)


def test_adding_hashes_stores_them_and_bumps_the_version(store: Store, now: datetime) -> None:
    make_bank(store, "gifct", now)
    later = now + timedelta(minutes=5)

    with store.transaction() as session:
        report = bank_store.add_hashes(session, "gifct", [md5("a"), md5("b"), sha256("a")], later)

    assert (report.added, report.duplicates, report.version) == (3, 0, 2)
    with store.transaction() as session:
        bank = bank_store.get_bank(session, "gifct")
    assert (bank.version, bank.hash_count, bank.updated_at) == (2, 3, later)


def test_hashes_already_in_the_bank_are_counted_as_duplicates_not_added(store: Store, now: datetime) -> None:
    make_bank(store, "gifct", now)
    with store.transaction() as session:
        bank_store.add_hashes(session, "gifct", [md5("a"), md5("b")], now)

    with store.transaction() as session:
        # "a" is already stored, "c" is new but given twice in the same request
        report = bank_store.add_hashes(session, "gifct", [md5("a"), md5("c"), md5("c")], now)

    assert (report.added, report.duplicates, report.version) == (1, 2, 3)
    with store.transaction() as session:
        assert bank_store.get_bank(session, "gifct").hash_count == 3


def test_adding_only_known_hashes_leaves_the_version_unchanged(store: Store, now: datetime) -> None:
    make_bank(store, "gifct", now)
    with store.transaction() as session:
        bank_store.add_hashes(session, "gifct", [md5("a"), sha256("a")], now)
    later = now + timedelta(hours=1)

    with store.transaction() as session:
        report = bank_store.add_hashes(session, "gifct", [sha256("a"), md5("a")], later)

    assert (report.added, report.duplicates, report.version) == (0, 2, 2)
    with store.transaction() as session:
        bank = bank_store.get_bank(session, "gifct")
    assert (bank.version, bank.hash_count, bank.updated_at) == (2, 2, now)


def test_the_same_value_may_sit_in_two_banks(store: Store, now: datetime) -> None:
    make_bank(store, "first", now)
    make_bank(store, "second", now)

    with store.transaction() as session:
        one = bank_store.add_hashes(session, "first", [md5("shared")], now)
        two = bank_store.add_hashes(session, "second", [md5("shared")], now)

    assert (one.added, two.added) == (1, 1)


def test_adding_many_hashes_at_once_works_across_lookup_chunks(store: Store, now: datetime) -> None:
    make_bank(store, "big", now)
    first = [md5(f"item-{i}") for i in range(1200)]
    with store.transaction() as session:
        bank_store.add_hashes(session, "big", first[:700], now)

    with store.transaction() as session:
        report = bank_store.add_hashes(session, "big", first, now)

    assert (report.added, report.duplicates) == (500, 700)
    with store.transaction() as session:
        assert bank_store.get_bank(session, "big").hash_count == 1200


def test_adding_to_an_unknown_bank_is_refused(store: Store, now: datetime) -> None:
    with pytest.raises(BankNotFoundError), store.transaction() as session:
        bank_store.add_hashes(session, "missing", [md5("a")], now)


def test_banks_are_listed_by_name_with_their_hash_counts(store: Store, now: datetime) -> None:
    make_bank(store, "zeta", now)
    make_bank(store, "alpha", now, Category.CSAM)
    make_bank(store, "empty", now)
    with store.transaction() as session:
        bank_store.add_hashes(session, "zeta", [md5("1"), md5("2"), sha256("3")], now)
        bank_store.add_hashes(session, "alpha", [md5("1")], now)

    with store.transaction() as session:
        listed = bank_store.list_banks(session)

    assert [(b.name, b.hash_count) for b in listed] == [("alpha", 1), ("empty", 0), ("zeta", 3)]


def test_disabling_and_enabling_a_bank_bumps_its_version(store: Store, now: datetime) -> None:
    make_bank(store, "gifct", now)

    with store.transaction() as session:
        disabled = bank_store.set_enabled(session, "gifct", False, now)
    with store.transaction() as session:
        again = bank_store.set_enabled(session, "gifct", False, now)
    with store.transaction() as session:
        enabled = bank_store.set_enabled(session, "gifct", True, now)

    assert (disabled.enabled, disabled.version) == (False, 2)
    assert (again.enabled, again.version) == (False, 2)  # no change, no new version
    assert (enabled.enabled, enabled.version) == (True, 3)


def test_detection_reads_digests_from_enabled_banks_only(store: Store, now: datetime) -> None:
    make_bank(store, "on", now, Category.TERRORISM)
    make_bank(store, "off", now, Category.CSAM)
    with store.transaction() as session:
        bank_store.add_hashes(session, "on", [md5("t"), sha256("t"), pdq("t")], now)
        bank_store.add_hashes(session, "off", [md5("c")], now)
        bank_store.set_enabled(session, "off", False, now)

    with store.transaction() as session:
        entries = bank_store.bank_entries(session, sorted(DIGEST_TYPES))

    # PDQ is matched by distance elsewhere; only exact digests are served here
    assert sorted(
        (e.hash_type, e.value, e.bank.name, e.bank.category, e.bank.version) for e in entries
    ) == sorted(
        [
            (HashType.MD5, md5("t").value, "on", Category.TERRORISM, 2),
            (HashType.SHA256, sha256("t").value, "on", Category.TERRORISM, 2),
        ]
    )


def test_no_enabled_bank_means_no_digests(store: Store, now: datetime) -> None:
    make_bank(store, "off", now)
    with store.transaction() as session:
        bank_store.add_hashes(session, "off", [md5("x")], now)
        bank_store.set_enabled(session, "off", False, now)

    with store.transaction() as session:
        assert bank_store.bank_entries(session, sorted(DIGEST_TYPES)) == []


def test_the_banks_fingerprint_changes_exactly_when_banks_change(store: Store, now: datetime) -> None:
    def fingerprint() -> object:
        with store.transaction() as session:
            return bank_store.banks_fingerprint(session)

    empty = fingerprint()
    make_bank(store, "gifct", now)
    created = fingerprint()
    with store.transaction() as session:
        bank_store.add_hashes(session, "gifct", [md5("a")], now)
    added = fingerprint()
    with store.transaction() as session:
        bank_store.add_hashes(session, "gifct", [md5("a")], now)
    unchanged = fingerprint()
    with store.transaction() as session:
        bank_store.set_enabled(session, "gifct", False, now)
    disabled = fingerprint()

    assert len({empty, created, added, disabled}) == 4
    assert unchanged == added
