"""Near-duplicate matching of images by PDQ against the banks.

A bank match is a hash within the bank's own distance threshold. The query side tries all eight
dihedral hashes of the image (PDQ computes them together), so a mirrored or rotated copy of a
banked image still matches; crops are the bank side's job (a bank built from the media stores
extra hashes of cropped variants).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from vigil.detect.hashing.digest_detector import BankRef
from vigil.detect.hashing.index import HammingIndex, hashes_from_hex
from vigil.domain.content import Content
from vigil.domain.hashes import HashType
from vigil.domain.signals import Signal, SignalKind


@dataclass(frozen=True, slots=True)
class PdqEntry:
    """One PDQ hash of an enabled bank, with the id it has in the store."""

    id: int
    value: str
    bank: BankRef
    threshold: int


@dataclass(frozen=True, slots=True)
class PdqMatch:
    bank: BankRef
    distance: int
    bank_hash: str


class PdqBankIndex:
    """Every PDQ hash of every enabled bank in one Hamming index, each with its bank's threshold."""

    def __init__(self, entries: Iterable[PdqEntry]) -> None:
        self._entries: dict[int, PdqEntry] = {}
        self._max_threshold = 0
        self._index = HammingIndex()
        # queries and additions come from different threads (requests, the retroactive matcher)
        self._lock = threading.Lock()
        self.add(entries)

    def add(self, entries: Iterable[PdqEntry]) -> None:
        """Take in hashes added to the banks since the index was built, without rebuilding it."""
        listed = [e for e in entries if e.id not in self._entries]
        if not listed:
            return
        with self._lock:
            self._index.add(
                np.fromiter((e.id for e in listed), dtype=np.int64, count=len(listed)),
                hashes_from_hex([e.value for e in listed]),
            )
            self._entries.update((e.id, e) for e in listed)
            self._max_threshold = max(self._max_threshold, *(e.threshold for e in listed))

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, queries: Sequence[str]) -> list[PdqMatch]:
        """The closest hash in each bank within that bank's threshold, over all ``queries``."""
        if not self._entries or not queries:
            return []
        best: dict[str, PdqMatch] = {}
        with self._lock:
            results = self._index.query_many(hashes_from_hex(list(queries)), self._max_threshold)
        for found in results:
            for entry_id, distance in found:
                entry = self._entries[entry_id]
                if distance > entry.threshold:
                    continue
                current = best.get(entry.bank.name)
                if current is None or distance < current.distance:
                    best[entry.bank.name] = PdqMatch(entry.bank, distance, entry.value)
        return sorted(best.values(), key=lambda m: (m.distance, m.bank.name))


class PdqBankDetector:
    """Emits a ``hash_match`` signal (with the distance) per bank that an image's PDQ hash matches.

    Images whose PDQ quality is below ``quality_threshold`` are not matched: a low-quality hash
    (flat or nearly blank images) is close to many unrelated images and would raise false matches.
    """

    name = "pdq_bank"

    def __init__(self, index: PdqBankIndex, quality_threshold: int) -> None:
        self.index = index
        self.quality_threshold = quality_threshold

    def detect(self, content: Content) -> Sequence[Signal]:
        signals: list[Signal] = []
        for media in content.media:
            if not media.pdq or (
                media.pdq_quality is not None and media.pdq_quality < self.quality_threshold
            ):
                continue
            for found in self.index.match(media.pdq):
                signals.append(
                    Signal(
                        detector=self.name,
                        kind=SignalKind.HASH_MATCH,
                        category=found.bank.category,
                        score=1.0 - found.distance / 256,
                        bank=found.bank.name,
                        bank_version=found.bank.version,
                        hash_type=HashType.PDQ.value,
                        distance=found.distance,
                        media_id=media.media_id,
                    )
                )
        return signals
