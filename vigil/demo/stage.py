"""Setting the demo's stage over Vigil's own API: the keys of everyone who takes part, the hash banks
a hash-sharing partner filled, a trusted flagger, two authorities with their signing keys, and the
platform's webhook endpoint. An operator does the same, in the same order, on a real deployment."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vigil.demo.corpus import BankedPicture
from vigil.detect.hashing.media import fingerprint

FLAGGER_ID = "demo-hotline"


class DemoSetupError(RuntimeError):
    """Vigil refused a step of the set-up (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class Authority:
    """A public authority: its registration id, country, API key and the private half of its
    signing key (which never leaves the authority in reality)."""

    id: str
    country: str
    key: str
    signing_key: Ed25519PrivateKey

    def sign(self, body: bytes) -> str:
        """The ``Vigil-Signature`` header of an order: base64 of the Ed25519 signature of the body."""
        return base64.b64encode(self.signing_key.sign(body)).decode()


@dataclass(frozen=True, slots=True)
class Stage:
    platform_key: str
    reviewer_key: str
    senior_reviewer_key: str
    legal_key: str
    senior_legal_key: str
    flagger_key: str
    tco_authority: Authority  # sends terrorist-content removal orders (auto-executed in the EU)
    art9_authority: Authority  # sends DSA Art. 9 orders (always read by a lawyer first)
    webhook_secret: str


def _call(client: httpx.Client, method: str, path: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"})
    if response.status_code >= 400:
        raise DemoSetupError(f"{method} {path} was refused: {response.status_code} {response.text[:300]}")
    answer: dict[str, Any] = response.json()
    return answer


def _key(client: httpx.Client, admin: str, role: str, label: str, bound_to: str | None = None) -> str:
    body: dict[str, Any] = {"role": role, "label": label}
    if bound_to is not None:
        body["bound_to"] = bound_to
    return str(_call(client, "POST", "/v1/keys", admin, body)["key"])


def _authority(
    client: httpx.Client, admin: str, id: str, name: str, country: str, competence: list[str]
) -> Authority:
    signing_key = Ed25519PrivateKey.generate()
    public = signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    _call(
        client,
        "POST",
        "/v1/authorities",
        admin,
        {
            "id": id,
            "name": name,
            "country": country,
            "competence": competence,
            "contact_email": f"orders@{id}.example",
            "public_key": base64.b64encode(public).decode(),
        },
    )
    return Authority(id, country, _key(client, admin, "authority", name, id), signing_key)


def set_stage(client: httpx.Client, admin: str, banked: tuple[BankedPicture, ...], webhook_url: str) -> Stage:
    """Register everyone and everything the demo needs, through the API, with the admin key."""
    _call(
        client,
        "POST",
        "/v1/trusted-flaggers",
        admin,
        {
            "id": FLAGGER_ID,
            "name": "Demo Online Safety Hotline",
            "country": "DE",
            "expertise": ["terrorism", "hate_speech", "csam"],
            "coordinator": "Demo Digital Services Coordinator",
            "contact_email": "notices@demo-hotline.example",
        },
    )
    for bank in sorted({p.bank: p.category for p in banked}.items()):
        _call(client, "POST", "/v1/banks", admin, {"name": bank[0], "category": bank[1], "source": "partner"})
    for number, picture in enumerate(banked, 1):
        found = fingerprint(picture.data, expect_image=True)
        hashes = [{"type": "md5", "value": found.md5, "source_id": f"partner-{number}"}]
        hashes += (
            [{"type": "pdq", "value": found.pdq[0], "source_id": f"partner-{number}"}] if found.pdq else []
        )
        _call(client, "POST", f"/v1/banks/{picture.bank}/hashes", admin, {"hashes": hashes})
    platform = _key(client, admin, "platform", "demo platform")
    endpoint = _call(
        client, "POST", "/v1/webhooks", platform, {"url": webhook_url, "description": "demo platform"}
    )
    return Stage(
        platform_key=platform,
        reviewer_key=_key(client, admin, "reviewer", "demo reviewer"),
        senior_reviewer_key=_key(client, admin, "senior_reviewer", "demo senior reviewer"),
        legal_key=_key(client, admin, "legal", "demo legal"),
        senior_legal_key=_key(client, admin, "senior_legal", "demo senior legal"),
        flagger_key=_key(client, admin, "trusted_flagger", "demo hotline", FLAGGER_ID),
        tco_authority=_authority(
            client, admin, "fr-demo-police", "Demo Police Nationale", "FR", ["tco_removal"]
        ),
        art9_authority=_authority(
            client, admin, "de-demo-prosecutor", "Demo Staatsanwaltschaft", "DE", ["dsa_art9"]
        ),
        webhook_secret=str(endpoint["secret"]),
    )
