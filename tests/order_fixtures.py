"""An authority as the tests play it: an Ed25519 signing key, and orders it signs."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vigil.intake.authorities import SIGNATURE_HEADER


@dataclass
class SigningAuthority:
    """An authority's identity: its registry entry and its private signing key."""

    id: str
    country: str
    competence: list[str]
    name: str = ""
    private_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def public_key(self) -> str:
        raw = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def registration(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name or f"Authority {self.id}",
            "country": self.country,
            "competence": self.competence,
            "contact_email": f"orders@{self.id}.example",
            "contact_phone": "+33 1 00 00 00 00",
            "public_key": self.public_key,
        }

    def sign(self, body: bytes) -> str:
        return base64.b64encode(self.private_key.sign(body)).decode()

    def signed(self, document: dict[str, Any], key: str) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a signed request with the authority's API key."""
        body = json.dumps(document).encode()
        return body, {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.sign(body),
        }


def removal_order(
    authority: SigningAuthority, reference: str, content_id: str, issued_at: datetime | None = None
) -> dict[str, Any]:
    """A terrorist-content removal order (Regulation 2021/784 Art. 3) for one item."""
    return {
        "authority_id": authority.id,
        "reference": reference,
        "type": "tco_removal",
        "issued_at": (issued_at or datetime.now(UTC)).isoformat(),
        "language": "fr",
        "legal_basis": "Règlement (UE) 2021/784, art. 3",
        "statement_of_reasons": "Vidéo de propagande appelant à commettre des infractions terroristes.",
        "targets": [{"content_id": content_id}],
        "redress": "Recours devant le tribunal administratif de Paris.",
    }


def order_to_act(
    authority: SigningAuthority,
    reference: str,
    content_id: str,
    scope: str | list[str],
    category: str = "hate_speech",
) -> dict[str, Any]:
    """A DSA Art. 9 order to act against illegal content."""
    return {
        "authority_id": authority.id,
        "reference": reference,
        "type": "dsa_art9",
        "issued_at": datetime.now(UTC).isoformat(),
        "language": "fr",
        "legal_basis": "Loi du 29 juillet 1881, art. 24 bis (contestation de crimes contre l'humanité)",
        "statement_of_reasons": "Contestation de l'existence de crimes contre l'humanité.",
        "category": category,
        "territorial_scope": scope,
        "targets": [{"content_id": content_id}],
        "redress": "Recours devant le tribunal judiciaire de Paris.",
    }
