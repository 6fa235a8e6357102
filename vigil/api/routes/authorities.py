"""``/v1/authorities``: the registry of public authorities that may send orders (administrators register)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_authorities
from vigil.api.errors import ApiError, not_found
from vigil.api.inputs import Identifier
from vigil.domain.jurisdictions import UnknownCountryError
from vigil.domain.orders import OrderType
from vigil.intake.authorities import AuthorityRegistry, NewAuthority

router = APIRouter(tags=["authorities"])


Slug = Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
PublicKey = Annotated[
    str, Field(min_length=40, max_length=64, description="Ed25519 public key: its raw 32 bytes in base64")
]


class AuthorityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug = Field(description="the id its API keys are bound to, e.g. 'fr-ocrv'")
    name: Identifier
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    competence: list[OrderType] = Field(min_length=1, max_length=len(OrderType))
    contact_email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    contact_phone: str = Field(default="", max_length=64, pattern=r"^[0-9 +()./-]*$")
    public_key: PublicKey


class PublicKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key: PublicKey


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class AuthorityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    country: str
    competence: list[OrderType]
    contact_email: str
    contact_phone: str
    public_key: str
    active: bool
    created_at: datetime
    updated_at: datetime

    @field_validator("competence", mode="before")
    @classmethod
    def _in_order(cls, value: Iterable[OrderType]) -> list[OrderType]:
        return sorted(value)  # the registry holds a set; the answer lists it in one stable order


@router.post("/authorities", response_model=AuthorityOut, status_code=201, summary="Register an authority")
def register(
    body: AuthorityIn,
    principal: Principal = Depends(authorized),
    registry: AuthorityRegistry = Depends(get_authorities),
) -> AuthorityOut:
    new = NewAuthority(
        body.id,
        body.name,
        body.country,
        frozenset(body.competence),
        body.contact_email,
        body.contact_phone,
        body.public_key,
    )
    try:
        info = registry.register(new, principal.actor)
    except UnknownCountryError as exc:
        raise ApiError(422, "invalid_authority", str(exc)) from None
    return AuthorityOut.model_validate(info)


@router.get("/authorities", response_model=list[AuthorityOut], summary="The registered authorities")
def list_authorities(
    _principal: Principal = Depends(authorized), registry: AuthorityRegistry = Depends(get_authorities)
) -> list[AuthorityOut]:
    return [AuthorityOut.model_validate(a) for a in registry.list()]


@router.get("/authorities/{authority_id}", response_model=AuthorityOut, summary="One registered authority")
def get_authority(
    authority_id: str,
    _principal: Principal = Depends(authorized),
    registry: AuthorityRegistry = Depends(get_authorities),
) -> AuthorityOut:
    info = registry.get(authority_id)
    if info is None:
        raise not_found(f"no authority {authority_id!r}")
    return AuthorityOut.model_validate(info)


@router.post(
    "/authorities/{authority_id}/public-key",
    response_model=AuthorityOut,
    summary="Replace the authority's signing key; orders signed with the old one are refused from now on",
)
def rotate_key(
    authority_id: str,
    body: PublicKeyIn,
    principal: Principal = Depends(authorized),
    registry: AuthorityRegistry = Depends(get_authorities),
) -> AuthorityOut:
    return AuthorityOut.model_validate(registry.rotate_key(authority_id, body.public_key, principal.actor))


@router.post(
    "/authorities/{authority_id}/deactivate",
    response_model=AuthorityOut,
    summary="Stop accepting the authority's orders",
)
def deactivate(
    authority_id: str,
    body: ReasonIn,
    principal: Principal = Depends(authorized),
    registry: AuthorityRegistry = Depends(get_authorities),
) -> AuthorityOut:
    return AuthorityOut.model_validate(registry.set_active(authority_id, False, principal.actor, body.reason))


@router.post(
    "/authorities/{authority_id}/reactivate",
    response_model=AuthorityOut,
    summary="Accept the authority's orders again",
)
def reactivate(
    authority_id: str,
    body: ReasonIn,
    principal: Principal = Depends(authorized),
    registry: AuthorityRegistry = Depends(get_authorities),
) -> AuthorityOut:
    return AuthorityOut.model_validate(registry.set_active(authority_id, True, principal.actor, body.reason))
