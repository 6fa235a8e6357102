"""``/v1/keys``: create, list, rotate and revoke API keys (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_admin, get_store
from vigil.api.errors import ApiError, not_found
from vigil.api.inputs import Visible
from vigil.domain.roles import BOUND_ROLES, Role
from vigil.pipeline.admin import Admin
from vigil.store import keys as key_store
from vigil.store.db import Store

router = APIRouter(tags=["keys"])


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    label: Annotated[str, Field(max_length=200), Visible()] = ""
    bound_to: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the organisation (trusted_flagger) or authority (authority)",
    )

    @model_validator(mode="after")
    def _binding(self) -> KeyIn:
        if self.role in BOUND_ROLES and self.bound_to is None:
            raise ValueError(f"{self.role.value} keys must be bound_to their organisation or authority")
        if self.role not in BOUND_ROLES and self.bound_to is not None:
            raise ValueError(f"{self.role.value} keys are not bound to an organisation")
        return self


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    role: Role
    label: str
    bound_to: str | None
    created_at: datetime
    revoked_at: datetime | None


class CreatedKeyOut(KeyOut):
    key: str = Field(description="the API key; shown only now, store it safely")


def _created(info: key_store.KeyInfo, token: str) -> CreatedKeyOut:
    return CreatedKeyOut(**KeyOut.model_validate(info).model_dump(), key=token)


def _check_binding(store: Store, role: Role, bound_to: str | None) -> None:
    with store.transaction() as session:
        problem = key_store.binding_problem(session, role, bound_to)
    if problem is not None:
        raise ApiError(422, "unknown_binding", problem)


@router.post("/keys", status_code=201, response_model=CreatedKeyOut, summary="Create an API key")
def create(
    body: KeyIn,
    principal: Principal = Depends(authorized),
    admin: Admin = Depends(get_admin),
    store: Store = Depends(get_store),
) -> CreatedKeyOut:
    _check_binding(store, body.role, body.bound_to)
    return _created(*admin.create_key(body.role, body.label, body.bound_to, principal.actor))


@router.get("/keys", response_model=list[KeyOut], summary="List API keys (never their secrets)")
def list_keys(_principal: Principal = Depends(authorized), store: Store = Depends(get_store)) -> list[KeyOut]:
    with store.transaction() as session:
        return [KeyOut.model_validate(k) for k in key_store.list_keys(session)]


@router.post("/keys/{key_id}/rotate", status_code=201, response_model=CreatedKeyOut, summary="Rotate a key")
def rotate(
    key_id: str, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> CreatedKeyOut:
    rotated = admin.rotate_key(key_id, principal.actor)
    if rotated is None:
        raise not_found(f"active key {key_id!r}")
    return _created(*rotated)


@router.delete("/keys/{key_id}", response_model=KeyOut, summary="Revoke a key")
def revoke(
    key_id: str, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> KeyOut:
    info = admin.revoke_key(key_id, principal.actor)
    if info is None:
        raise not_found(f"key {key_id!r}")
    return KeyOut.model_validate(info)
