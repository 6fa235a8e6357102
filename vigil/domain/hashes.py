"""Hash types and the spelling of hash values (``shared/specs/hash-formats.md``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class HashType(StrEnum):
    PDQ = "pdq"
    MD5 = "md5"
    SHA256 = "sha256"


# Exact digests match by equality; perceptual hashes (PDQ) by distance.
DIGEST_TYPES = frozenset({HashType.MD5, HashType.SHA256})

_HEX_LENGTH = {HashType.PDQ: 64, HashType.MD5: 32, HashType.SHA256: 64}
_HEX = re.compile(r"^[0-9a-f]+$")


class InvalidHashError(ValueError):
    """A hash value that is not of its declared type's form."""


def parse_hash_type(text: str) -> HashType:
    try:
        return HashType(text.strip().lower())
    except ValueError:
        raise InvalidHashError(
            f"unknown hash type {text!r}; expected one of {', '.join(t.value for t in HashType)}"
        ) from None


def normalise_hash(hash_type: HashType, value: str) -> str:
    """``value`` in lower-case hex, or InvalidHashError saying what was expected.

    The type is always declared, never guessed: a 64-character value could be PDQ or SHA-256.
    """
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
    """A hash as a bank lists it: the normalised value and where it came from."""

    hash_type: HashType
    value: str
    source: str = ""
    source_id: str = ""
    added_at: datetime | None = None  # when the list says it was added; None means now
    note: str = ""
