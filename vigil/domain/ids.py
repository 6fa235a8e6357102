"""Identifiers and time, the two things every record needs."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime

_last_stamp = 0
_stamp_lock = threading.Lock()


def _monotonic_stamp() -> int:
    global _last_stamp
    with _stamp_lock:
        _last_stamp = max(_last_stamp + 1, time.time_ns())
        return _last_stamp


def new_id(prefix: str) -> str:
    """An identifier with a readable prefix that sorts by creation, e.g. ``dec_187a...``.

    64 bits of nanosecond time (strictly increasing within a process, so two decisions on the same
    content taken in one process never tie) and 32 random bits (no collisions across processes).
    """
    return f"{prefix}_{_monotonic_stamp():016x}{secrets.token_hex(4)}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and a ``Z``: one spelling for one instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
