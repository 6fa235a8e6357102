"""Signing and verifying webhooks.

Every request carries ``Vigil-Signature: t=<unix seconds>,v1=<hex>``, where the hex is
HMAC-SHA256 with the endpoint's secret over ``"<t>." + body``. A receiver recomputes it, compares in
constant time, and refuses timestamps outside its replay window (default 300 s), so a captured
request cannot be replayed later. ``Vigil-Event-Id`` lets it drop redeliveries it has already
applied: delivery is at-least-once.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Vigil-Signature"
EVENT_ID_HEADER = "Vigil-Event-Id"
EVENT_TYPE_HEADER = "Vigil-Event-Type"
ATTEMPT_HEADER = "Vigil-Delivery-Attempt"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``Vigil-Signature`` header for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


class SignatureError(ValueError):
    """The request was not signed by Vigil with this secret, or is too old or too new."""


def verify_signature(
    secret: str, header: str, body: bytes, now: int, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> int:
    """Check a ``Vigil-Signature`` header; returns its timestamp or raises SignatureError.

    This is what a platform runs on every webhook it receives (any HMAC library does the same).
    """
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("no timestamp in signature header") from None
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"timestamp outside the {tolerance} s replay window")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", [])):
        raise SignatureError("signature does not match")
    return timestamp
