"""Hash types and the spelling of hash values (docs/media-matching.md, "Hash types")."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class HashType(StrEnum):
    """The built-in hash types. A plugin adds others by name, through the signal-type registry
    (``vigil/detect/signal_types.py``), which is what the API, the bank files and the store consult:
    so code that accepts any type takes a ``str`` (a ``HashType`` is one)."""

    PDQ = "pdq"
    MD5 = "md5"
    SHA256 = "sha256"
    VPDQ = "vpdq"  # a video: the PDQ hashes of its frames


# Exact digests match by equality; perceptual hashes (PDQ) by distance.
DIGEST_TYPES = frozenset({HashType.MD5, HashType.SHA256})

_HEX_LENGTH = {HashType.PDQ: 64, HashType.MD5: 32, HashType.SHA256: 64}
_HEX = re.compile(r"^[0-9a-f]+$")


class InvalidHashError(ValueError):
    """A hash value that is not of its declared type's form."""


def parse_hash_type(text: str) -> HashType:
    """A built-in type spelt in any case (``SIGNAL_TYPES.parse`` also knows the plugins' types)."""
    try:
        return HashType(text.strip().lower())
    except ValueError:
        raise InvalidHashError(
            f"unknown hash type {text!r}; expected one of {', '.join(t.value for t in HashType)}"
        ) from None


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One frame of a video's vPDQ hash: its PDQ hash, PDQ quality, and when it is shown (seconds)."""

    pdq: str
    quality: int
    timestamp: float


# A vPDQ hash is written as threatexchange writes it: a JSON list of "pdq_hex,quality,timestamp"
# strings. At one frame a second, 36,000 frames is ten hours of video.
MAX_VPDQ_FRAMES = 36_000
MAX_VPDQ_TEXT = MAX_VPDQ_FRAMES * 90


def parse_vpdq(text: str) -> tuple[VideoFrame, ...]:
    """The frames of a vPDQ hash in threatexchange's form, or InvalidHashError saying what is wrong."""
    if len(text) > MAX_VPDQ_TEXT:
        raise InvalidHashError(f"a vpdq hash is limited to {MAX_VPDQ_FRAMES} frames")
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):  # lists nested past the parser's stack: not a vPDQ hash either
        raise InvalidHashError(
            'a vpdq hash is a JSON list of "pdq_hex,quality,timestamp" strings; this is not JSON'
        ) from None
    if not isinstance(items, list) or not items:
        raise InvalidHashError('a vpdq hash is a non-empty JSON list of "pdq_hex,quality,timestamp" strings')
    if len(items) > MAX_VPDQ_FRAMES:
        raise InvalidHashError(f"a vpdq hash is limited to {MAX_VPDQ_FRAMES} frames")
    return tuple(_frame(number, item) for number, item in enumerate(items))


def _frame(number: int, item: object) -> VideoFrame:
    where = f"vpdq frame {number}"
    if not isinstance(item, str) or item.count(",") != 2:
        raise InvalidHashError(f'{where}: expected "pdq_hex,quality,timestamp"')
    pdq, quality, timestamp = item.split(",")
    try:
        value = normalise_hash(HashType.PDQ, pdq)
        q = int(quality)
        t = float(timestamp)
    except ValueError as exc:
        raise InvalidHashError(f"{where}: {exc}") from None
    if not 0 <= q <= 100:
        raise InvalidHashError(f"{where}: quality {q} is not between 0 and 100")
    if not (math.isfinite(t) and t >= 0):
        raise InvalidHashError(f"{where}: timestamp {timestamp!r} is not a time in seconds")
    return VideoFrame(value, q, round(t, 3))


def format_vpdq(frames: tuple[VideoFrame, ...] | list[VideoFrame]) -> str:
    """The canonical text of a vPDQ hash (threatexchange's form; parse_vpdq reads it back)."""
    return json.dumps([f"{f.pdq},{f.quality},{f.timestamp:.3f}" for f in frames], separators=(",", ":"))


def vpdq_key(canonical: str) -> str:
    """A fixed-length name for a vPDQ hash (SHA-256 of its canonical text): what banks index it by."""
    return hashlib.sha256(canonical.encode()).hexdigest()


def normalise_hash(hash_type: HashType, value: str) -> str:
    """``value`` in lower-case hex (a vPDQ hash: its canonical text), or InvalidHashError saying why not.

    The type is always declared, never guessed: a 64-character value could be PDQ or SHA-256.
    """
    if hash_type is HashType.VPDQ:
        return format_vpdq(parse_vpdq(value))
    lowered = value.strip().lower()
    expected = _HEX_LENGTH[hash_type]
    if len(lowered) != expected or not _HEX.match(lowered):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise InvalidHashError(
            f"{shown!r} is not a {hash_type.value} hash ({expected} hexadecimal characters)"
        )
    return lowered


@dataclass(frozen=True, slots=True)
class ListedHash:
    """A hash as a bank lists it: the normalised value and where it came from.

    ``hash_type`` is a signal type's name: a :class:`HashType`, or a plugin's type.
    """

    hash_type: str
    value: str
    source: str = ""
    source_id: str = ""
    added_at: datetime | None = None  # when the list says it was added; None means now
    note: str = ""
