"""Signal types: one descriptor per kind of hash a bank can hold, found through one registry.

A *signal type* is everything Vigil needs to know about one kind of hash (``pdq``, ``md5``,
``sha256``, ``vpdq``, or a plugin's: a video TMK, a CLIP embedding, a text hash) in one class, so
that adding a type is writing that class, not editing the API, the store, the pipeline and the
retroactive matcher. The rest of Vigil consults ``SIGNAL_TYPES`` (``vigil.detect.registry``, which
holds the built-in types of ``hashing/builtin_types.py``) instead of branching on the
type:

* the API, the bank-file readers and the store accept a type because the registry knows its name,
  and spell its values with :meth:`SignalType.normalise` (which refuses with
  :class:`~vigil.domain.hashes.InvalidHashError`, saying what is wrong);
* the pipeline builds one :class:`BankIndex` per *index group* from the enabled banks' hashes with
  :meth:`SignalType.build_index`, adds new hashes to it as they arrive, asks it for hash-only
  look-ups (``/v1/hashes/match``) and runs the detector it makes;
* the retroactive matcher asks :meth:`SignalType.retro_matcher` whether a stored content hash
  matches a bank's new hashes.

The idea is python-threatexchange's ``SignalType`` (parse, compare, an index class), adapted: Vigil's
banks carry a category and a threshold, its matches become :class:`~vigil.domain.signals.Signal`\\ s
that CEL policies read, and its indexes grow in place while requests are served.

Which base to start from: a plugin with a hash compared by a distance (a Hamming distance, say)
subclasses :class:`DistanceSignalType`, which brings a brute-force index and a detector; it writes
``normalise``, ``distance`` and ``content_values`` (what in a content item is hashed) and nothing
else. A type with a large bank writes its own :class:`BankIndex` (as PDQ does,
``hashing/index.py``). ``tests/plugins/vigil_example_plugin`` is a complete example.

Plugins register through the ``vigil.signal_types`` entry point group: each entry point names a
:class:`SignalType` subclass (instantiated with no arguments) or an instance. They are loaded once,
the first time the registry is consulted; a plugin that fails to load stops the start with its name.
Names are what the API and the bank files spell (``"type": "text-simhash"``), and what the store
keeps: 1-16 characters of lower-case letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

import importlib.metadata
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from vigil.detect.base import Detector
from vigil.detect.hashing.digest_detector import BankRef
from vigil.domain.content import Content
from vigil.domain.hashes import HashType, InvalidHashError
from vigil.domain.signals import Signal, SignalKind

ENTRY_POINT_GROUP = "vigil.signal_types"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,15}$")  # the store's hash_type column holds 16 characters


@dataclass(frozen=True, slots=True)
class BankEntry:
    """One hash of an enabled bank, as an index takes it in.

    ``value`` is the normalised value (for vPDQ the canonical frame list, not the key the store
    indexes it by); ``threshold`` is the bank's own match distance; ``id`` is the store's id, unique
    across banks and types, and only ever growing.
    """

    id: int
    hash_type: str
    value: str
    bank: BankRef
    threshold: int


@dataclass(frozen=True, slots=True)
class LookupMatch:
    """A bank that a looked-up hash matches, and how closely (0 for an exact match)."""

    bank: BankRef
    distance: int


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """What a process's settings say about matching, handed to every index it builds."""

    pdq_quality_threshold: int = 50


class BankIndex(Protocol):
    """The enabled banks' hashes of one index group, ready to match against.

    Built once from every hash (:meth:`SignalType.build_index`), then grown in place with the hashes
    added since (:meth:`add`): banks never lose hashes, and a disabled bank makes the pipeline build
    a new index. Queries and additions come from different threads (requests, the retroactive
    matcher), so an index that is not safe to share guards itself with a lock.
    """

    def add(self, entries: Iterable[BankEntry]) -> None:
        """Take in hashes added to the banks since the index was built."""
        ...

    def __len__(self) -> int: ...

    def lookup(self, hash_type: str, value: str) -> list[LookupMatch]:
        """The banks that the normalised ``value`` (of ``hash_type``) matches: the best match of each."""
        ...

    def detector(self) -> Detector:
        """The detector that raises a ``hash_match`` signal per bank that a content item matches.

        Its name stays the same whatever index it is made from: the pipeline swaps a rebuilt
        index's detector in under that name.
        """
        ...


