"""Matching videos by their vPDQ frame hashes against the banks.

The semantics are the ``vpdq`` package's own (as threatexchange applies them): frames below the
quality threshold are dropped and identical frame hashes counted once, on both sides; a query frame
matches when some frame of the bank video lies within the bank's PDQ distance threshold. The query
video matches a bank video when at least ``query_percent`` of its frames match that video and at
least ``bank_percent`` of the bank video's frames match the query. threatexchange's defaults are
80% and 0%: a clip cut out of a banked video is a match, however short, as long as most of the clip
is banked footage.

Every frame of every bank video sits in one :class:`HammingIndex`, so a query costs one batch query
for all its frames, whatever the number of bank videos.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from vigil.detect.hashing.digest_detector import BankRef
from vigil.detect.hashing.index import HammingIndex, hashes_from_hex
from vigil.domain.content import Content
from vigil.domain.hashes import HashType, VideoFrame
from vigil.domain.signals import Evidence, Signal, SignalKind

DEFAULT_QUERY_PERCENT = 80.0
DEFAULT_BANK_PERCENT = 0.0


@dataclass(frozen=True, slots=True)
class VideoEntry:
    """One vPDQ hash (a whole video) of an enabled bank, with the id it has in the store."""

    id: int
    frames: tuple[VideoFrame, ...]
    bank: BankRef
    threshold: int


@dataclass(frozen=True, slots=True)
class VideoMatch:
    bank: BankRef
    entry_id: int
    query_percent: float  # share of the query's frames that match the bank video
    bank_percent: float  # share of the bank video's frames that match the query
    distance: int  # median distance of the matched query frames to their closest bank frame


def usable_frames(frames: Iterable[VideoFrame], quality_threshold: int) -> list[str]:
    """The distinct PDQ hashes of the frames good enough to match, in order."""
    return list(dict.fromkeys(f.pdq for f in frames if f.quality >= quality_threshold))


class VpdqBankIndex:
    """The frames of every bank video in one Hamming index, each mapped back to its video."""

    def __init__(
        self,
        entries: Iterable[VideoEntry],
        quality_threshold: int,
        query_percent: float = DEFAULT_QUERY_PERCENT,
        bank_percent: float = DEFAULT_BANK_PERCENT,
    ) -> None:
        self.quality_threshold = quality_threshold
        self.query_percent = query_percent
        self.bank_percent = bank_percent
        self._entries: dict[int, VideoEntry] = {}
        self._frame_counts: dict[int, int] = {}
        self._frame_owner: list[int] = []  # index frame id -> entry id
        self._max_threshold = 0
        self._index = HammingIndex()
        self._lock = threading.Lock()  # requests and the retroactive matcher share the index
        self.add(entries)

    def add(self, entries: Iterable[VideoEntry]) -> None:
        """Take in videos added to the banks since the index was built, without rebuilding it."""
        with self._lock:
            owners: list[int] = []
            hexes: list[str] = []
            for entry in entries:
                if entry.id in self._entries:
                    continue
                frames = usable_frames(entry.frames, self.quality_threshold)
                self._entries[entry.id] = entry
                self._frame_counts[entry.id] = len(frames)
                self._max_threshold = max(self._max_threshold, entry.threshold)
                owners.extend([entry.id] * len(frames))
                hexes.extend(frames)
            if not hexes:
                return
            first = len(self._frame_owner)
            self._frame_owner.extend(owners)
            self._index.add(np.arange(first, first + len(hexes), dtype=np.int64), hashes_from_hex(hexes))

    def __len__(self) -> int:
        return len(self._entries)

    def match(self, frames: Sequence[VideoFrame]) -> list[VideoMatch]:
        """Every bank video that ``frames`` match, the best match of each bank first."""
        query = usable_frames(frames, self.quality_threshold)
        if not self._entries or not query:
            return []
        with self._lock:
            results = self._index.query_many(hashes_from_hex(query), self._max_threshold)
        # per bank video: each matched query frame's best distance, and the bank frames it touched
        best: dict[int, dict[int, int]] = {}
        touched: dict[int, set[int]] = {}
        for query_frame, found in enumerate(results):
            for frame_id, distance in found:
                entry_id = self._frame_owner[frame_id]
                if distance > self._entries[entry_id].threshold:
                    continue
                per_query = best.setdefault(entry_id, {})
                per_query[query_frame] = min(distance, per_query.get(query_frame, distance))
                touched.setdefault(entry_id, set()).add(frame_id)
        matches: list[VideoMatch] = []
        for entry_id, per_query in best.items():
            query_percent = 100.0 * len(per_query) / len(query)
            bank_percent = 100.0 * len(touched[entry_id]) / self._frame_counts[entry_id]
            if query_percent >= self.query_percent and bank_percent >= self.bank_percent:
                distance = int(statistics.median_low(per_query.values()))
                matches.append(
                    VideoMatch(self._entries[entry_id].bank, entry_id, query_percent, bank_percent, distance)
                )
        matches.sort(key=lambda m: (-m.query_percent, m.distance, m.bank.name, m.entry_id))
        per_bank: dict[str, VideoMatch] = {}
        for found_match in matches:
            per_bank.setdefault(found_match.bank.name, found_match)
        return list(per_bank.values())


class VpdqBankDetector:
    """Emits a ``hash_match`` signal per bank that a video matches, saying how much of it matched."""

    name = "vpdq_bank"

    def __init__(self, index: VpdqBankIndex) -> None:
        self.index = index

    def detect(self, content: Content) -> Sequence[Signal]:
        signals: list[Signal] = []
        for media in content.media:
            if not media.vpdq:
                continue
            for found in self.index.match(media.vpdq):
                share = (
                    f"{found.query_percent:.0f}% of the video's frames match a banked video "
                    f"({found.bank_percent:.0f}% of that video)"
                )
                signals.append(
                    Signal(
                        detector=self.name,
                        kind=SignalKind.HASH_MATCH,
                        category=found.bank.category,
                        score=found.query_percent / 100.0,
                        bank=found.bank.name,
                        bank_version=found.bank.version,
                        hash_type=HashType.VPDQ.value,
                        distance=found.distance,
                        media_id=media.media_id,
                        evidence=(Evidence(0, 0, share, f"bank hash id {found.entry_id}"),),
                    )
                )
        return signals
