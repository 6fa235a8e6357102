"""Bearer API keys and roles: every route names the roles allowed to call it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from vigil.api.errors import ApiError
from vigil.domain.roles import Role
from vigil.store import keys as key_store
from vigil.store.db import Store


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key, its role, and the organisation or authority it is bound to."""

    key_id: str
    role: Role
    bound_to: str | None

    @property
    def actor(self) -> str:
        """How the audit chain names this caller."""
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


def require(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency that admits only keys of ``roles``."""
    allowed = frozenset(roles)

    def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        if principal.role not in allowed:
            raise ApiError(
                403,
                "forbidden",
                f"role '{principal.role.value}' may not do this; allowed: {', '.join(sorted(r.value for r in allowed))}",
            )
        return principal

    return dependency
