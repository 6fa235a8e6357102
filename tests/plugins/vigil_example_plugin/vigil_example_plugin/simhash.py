"""``text-simhash``: a 64-bit SimHash of an item's text, compared by Hamming distance.

Copy-paste spam and coordinated posting reuse a text with small edits (a changed name, an extra
emoji); SimHash (Charikar, 2002) maps texts that share most of their words to hashes a few bits
apart. A bank of known campaign texts then matches their variants. Written as 16 hex characters.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from vigil.detect.signal_types import ContentValue, DistanceSignalType
from vigil.domain.content import Content
from vigil.domain.hashes import InvalidHashError

_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_WORD = re.compile(r"\w+")


def simhash(text: str) -> str:
    """The SimHash of ``text``'s lower-cased word shingles (pairs of words), as 16 hex characters."""
    words = _WORD.findall(text.lower())
    features = [" ".join(words[i : i + 2]) for i in range(max(len(words) - 1, 1))] if words else []
    weights = [0] * 64
    for feature in features:
        bits = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if bits >> bit & 1 else -1
    value = sum(1 << bit for bit in range(64) if weights[bit] > 0)
    return f"{value:016x}"


class TextSimhash(DistanceSignalType):
    """A 64-bit SimHash of the item's text; a bank's threshold is its Hamming distance."""

    name = "text-simhash"
    default_threshold = 8
    max_distance = 64

    def normalise(self, value: str) -> str:
        lowered = value.strip().lower()
        if not _HEX16.match(lowered):
            shown = value if len(value) <= 80 else value[:77] + "..."
            raise InvalidHashError(f"{shown!r} is not a {self.name} hash (16 hexadecimal characters)")
        return lowered

    def distance(self, a: str, b: str) -> int:
        return (int(a, 16) ^ int(b, 16)).bit_count()

    def content_values(self, content: Content) -> Iterable[ContentValue]:
        # too short a text says too little to be a campaign's
        if len(_WORD.findall(content.text)) >= 5:
            yield ContentValue(simhash(content.text))
