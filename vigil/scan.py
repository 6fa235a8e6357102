"""``vigil scan``: hash files on every core and match them against the banks and policies.

Nothing is recorded or enforced: a scan is how an operator checks a folder (a seized device image,
a takedown request's attachments) against what Vigil knows, without it becoming platform content.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.detect.hashing.media import MediaFingerprint, fingerprint_file
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
        return HashedFile(path, fingerprint_file(Path(path)), None)
    except OSError as exc:
        return HashedFile(path, None, f"cannot read: {exc.strerror or exc}")
    except ValueError as exc:
        return HashedFile(path, None, str(exc))


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


def scan_results(pipeline: Pipeline, hashed: Sequence[HashedFile]) -> list[dict[str, Any]]:
    """The ``vigil scan --json`` objects for files (docs/media-matching.md, "vigil hash and vigil scan"),
    in order.

    Files are evaluated together so the banks and policies are looked up once per batch, not per file.
    """
    readable = [h for h in hashed if h.fingerprint is not None]
    contents = []
    for item in readable:
        found = item.fingerprint
        assert found is not None
        media = MediaHashes(
            "file", None, found.md5, found.sha256, found.size_bytes, found.pdq, found.pdq_quality, found.vpdq
        )
        contents.append(
            Content(item.path, ContentKind.MEDIA, Audience.PUBLIC, "scan", utcnow(), media=(media,))
        )
    evaluated = dict(
        zip((h.path for h in readable), pipeline.evaluate(contents, DecisionContext()), strict=True)
    )
    results: list[dict[str, Any]] = []
    for item in hashed:
        if item.path not in evaluated:
            results.append(
                {"path": item.path, "matches": [], "signals": [], "decision": None, "error": item.error}
            )
            continue
        signals, decision = evaluated[item.path]
        results.append(
            {
                "path": item.path,
                "matches": [
                    {
                        "bank": s.bank,
                        "category": s.category.value if s.category else "",
                        "hash_type": s.hash_type,
                        "distance": s.distance,
                    }
                    for s in signals
                    if s.bank
                ],
                "signals": [s.to_activation() for s in signals],
                "decision": decision_to_json(decision),
                "error": None,
            }
        )
    return results


def batched(items: Iterable[HashedFile], size: int) -> Iterator[list[HashedFile]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    batch: list[HashedFile] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
