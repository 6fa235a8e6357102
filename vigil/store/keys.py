"""API keys: random, shown once, stored as a SHA-256 digest, revocable and rotatable.

The secret is 256 random bits, so a fast digest is enough (no password-hashing work factor is
needed against guessing); the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.domain.roles import Role
from vigil.store.records import from_row
from vigil.store.tables import ApiKey, Authority, TrustedFlagger

PREFIX = "vgl"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What may be shown about a key: never its secret."""

    id: str
    role: Role
    label: str
    bound_to: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _info(row: ApiKey) -> KeyInfo:
    return from_row(KeyInfo, row)  # secret_hash is no field of KeyInfo, so it is never read


def create_key(
    session: Session, role: Role, label: str, bound_to: str | None, now: datetime
) -> tuple[KeyInfo, str]:
    """Create a key; returns its info and the token, which is never retrievable again."""
    key_id = secrets.token_hex(6)
    token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=key_id, secret_hash=_digest(token), role=role.value, label=label, bound_to=bound_to, created_at=now
    )
    session.add(row)
    return _info(row), token


def authenticate(session: Session, token: str) -> KeyInfo | None:
    """The active key behind ``token``, or None (unknown, malformed or revoked alike)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    row = session.get(ApiKey, parts[1])
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _digest(token)):
        return None
    return _info(row)


def get_key(session: Session, key_id: str) -> KeyInfo | None:
    row = session.get(ApiKey, key_id)
    return _info(row) if row else None


def list_keys(session: Session) -> list[KeyInfo]:
    return [_info(r) for r in session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))]


def revoke_key(session: Session, key_id: str, now: datetime) -> KeyInfo | None:
    """Revoke a key (idempotent); None if there is no such key."""
    row = session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = now
    return _info(row)


# what a bound key's ``bound_to`` must name: a key for an organisation no one registered would let its
# holder speak for it (a trusted flagger's priority lane, an authority's orders)
_BINDINGS: dict[Role, tuple[type[TrustedFlagger] | type[Authority], str]] = {
    Role.TRUSTED_FLAGGER: (TrustedFlagger, "registered trusted flagger (POST /v1/trusted-flaggers)"),
    Role.AUTHORITY: (Authority, "registered authority (POST /v1/authorities)"),
}


def binding_problem(session: Session, role: Role, bound_to: str | None) -> str | None:
    """Why a key of ``role`` cannot be bound to ``bound_to`` (nobody registered it), or None."""
    if role not in _BINDINGS or bound_to is None:
        return None
    table, what = _BINDINGS[role]
    if session.get(table, bound_to) is None:
        return f"bound_to {bound_to!r} is not a {what}"
    return None