class SignalType(ABC):
    """One kind of hash: how it is spelt, compared, indexed and matched.

    Subclass it (or :class:`DistanceSignalType`) and set ``name``. Types that share an
    ``index_group`` share one index and one detector, built by the first of them registered: MD5
    and SHA-256 are both digests of the same bytes, and a file listed under both raises one signal
    per bank, not two. A type of its own leaves ``index_group`` unset (its name is used).
    """

    name: ClassVar[str]
    index_group: ClassVar[str | None] = None
    default_threshold: ClassVar[int] = 0
    """The distance at or under which two hashes of this type are usually taken for the same media
    (PDQ: the industry's 31); 0 for exact types. A bank's own threshold applies to its hashes."""
    quality_gated: ClassVar[bool] = False
    """Whether a hash comes with a quality (0-100) below which it is too plain to match (PDQ)."""

    @property
    def group(self) -> str:
        return self.index_group or self.name

    @abstractmethod
    def normalise(self, value: str) -> str:
        """``value`` as Vigil stores and compares it, or :class:`InvalidHashError` saying why not.

        Why a ``str``: it is what the API, the bank files and the store carry, and a type's own
        structure (a vPDQ frame list) is parsed from it where it is matched.
        """

    @abstractmethod
    def compare(self, query: str, banked: str, threshold: int) -> int | None:
        """The distance between two normalised values if ``query`` matches ``banked`` within
        ``threshold``, else None (exact types: 0 when equal)."""

    @abstractmethod
    def build_index(self, entries: Iterable[BankEntry], settings: IndexSettings) -> BankIndex:
        """An index of ``entries`` (hashes of every type of this one's index group)."""

    def bank_key(self, value: str) -> str:
        """What the store indexes a normalised value by (its ``value`` column): the value itself, or
        for a value too long to index a fixed-length name of it, the value being kept beside it."""
        return value

    def retro_matcher(self, banked: Sequence[str], threshold: int) -> Callable[[str], bool]:
        """Whether a stored content hash of this type matches one of a bank's new hashes.

        Only media hashes are stored with content (MD5, SHA-256, PDQ, and a video's frames as
        ``vpdq`` rows), so a type hashed from something else is never asked. The default compares
        against every hash: fine for the few hashes a bank gains at once.
        """
        return lambda value: any(self.compare(value, b, threshold) is not None for b in banked)


# --------------------------------------------------------------------------------------------------
# A base for plugins: a distance, a brute-force index, a detector
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentValue:
    """A value of a signal type read from a content item: of one media attachment, or of the item."""

    value: str
    media_id: str = ""


class DistanceSignalType(SignalType):
    """A type compared by a distance, with a brute-force index: the easiest start for a plugin.

    Write ``normalise``, ``distance`` and ``content_values``. The index compares a query with every
    banked hash (fine for tens of thousands; a type expecting millions brings its own
    :class:`BankIndex`, like PDQ's multi-index hashing). The detector is named ``<name>_bank`` and
    raises a ``hash_match`` signal per bank and value within the bank's threshold (a score of
    ``1 - distance / max_distance``).
    """

    max_distance: ClassVar[int] = 64

    @abstractmethod
    def distance(self, a: str, b: str) -> int:
        """The distance between two normalised values."""

    @abstractmethod
    def content_values(self, content: Content) -> Iterable[ContentValue]:
        """The values of this type a content item yields (e.g. a hash of its text)."""

    def compare(self, query: str, banked: str, threshold: int) -> int | None:
        found = self.distance(query, banked)
        return found if found <= threshold else None

    def build_index(self, entries: Iterable[BankEntry], settings: IndexSettings) -> BankIndex:
        return ScanIndex(self, entries)


class ScanIndex:
    """Every banked hash of a :class:`DistanceSignalType`, compared one by one."""

    def __init__(self, signal_type: DistanceSignalType, entries: Iterable[BankEntry]) -> None:
        self.signal_type = signal_type
        self._entries: dict[int, BankEntry] = {}
        self._lock = threading.Lock()
        self._detector = HashMatchDetector(f"{signal_type.name}_bank", signal_type, self)
        self.add(entries)

    def add(self, entries: Iterable[BankEntry]) -> None:
        with self._lock:
            self._entries.update((e.id, e) for e in entries)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, hash_type: str, value: str) -> list[LookupMatch]:
        with self._lock:
            entries = list(self._entries.values())
        best: dict[str, LookupMatch] = {}
        for entry in entries:
            found = self.signal_type.compare(value, entry.value, entry.threshold)
            if found is None:
                continue
            current = best.get(entry.bank.name)
            if current is None or found < current.distance:
                best[entry.bank.name] = LookupMatch(entry.bank, found)
        return sorted(best.values(), key=lambda m: (m.distance, m.bank.name))

    def detector(self) -> Detector:
        return self._detector


