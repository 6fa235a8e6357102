"""Banks: named, versioned sets of hashes with a category and a source."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from vigil.detect.hashing.banks import ExportRow
from vigil.detect.hashing.digest_detector import BankRef
from vigil.detect.registry import SIGNAL_TYPES
from vigil.detect.signal_types import BankEntry
from vigil.domain.errors import ErrorKind, VigilError
from vigil.domain.hashes import ListedHash
from vigil.domain.taxonomy import Category
from vigil.store.records import from_row
from vigil.store.tables import Bank, BankHash

BANK_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


class BankError(VigilError, ValueError):
    """A refused bank operation, said so a person can fix it."""

    code = "invalid_bank"


class BankExistsError(BankError):
    kind = ErrorKind.CONFLICT
    code = "conflict"


class BankNotFoundError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class BankInfo:
    name: str
    category: Category
    source: str
    threshold: int
    enabled: bool
    version: int
    hash_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AddReport:
    added: int
    duplicates: int
    version: int
    bank_id: int
    new_ids: (
        tuple[int, int] | None
    )  # the ids the added hashes got: first..last (other banks' may lie between)


def _info(bank: Bank, count: int) -> BankInfo:
    # hash_count is no column of the bank: it is counted from its hashes
    return from_row(BankInfo, bank, hash_count=count)


def create_bank(
    session: Session, name: str, category: Category, source: str, threshold: int, now: datetime
) -> BankInfo:
    if not BANK_NAME.fullmatch(name):
        raise BankError(
            f"bank name {name!r} must be 1-100 characters of lower-case letters, digits, '.', '-' or '_'"
        )
    if not 0 <= threshold <= 256:
        raise BankError(f"threshold {threshold} must be between 0 and 256")
    if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise BankExistsError(f"a bank named {name!r} already exists")
    bank = Bank(
        name=name,
        category=category.value,
        source=source,
        threshold=threshold,
        enabled=True,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(bank)
    session.flush()
    return _info(bank, 0)


def _bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise BankNotFoundError(f"no bank named {name!r}")
    return bank


def get_bank(session: Session, name: str) -> BankInfo:
    bank = _bank(session, name)
    count = session.scalar(select(func.count()).select_from(BankHash).where(BankHash.bank_id == bank.id)) or 0
    return _info(bank, count)


def list_banks(session: Session) -> list[BankInfo]:
    counts = dict(session.execute(select(BankHash.bank_id, func.count()).group_by(BankHash.bank_id)).all())
    return [_info(b, counts.get(b.id, 0)) for b in session.scalars(select(Bank).order_by(Bank.name))]


def add_hashes(session: Session, name: str, hashes: Sequence[ListedHash], now: datetime) -> AddReport:
    """Add hashes to a bank; hashes it already holds are counted, not added. Bumps the version if any were added.

    Every hash must be of a registered signal type (InvalidHashError otherwise), already normalised.
    """
    bank = _bank(session, name)
    unique: dict[tuple[str, str], ListedHash] = {}
    for new in hashes:
        unique.setdefault((str(new.hash_type), _stored_value(new)), new)
    existing: set[tuple[str, str]] = set()
    keys = list(unique)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found = session.execute(
            select(BankHash.hash_type, BankHash.value).where(
                BankHash.bank_id == bank.id, tuple_(BankHash.hash_type, BankHash.value).in_(chunk)
            )
        )
        existing.update((hash_type, value) for hash_type, value in found)
    rows = [
        {
            "bank_id": bank.id,
            "hash_type": hash_type,
            "value": value,
            # a value the store indexes by a name of it (a video's frame list) is kept beside it
            "frames": h.value if value != h.value else None,
            "source": h.source,
            "source_id": h.source_id,
            "note": h.note,
            "added_at": h.added_at or now,
        }
        for key, h in unique.items()
        if key not in existing
        for hash_type, value in (key,)
    ]
    new_ids = None
    if rows:
        before = session.scalar(select(func.max(BankHash.id))) or 0
        session.execute(insert(BankHash), rows)
        new_ids = (before + 1, session.scalar(select(func.max(BankHash.id))) or before)
        bank.version += 1
        bank.updated_at = now
    return AddReport(len(rows), len(hashes) - len(rows), bank.version, bank.id, new_ids)


def _stored_value(listed: ListedHash) -> str:
    """What the ``value`` column holds: the hash, or for a video the SHA-256 of its frame list."""
    return SIGNAL_TYPES.get(str(listed.hash_type)).bank_key(listed.value)


def set_enabled(session: Session, name: str, enabled: bool, now: datetime) -> BankInfo:
    bank = _bank(session, name)
    if bank.enabled != enabled:
        bank.enabled = enabled
        bank.version += 1
        bank.updated_at = now
    return get_bank(session, name)


def banks_fingerprint(session: Session) -> tuple[tuple[int, int, bool], ...]:
    """Changes whenever any bank is created, changed, enabled or disabled: a cheap staleness check.

    Each entry is (bank id, version, enabled); a change in versions alone means hashes were added.
    """
    return tuple(
        (bank_id, version, enabled)
        for bank_id, version, enabled in session.execute(
            select(Bank.id, Bank.version, Bank.enabled).order_by(Bank.id)
        )
    )


def max_hash_id(session: Session) -> int:
    """The newest bank hash's id (ids only grow, so hashes added later have larger ones)."""
    return session.scalar(select(func.max(BankHash.id))) or 0


def bank_entries(session: Session, hash_types: Sequence[str], after_id: int = 0) -> list[BankEntry]:
    """Every hash of ``hash_types`` of every enabled bank (with an id above ``after_id``), with the
    bank's threshold and the full value (a video's frame list, not the key it is stored under)."""
    banks = _enabled_banks(session)
    if not banks or not hash_types:
        return []
    rows = session.execute(
        select(
            BankHash.id, BankHash.bank_id, BankHash.hash_type, func.coalesce(BankHash.frames, BankHash.value)
        ).where(BankHash.bank_id.in_(banks), BankHash.hash_type.in_(hash_types), BankHash.id > after_id)
    )
    return [
        BankEntry(hash_id, hash_type, value, *banks[bank_id]) for hash_id, bank_id, hash_type, value in rows
    ]


def _enabled_banks(session: Session) -> dict[int, tuple[BankRef, int]]:
    return {
        b.id: (BankRef(b.name, b.version, Category(b.category)), b.threshold)
        for b in session.scalars(select(Bank).where(Bank.enabled.is_(True)))
    }


def export_rows(session: Session, name: str) -> Iterator[ExportRow]:
    """Every hash of a bank, oldest first, streamed in batches."""
    bank = _bank(session, name)
    query = (
        select(BankHash)
        .where(BankHash.bank_id == bank.id)
        .order_by(BankHash.id)
        .execution_options(yield_per=5000)
    )
    for row in session.scalars(query):
        yield ExportRow(
            row.hash_type,
            row.frames or row.value,
            bank.category,
            row.source,
            row.source_id,
            row.added_at,
            row.note,
        )
