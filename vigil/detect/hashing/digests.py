"""Exact digests (MD5, SHA-256) of media bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Digests:
    md5: str
    sha256: str


def digest_bytes(data: bytes) -> Digests:
    """MD5 and SHA-256 of ``data``, lower-case hex.

    MD5 is broken for adversarial collisions but remains the lingua franca of hotline hash lists
    (NCMEC, many national hotlines), so Vigil matches on both and prefers SHA-256 when a list has it.
    """
    return Digests(hashlib.md5(data, usedforsecurity=False).hexdigest(), hashlib.sha256(data).hexdigest())
