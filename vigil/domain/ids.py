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


# The instants Vigil accepts from outside (a post's creation, an order's dates, a hash list's
# dates): from the Unix epoch, as nothing it handles is older and every format it writes carries it,
# to the end of the year 2999, far enough for any date a platform or an authority means and far
# enough from datetime's end (year 9999) that no period Vigil adds (a retention, a withholding) runs
# past it. 9999-12-31T23:59:59-14:00 is outside: in UTC it is in the year 10000.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def instant_in_utc(moment: datetime) -> datetime:
    """``moment``, which has a UTC offset, in UTC; ValueError if it is outside the accepted range."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # past datetime's range once the offset is applied
        utc = None
    if utc is None or not EARLIEST_INSTANT <= utc <= LATEST_INSTANT:
        raise ValueError(
            f"must be an instant between {EARLIEST_INSTANT:%Y-%m-%dT%H:%M:%SZ} and"
            f" {LATEST_INSTANT:%Y-%m-%dT%H:%M:%SZ} (UTC)"
        )
    return utc


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and a ``Z``: one spelling for one instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
