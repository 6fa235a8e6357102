"""The built-in signal types: MD5 and SHA-256 (exact digests), PDQ (images), vPDQ (videos).

Each is a :class:`~vigil.detect.signal_types.SignalType` over the code that was there before the
registry: the spelling rules of ``domain/hashes.py``, and the indexes and detectors of
``digest_detector.py``, ``pdq_detector.py`` and ``video_detector.py``, which these descriptors wrap
without changing what they match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from vigil.detect.base import Detector
from vigil.detect.hashing.digest_detector import BankRef, DigestBankDetector, DigestEntry, DigestIndex
from vigil.detect.hashing.index import DEFAULT_THRESHOLD
from vigil.detect.hashing.pdq_detector import PdqBankDetector, PdqBankIndex, PdqEntry
from vigil.detect.hashing.video_detector import VideoEntry, VpdqBankDetector, VpdqBankIndex
from vigil.detect.signal_types import BankEntry, BankIndex, IndexSettings, LookupMatch, SignalType
from vigil.domain.hashes import HashType, normalise_hash, parse_vpdq, vpdq_key
from vigil.domain.taxonomy import Category

# what the retroactive matcher's and ``compare``'s one-off indexes file hashes under: only
# distances matter there, not banks
_NO_BANK = BankRef("job", 0, Category.SPAM)


# --- digests ----------------------------------------------------------------------------------------


class DigestGroupIndex:
    """MD5 and SHA-256 of every enabled bank in one :class:`DigestIndex` (exact, O(1))."""

    def __init__(self, entries: Iterable[BankEntry]) -> None:
        self.index = DigestIndex(())
        self._detector = DigestBankDetector(self.index)
        self.add(entries)

    def add(self, entries: Iterable[BankEntry]) -> None:
        self.index.add(DigestEntry(e.hash_type, e.value, e.bank) for e in entries)

    def __len__(self) -> int:
        return len(self.index)

    def lookup(self, hash_type: str, value: str) -> list[LookupMatch]:
        return [LookupMatch(bank, 0) for bank in self.index.lookup(hash_type, value)]

    def detector(self) -> Detector:
        return self._detector


class DigestType(SignalType):
    """An exact digest of the media bytes, in lower-case hex; matched by equality.

    MD5 and SHA-256 share one index and one detector (``digest_bank``): a file listed under both
    raises one signal per bank.
    """

    index_group = "digest"

    def normalise(self, value: str) -> str:
        return normalise_hash(HashType(self.name), value)

    def compare(self, query: str, banked: str, threshold: int) -> int | None:
        return 0 if query == banked else None

    def build_index(self, entries: Iterable[BankEntry], settings: IndexSettings) -> BankIndex:
        return DigestGroupIndex(entries)

    def retro_matcher(self, banked: Sequence[str], threshold: int) -> Callable[[str], bool]:
        return set(banked).__contains__


class Md5Type(DigestType):
    name = HashType.MD5.value


class Sha256Type(DigestType):
    name = HashType.SHA256.value


# --- PDQ ----------------------------------------------------------------------------------------------


class PdqGroupIndex:
    """Every PDQ hash of every enabled bank in one Hamming index (``PdqBankIndex``)."""

    def __init__(self, entries: Iterable[BankEntry], settings: IndexSettings) -> None:
        self.index = PdqBankIndex(())
        self._detector = PdqBankDetector(self.index, settings.pdq_quality_threshold)
        self.add(entries)

    def add(self, entries: Iterable[BankEntry]) -> None:
        self.index.add(PdqEntry(e.id, e.value, e.bank, e.threshold) for e in entries)

    def __len__(self) -> int:
        return len(self.index)

    def lookup(self, hash_type: str, value: str) -> list[LookupMatch]:
        return [LookupMatch(m.bank, m.distance) for m in self.index.match([value])]

    def detector(self) -> Detector:
        return self._detector


def _pdq_matcher(hexes: Sequence[str], threshold: int) -> Callable[[str], bool]:
    index = PdqBankIndex(PdqEntry(i, v, _NO_BANK, threshold) for i, v in enumerate(hexes))
    return lambda value: bool(len(index) and index.match([value]))


class PdqType(SignalType):
    """PDQ, Meta's perceptual image hash: 256 bits in hex, compared by Hamming distance.

    The query side tries the image's eight dihedral hashes; a hash below the PDQ quality threshold is
    not matched (a plain image is close to many others).
    """

    name = HashType.PDQ.value
    default_threshold = DEFAULT_THRESHOLD
    quality_gated = True

    def normalise(self, value: str) -> str:
        return normalise_hash(HashType.PDQ, value)

    def compare(self, query: str, banked: str, threshold: int) -> int | None:
        distance = (int(query, 16) ^ int(banked, 16)).bit_count()
        return distance if distance <= threshold else None

    def build_index(self, entries: Iterable[BankEntry], settings: IndexSettings) -> BankIndex:
        return PdqGroupIndex(entries, settings)

    def retro_matcher(self, banked: Sequence[str], threshold: int) -> Callable[[str], bool]:
        return _pdq_matcher(banked, threshold)


# --- vPDQ ---------------------------------------------------------------------------------------------


class VpdqGroupIndex:
    """The frames of every bank video in one Hamming index (``VpdqBankIndex``)."""

    def __init__(self, entries: Iterable[BankEntry], settings: IndexSettings) -> None:
        self.index = VpdqBankIndex((), settings.pdq_quality_threshold)
        self._detector = VpdqBankDetector(self.index)
        self.add(entries)

    def add(self, entries: Iterable[BankEntry]) -> None:
        self.index.add(VideoEntry(e.id, parse_vpdq(e.value), e.bank, e.threshold) for e in entries)

    def __len__(self) -> int:
        return len(self.index)

    def lookup(self, hash_type: str, value: str) -> list[LookupMatch]:
        return [LookupMatch(m.bank, m.distance) for m in self.index.match(parse_vpdq(value))]

    def detector(self) -> Detector:
        return self._detector


class VpdqType(SignalType):
    """vPDQ: a video as the PDQ hashes of its frames (a JSON list of ``"pdq_hex,quality,timestamp"``).

    Matched with the ``vpdq`` package's semantics (share of frames matched both ways). The store
    indexes a video by the SHA-256 of its canonical text and keeps the text beside it.
    """

    name = HashType.VPDQ.value
    default_threshold = DEFAULT_THRESHOLD

    def normalise(self, value: str) -> str:
        return normalise_hash(HashType.VPDQ, value)

    def compare(self, query: str, banked: str, threshold: int) -> int | None:
        index = VpdqBankIndex([VideoEntry(0, parse_vpdq(banked), _NO_BANK, threshold)], 0)
        found = index.match(parse_vpdq(query))
        return found[0].distance if found else None

    def build_index(self, entries: Iterable[BankEntry], settings: IndexSettings) -> BankIndex:
        return VpdqGroupIndex(entries, settings)

    def bank_key(self, value: str) -> str:
        return vpdq_key(value)

    def retro_matcher(self, banked: Sequence[str], threshold: int) -> Callable[[str], bool]:
        # a seen video is stored as its frames' PDQ hashes: one near a banked video's frame makes it
        # a candidate, and deciding it again applies the full video-matching rule
        return _pdq_matcher([f.pdq for value in banked for f in parse_vpdq(value)], threshold)


# registered in this order: the bank detectors run digests first, then images, then videos
BUILTIN_SIGNAL_TYPES: tuple[SignalType, ...] = (
    Md5Type(),
    Sha256Type(),
    PdqType(),
    VpdqType(),
)
