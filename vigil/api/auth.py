"""Bearer API keys: who is calling. Which roles may call which route is vigil/api/access.py's table."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request

from vigil.api.errors import ApiError
from vigil.domain.roles import Role
from vigil.store import keys as key_store
from vigil.store.db import Store

# what the audit chain's actor columns hold (case and order events keep 100 characters)
MAX_ACTOR_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Identity:
    """A person as their organisation's OpenID Connect provider vouched for them: the provider
    (``issuer``) and its stable id for the person (``subject``), with a name and email to show when
    the provider gave them."""

    issuer: str
    subject: str
    name: str = ""
    email: str = ""

    @property
    def actor(self) -> str:
        """``oidc:<issuer host>:<subject>``; when that is too long for the audit chain, the subject
        gives way to a digest of issuer and subject (the sign-in's audit event keeps both whole)."""
        host = urlsplit(self.issuer).netloc or self.issuer
        actor = f"oidc:{host}:{self.subject}"
        if len(actor) <= MAX_ACTOR_LENGTH:
            return actor
        digest = hashlib.sha256(f"{self.issuer}\x00{self.subject}".encode()).hexdigest()[:32]
        return f"oidc:{host[:40]}:~{digest}"

    @property
    def shown(self) -> str:
        """How the console names the person: the name, else the email, else the subject."""
        return self.name or self.email or self.subject


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key, its role, and the organisation or authority it is bound to; or, for
    a person signed in to a console through their organisation, their identity (and no key)."""

    key_id: str | None
    role: Role
    bound_to: str | None
    identity: Identity | None = None

    @property
    def actor(self) -> str:
        """How the audit chain names this caller: the person when there is one, else the key."""
        if self.identity is not None:
            return self.identity.actor
        return f"key:{self.key_id}"


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise ApiError(
            401,
            "unauthenticated",
            "an API key is required: 'Authorization: Bearer <key>'",
            headers=_CHALLENGE,
        )
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthenticated", "use 'Authorization: Bearer <key>'", headers=_CHALLENGE)
    store: Store = request.app.state.store
    with store.transaction() as session:
        info = key_store.authenticate(session, token.strip())
    if info is None:
        raise ApiError(401, "invalid_api_key", "the API key is unknown or revoked", headers=_CHALLENGE)
    return Principal(info.id, info.role, info.bound_to)