class HashMatchDetector:
    """Raises a ``hash_match`` signal per bank that a value read from a content item matches."""

    def __init__(self, name: str, signal_type: DistanceSignalType, index: ScanIndex) -> None:
        self.name = name
        self.signal_type = signal_type
        self.index = index

    def detect(self, content: Content) -> Sequence[Signal]:
        if not len(self.index):
            return []
        signals: list[Signal] = []
        scale = max(self.signal_type.max_distance, 1)
        for read in self.signal_type.content_values(content):
            for found in self.index.lookup(self.signal_type.name, read.value):
                signals.append(
                    Signal(
                        detector=self.name,
                        kind=SignalKind.HASH_MATCH,
                        category=found.bank.category,
                        score=max(0.0, 1.0 - found.distance / scale),
                        bank=found.bank.name,
                        bank_version=found.bank.version,
                        hash_type=self.signal_type.name,
                        distance=found.distance,
                        media_id=read.media_id,
                    )
                )
        return signals


# --------------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------------


class SignalTypeRegistry:
    """The signal types this process knows: the built-in ones, then the plugins' (entry points).

    Loaded once, on first use. ``names`` lists the built-in types in :class:`HashType`'s order (the
    order refusals have always named them in), then the plugins' in the order they were registered.
    """

    def __init__(
        self, builtins: Sequence[SignalType], entry_point_group: str | None = ENTRY_POINT_GROUP
    ) -> None:
        self._types: dict[str, SignalType] = {}
        self._builtins = tuple(builtins)
        self._entry_point_group = entry_point_group
        self._loaded = False
        self._lock = threading.RLock()

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load_builtins()
                self._load_entry_points()

    def _load_builtins(self) -> None:
        for signal_type in self._builtins:
            self._add(signal_type)
        self._loaded = True

    def load_plugins(self) -> list[str]:
        """Register the signal types of installed plugins not registered yet; their names."""
        with self._lock:
            if not self._loaded:
                self._load_builtins()
            return self._load_entry_points()

    def _load_entry_points(self) -> list[str]:
        if self._entry_point_group is None:
            return []
        added: list[str] = []
        for entry in importlib.metadata.entry_points(group=self._entry_point_group):
            try:
                loaded = entry.load()
                signal_type = loaded() if isinstance(loaded, type) else loaded
            except Exception as exc:
                raise RuntimeError(
                    f"signal type plugin {entry.name!r} ({entry.value}) failed to load: {exc}"
                ) from exc
            if not isinstance(signal_type, SignalType):
                raise RuntimeError(f"signal type plugin {entry.name!r} ({entry.value}) is not a SignalType")
            if signal_type.name not in self._types:
                self._add(signal_type)
                added.append(signal_type.name)
        return added

    def register(self, signal_type: SignalType) -> None:
        """Register a type (a plugin's, or a test's); a name can be registered once."""
        self._ensure_loaded()
        with self._lock:
            self._add(signal_type)

    def unregister(self, name: str) -> None:
        """Forget a plugin's type (tests); the built-in ones stay."""
        if name in set(HashType):
            raise ValueError(f"{name!r} is a built-in signal type")
        with self._lock:
            self._types.pop(name, None)

    def _add(self, signal_type: SignalType) -> None:
        name = getattr(signal_type, "name", None)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(
                f"signal type name {name!r} must be 1-16 characters of lower-case letters, digits, '-' or '_'"
            )
        if name in self._types:
            raise ValueError(f"a signal type named {name!r} is already registered")
        self._types[name] = signal_type

    @property
    def names(self) -> tuple[str, ...]:
        self._ensure_loaded()
        builtin = [t.value for t in HashType if t.value in self._types]
        return (*builtin, *(n for n in self._types if n not in builtin))

    def __iter__(self) -> Iterator[SignalType]:
        self._ensure_loaded()
        return iter(list(self._types.values()))

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._types

    def find(self, name: str) -> SignalType | None:
        self._ensure_loaded()
        return self._types.get(name)

    def get(self, name: str) -> SignalType:
        """The type named ``name`` (exactly), or :class:`InvalidHashError` naming those known."""
        found = self.find(name)
        if found is None:
            raise InvalidHashError(f"unknown hash type {name!r}; expected one of {', '.join(self.names)}")
        return found

    def parse(self, text: str) -> SignalType:
        """The type a person or a file spelt (any case, spaces around), or InvalidHashError."""
        found = self.find(text.strip().lower())
        if found is None:
            raise InvalidHashError(f"unknown hash type {text!r}; expected one of {', '.join(self.names)}")
        return found

    def normalise(self, name: str, value: str) -> str:
        """``value`` normalised by the type named ``name`` (InvalidHashError for either)."""
        return self.get(name).normalise(value)

    def index_groups(self) -> dict[str, tuple[SignalType, ...]]:
        """The types by index group, each group's first-registered type first, groups in the order
        they were first registered (so the bank detectors run in a fixed order)."""
        groups: dict[str, list[SignalType]] = {}
        for signal_type in self:
            groups.setdefault(signal_type.group, []).append(signal_type)
        return {group: tuple(types) for group, types in groups.items()}


"""The process's registry: the built-in types and the installed plugins'."""
