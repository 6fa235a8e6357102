"""The registry of public authorities, and the proof that an order comes from one.

An order is accepted only from a registered, active authority, through an API key bound to it, and
with a detached Ed25519 signature of the exact request body made with the authority's private key
(the public key is in the registry). The key authenticates the channel; the signature
authenticates the order: a leaked API key alone cannot forge an order, and a stolen signing key
alone cannot deliver one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vigil.domain.errors import ErrorKind, NotFoundError, VigilError
from vigil.domain.events import AuditAction
from vigil.domain.jurisdictions import DSA_TERRITORIES, normalise_country
from vigil.domain.orders import OrderType
from vigil.store import authorities as authority_store
from vigil.store.audit import AuditLog
from vigil.store.authorities import AuthorityInfo, get_authority
from vigil.store.db import Store
from vigil.store.tables import Authority

SIGNATURE_HEADER = "Vigil-Signature"
ED25519_KEY_BYTES = 32
ED25519_SIGNATURE_BYTES = 64

# Orders under EU law come only from authorities of the member states (and the EEA states that
# apply the DSA); an authority elsewhere may ask for preservation or an emergency disclosure under
# its own law, which the safeguards then hold for senior legal review.
EU_LAW_ORDERS = frozenset(
    {OrderType.TERRORIST_REMOVAL, OrderType.ACT_AGAINST_CONTENT, OrderType.PROVIDE_INFORMATION}
)


class AuthorityError(VigilError, ValueError):
    """A registration that cannot be accepted, said so the administrator can fix it."""

    code = "invalid_authority"


class AuthorityNotFoundError(AuthorityError, NotFoundError):
    kind = ErrorKind.NOT_FOUND
    code = "not_found"


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its raw 32 bytes in base64 (standard or URL-safe)."""
    try:
        raw = base64.b64decode(text.strip() + "=" * (-len(text.strip()) % 4), altchars=b"-_", validate=False)
    except (binascii.Error, ValueError):
        raise AuthorityError("public_key: not base64") from None
    if len(raw) != ED25519_KEY_BYTES:
        raise AuthorityError(
            f"public_key: an Ed25519 public key is {ED25519_KEY_BYTES} bytes, this one is {len(raw)}"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_valid(public_key: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64 of 64 bytes) is the authority's Ed25519 signature of ``body``."""
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(raw) != ED25519_SIGNATURE_BYTES:
        return False
    try:
        parse_public_key(public_key).verify(raw, body)
    except (InvalidSignature, AuthorityError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class NewAuthority:
    id: str
    name: str
    country: str
    competence: frozenset[OrderType]
    contact_email: str
    contact_phone: str
    public_key: str


class AuthorityRegistry:
    """Registers, re-keys and deactivates authorities; every change is audited."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def register(self, new: NewAuthority, actor: str) -> AuthorityInfo:
        country = normalise_country(new.country)
        parse_public_key(new.public_key)
        _check_competence(country, new.competence)
        now = self.clock()
        with self.store.transaction() as session:
            if authority_store.authority_row(session, new.id) is not None:
                raise AuthorityError(
                    f"an authority {new.id!r} is registered already",
                    kind=ErrorKind.CONFLICT,
                    code="authority_exists",
                )
            row = Authority(
                id=new.id,
                name=new.name,
                country=country,
                competence=sorted(t.value for t in new.competence),
                contact_email=new.contact_email,
                contact_phone=new.contact_phone,
                public_key=new.public_key.strip(),
                active=True,
                created_at=now,
                updated_at=now,
            )
            registered = authority_store.add_authority(session, row)
            AuditLog(session).append(
                actor,
                AuditAction.AUTHORITY_REGISTERED,
                "authority",
                new.id,
                {"name": new.name, "country": country, "competence": row.competence},
                now,
            )
            return registered

    def list(self) -> list[AuthorityInfo]:
        with self.store.transaction() as session:
            return authority_store.list_authorities(session)

    def get(self, authority_id: str) -> AuthorityInfo | None:
        with self.store.transaction() as session:
            return get_authority(session, authority_id)

    def _change(
        self,
        authority_id: str,
        actor: str,
        action: AuditAction,
        change: Callable[[Authority], dict[str, object]],
    ) -> AuthorityInfo:
        now = self.clock()
        with self.store.transaction() as session:
            row = authority_store.authority_row(session, authority_id)
            if row is None:
                raise AuthorityNotFoundError(f"no authority {authority_id!r}")
            detail = change(row)
            row.updated_at = now
            AuditLog(session).append(actor, action, "authority", authority_id, detail, now)
            return authority_store.info(row)

    def rotate_key(self, authority_id: str, public_key: str, actor: str) -> AuthorityInfo:
        """Replace the authority's public key: orders signed with the old key are refused from now on."""
        parse_public_key(public_key)

        def change(row: Authority) -> dict[str, object]:
            row.public_key = public_key.strip()
            return {"public_key": row.public_key}

        return self._change(authority_id, actor, AuditAction.AUTHORITY_KEY_ROTATED, change)

    def set_active(self, authority_id: str, active: bool, actor: str, reason: str) -> AuthorityInfo:
        def change(row: Authority) -> dict[str, object]:
            row.active = active
            return {"reason": reason}

        action = AuditAction.AUTHORITY_REACTIVATED if active else AuditAction.AUTHORITY_DEACTIVATED
        return self._change(authority_id, actor, action, change)


def _check_competence(country: str, competence: Collection[OrderType]) -> None:
    if not competence:
        raise AuthorityError("competence: name at least one order type the authority may issue")
    eu_law = sorted(t.value for t in competence if t in EU_LAW_ORDERS)
    if eu_law and country not in DSA_TERRITORIES:
        raise AuthorityError(
            f"competence: {', '.join(eu_law)} are orders under EU law, which only authorities of EU and "
            f"EEA states issue; {country} is not one"
        )
