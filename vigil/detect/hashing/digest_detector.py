"""Exact matching of media digests (MD5, SHA-256) against the banks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vigil.domain.content import Content
from vigil.domain.hashes import HashType
from vigil.domain.signals import Signal, SignalKind
from vigil.domain.taxonomy import Category


@dataclass(frozen=True, slots=True)
class BankRef:
    """The bank a hash belongs to, as far as a match needs to know."""

    name: str
    version: int
    category: Category


@dataclass(frozen=True, slots=True)
class DigestEntry:
    hash_type: str  # md5 or sha256
    value: str
    bank: BankRef


class DigestIndex:
    """Every digest of every enabled bank, for O(1) exact look-up.

    A hash can sit in several banks (the same file on a CSAM list and an internal list); every bank
    it is in gives its own signal, so each bank's category and policy apply.
    """

    def __init__(self, entries: Iterable[DigestEntry]) -> None:
        self._banks_by_hash: dict[tuple[str, str], tuple[BankRef, ...]] = {}
        self.add(entries)

    def add(self, entries: Iterable[DigestEntry]) -> None:
        """Take in hashes added to the banks since the index was built."""
        for entry in entries:
            key = (entry.hash_type, entry.value)
            self._banks_by_hash[key] = (*self._banks_by_hash.get(key, ()), entry.bank)

    def __len__(self) -> int:
        return len(self._banks_by_hash)

    def lookup(self, hash_type: str, value: str) -> tuple[BankRef, ...]:
        return self._banks_by_hash.get((hash_type, value), ())


class DigestBankDetector:
    """Emits a ``hash_match`` signal for each media digest found in a bank."""

    name = "digest_bank"

    def __init__(self, index: DigestIndex) -> None:
        self.index = index

    def detect(self, content: Content) -> Sequence[Signal]:
        signals: list[Signal] = []
        seen: set[tuple[str, str]] = set()
        for media in content.media:
            for hash_type, value in ((HashType.SHA256, media.sha256), (HashType.MD5, media.md5)):
                if not value:
                    continue
                for bank in self.index.lookup(hash_type, value):
                    # one signal per bank and media item, even when both its digests are listed
                    if (bank.name, media.media_id) in seen:
                        continue
                    seen.add((bank.name, media.media_id))
                    signals.append(
                        Signal(
                            detector=self.name,
                            kind=SignalKind.HASH_MATCH,
                            category=bank.category,
                            score=1.0,
                            bank=bank.name,
                            bank_version=bank.version,
                            hash_type=hash_type.value,
                            distance=0,
                            media_id=media.media_id,
                        )
                    )
        return signals
