"""The audit chain: append-only, hash-chained records of who did what, when, to which subject.

Each event's hash covers the previous event's hash and the event's own canonical JSON, so changing,
removing or reordering any past event breaks every hash after it. Verification needs nothing but
the events themselves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One record: ``actor`` did ``action`` to ``subject_type``/``subject_id`` at ``at``."""

    seq: int
    at: str  # ISO 8601 UTC, microseconds; a string so the hashed bytes never depend on a driver
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: the same data always gives the same bytes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    prev_hash: str,
    seq: int,
    at: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: dict[str, Any],
) -> str:
    """The SHA-256 that chains an event to its predecessor."""
    body = canonical_json(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "payload": payload,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first event at which the chain no longer holds, and why."""

    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    events_checked: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(events: Iterable[AuditEvent], after: tuple[int, str] = (0, GENESIS_HASH)) -> ChainVerdict:
    """Check that ``events`` (in ``seq`` order) form an unbroken chain from the genesis hash, or, where
    ``after`` is a verified event's ``(seq, hash)``, from that event on (an incremental check)."""
    prev_hash = after[1]
    expected_seq = after[0] + 1
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            return ChainVerdict(checked, prev_hash, ChainBreak(event.seq, f"expected event {expected_seq}"))
        if event.prev_hash != prev_hash:
            return ChainVerdict(
                checked, prev_hash, ChainBreak(event.seq, "does not link to the previous event")
            )
        recomputed = event_hash(
            prev_hash,
            event.seq,
            event.at,
            event.actor,
            event.action,
            event.subject_type,
            event.subject_id,
            event.payload,
        )
        if recomputed != event.hash:
            return ChainVerdict(checked, prev_hash, ChainBreak(event.seq, "content does not match its hash"))
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    return ChainVerdict(checked, prev_hash, None)
