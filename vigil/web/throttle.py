"""The console sign-in limit: failed sign-ins are counted per client address and per API key id, in
fixed windows, in the database; beyond the limit every sign-in is refused (429) until the window ends,
a correct key included.

Counting happens before the check it stands for: an attempt first reserves one failure on each of its
counters (one atomic upsert), is refused unreserved when a counter is over its limit, and gives its
reservation back when the check succeeds. So the counters count failures, and yet a burst of
concurrent attempts, on any number of processes, can never check more keys than the limit allows.

Windows are fixed and aligned to the clock (with 300 s, 12:00:00-12:04:59, 12:05:00-...): simple to
explain and to answer with ``Retry-After``, at the price that a client can fail up to twice its limit
around a window's edge. IPv6 clients are counted by their /64 network, as one host usually holds a
whole /64 and could otherwise take a fresh address for every guess.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vigil.store import keys as key_store
from vigil.store import sign_in as sign_in_store
from vigil.store.db import Store
from vigil.store.sign_in import Counted

CLIENT = "client"
KEY = "key"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEY_ID = re.compile(r"^[0-9a-f]{1,32}$")  # what create_key makes (12 hex digits), with room to grow
MAX_SUBJECT_LENGTH = 128


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """How many failed sign-ins a client address and an API key id may make in one window."""

    window: timedelta
    per_client: int
    per_key: int

    def limit(self, scope: str) -> int:
        return self.per_client if scope == CLIENT else self.per_key


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in under way: the counters it reserved a failure on, or, when refused, until when."""

    counted: tuple[Counted, ...]
    window_start: datetime
    refused_until: datetime | None = None

    @property
    def refused(self) -> bool:
        return self.refused_until is not None

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the refusal ends (at least 1), for ``Retry-After``."""
        if self.refused_until is None:
            return 0
        return max(1, math.ceil((self.refused_until - now).total_seconds()))


def client_subject(host: str | None) -> str:
    """The client as the limit counts it: its IPv4 address, the /64 network of its IPv6 address, or
    the host as given (a test client, a Unix socket) cut to the column's length."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:MAX_SUBJECT_LENGTH]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def key_subject(token: str) -> str | None:
    """The public id of the key a submitted token claims to be (``vgl_<id>_...``), or None when the
    token is not shaped like a key (it then counts against the client alone)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != key_store.PREFIX or not _KEY_ID.fullmatch(parts[1]):
        return None
    return parts[1]


class SignInLimiter:
    """The sign-in limit over the store's counters."""

    def __init__(self, store: Store, limits: SignInLimits) -> None:
        self.store = store
        self.limits = limits

    def window_start(self, now: datetime) -> datetime:
        seconds = int(self.limits.window.total_seconds())
        elapsed = int((now - _EPOCH).total_seconds())
        return _EPOCH + timedelta(seconds=elapsed - elapsed % seconds)

    def begin(self, subjects: Mapping[str, str | None], now: datetime) -> Attempt:
        """Reserve one failure on each counter of ``subjects`` (scope to subject; None: not counted);
        the attempt is refused, and reserves nothing, when any counter would go over its limit."""
        counted = tuple(sorted(Counted(scope, subject) for scope, subject in subjects.items() if subject))
        start = self.window_start(now)
        with self.store.transaction() as db:
            counts = sign_in_store.reserve(db, counted, start)
            over = [c for c in counted if counts.get(c, 0) > self.limits.limit(c.scope)]
            if over:
                sign_in_store.give_back(db, counted, start)
        if over:
            return Attempt(counted, start, start + self.limits.window)
        if any(counts.get(c) == 1 for c in counted):
            # a counter's first failure in a window: a good moment to forget windows long over
            with self.store.transaction() as db:
                sign_in_store.purge_failures(db, start - self.limits.window)
        return Attempt(counted, start)

    def release(self, attempt: Attempt) -> None:
        """The attempt was no failure (the key was right; the provider, not the person, failed):
        its reservation is given back."""
        if attempt.refused or not attempt.counted:
            return
        with self.store.transaction() as db:
            sign_in_store.give_back(db, attempt.counted, attempt.window_start)
