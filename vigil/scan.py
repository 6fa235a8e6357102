"""``vigil scan``: hash files on every core and match them against the banks and policies.

Nothing is recorded or enforced: a scan is how an operator checks a folder (a seized device image,
a takedown request's attachments) against what Vigil knows, without it becoming platform content.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.detect.hashing.media import MediaFingerprint, fingerprint
from vigil.detect.hashing.pdq import DEFAULT_LIMITS
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import DecisionContext, decision_to_json
from vigil.domain.ids import utcnow
from vigil.pipeline.service import Pipeline


@dataclass(frozen=True, slots=True)
class HashedFile:
    path: str
    fingerprint: MediaFingerprint | None
    error: str | None


def hash_file(path: str) -> HashedFile:
    """Fingerprint one file; an unreadable or refused file is reported, never raised."""
    try:
        size = os.path.getsize(path)
        if size > DEFAULT_LIMITS.max_bytes:
            return HashedFile(path, None, f"larger than {DEFAULT_LIMITS.max_bytes} bytes")
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return HashedFile(path, None, f"cannot read: {exc.strerror or exc}")
    if not data:
        return HashedFile(path, None, "empty file")
    return HashedFile(path, fingerprint(data, expect_image=False), None)


def expand(paths: Iterable[Path]) -> list[str]:
    """Files named, and every file under the folders named (sorted, symlinks not followed)."""
    files: list[str] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs.sort()
                files.extend(os.path.join(root, n) for n in sorted(names))
        else:
            files.append(str(path))
    return files


def hash_files(files: list[str], workers: int) -> Iterator[HashedFile]:
    """Fingerprints in input order, computed on ``workers`` processes (PDQ is CPU-bound)."""
    if workers <= 1:
        yield from map(hash_file, files)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(hash_file, files, chunksize=16)


def scan_result(pipeline: Pipeline, hashed: HashedFile) -> dict[str, Any]:
    """The ``vigil scan --json`` object for one file (``shared/specs/hash-formats.md``)."""
    if hashed.fingerprint is None:
        return {"path": hashed.path, "matches": [], "signals": [], "decision": None, "error": hashed.error}
    found = hashed.fingerprint
    media = MediaHashes("file", None, found.md5, found.sha256, found.size_bytes, found.pdq, found.pdq_quality)
    content = Content(hashed.path, ContentKind.MEDIA, Audience.PUBLIC, "scan", utcnow(), media=(media,))
    [(signals, decision)] = pipeline.evaluate([content], DecisionContext())
    matches = [
        {"bank": s.bank, "category": s.category.value, "hash_type": s.hash_type, "distance": s.distance}
        for s in signals
        if s.bank
    ]
    return {
        "path": hashed.path,
        "matches": matches,
        "signals": [s.to_activation() for s in signals],
        "decision": decision_to_json(decision),
        "error": None,
    }
