"""``/v1/banks``: create banks, add hashes, list them."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.auth import Principal, require
from vigil.api.deps import get_admin, get_store
from vigil.api.errors import ApiError, not_found
from vigil.domain.hashes import HashType, InvalidHashError, ListedHash, normalise_hash
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.pipeline.admin import Admin
from vigil.store import banks as bank_store
from vigil.store.db import Store

router = APIRouter(tags=["banks"])

_ADMINS = require(Role.ADMIN)
_READERS = require(Role.ADMIN, Role.LEGAL, Role.AUDITOR)


class BankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    category: Category
    source: str = Field(default="", max_length=100)
    threshold: int = Field(default=31, ge=0, le=256, description="PDQ match distance for this bank")


class BankOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    category: Category
    source: str
    threshold: int
    enabled: bool
    version: int
    hash_count: int
    created_at: datetime
    updated_at: datetime


class HashIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: HashType
    value: str = Field(min_length=1, max_length=200)
    source_id: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=1000)


class HashesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hashes: list[HashIn] = Field(min_length=1, max_length=10_000)


class AddOut(BaseModel):
    added: int
    duplicates: int
    version: int


class EnabledIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


def _out(bank: bank_store.BankInfo) -> BankOut:
    return BankOut.model_validate(bank)


@router.post("/banks", status_code=201, response_model=BankOut, summary="Create a bank")
def create_bank(
    body: BankIn, principal: Principal = Depends(_ADMINS), admin: Admin = Depends(get_admin)
) -> BankOut:
    try:
        return _out(admin.create_bank(body.name, body.category, body.source, body.threshold, principal.actor))
    except bank_store.BankExistsError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except bank_store.BankError as exc:
        raise ApiError(422, "invalid_bank", str(exc)) from None


@router.get("/banks", response_model=list[BankOut], summary="List banks")
def list_banks(_principal: Principal = Depends(_READERS), store: Store = Depends(get_store)) -> list[BankOut]:
    with store.transaction() as session:
        return [_out(b) for b in bank_store.list_banks(session)]


@router.get("/banks/{name}", response_model=BankOut, summary="One bank")
def get_bank(
    name: str, _principal: Principal = Depends(_READERS), store: Store = Depends(get_store)
) -> BankOut:
    with store.transaction() as session:
        try:
            return _out(bank_store.get_bank(session, name))
        except bank_store.BankNotFoundError:
            raise not_found(f"bank {name!r}") from None


@router.post("/banks/{name}/hashes", response_model=AddOut, summary="Add hashes to a bank (all or nothing)")
def add_hashes(
    name: str, body: HashesIn, principal: Principal = Depends(_ADMINS), admin: Admin = Depends(get_admin)
) -> AddOut:
    hashes: list[ListedHash] = []
    problems: list[dict[str, str]] = []
    for index, item in enumerate(body.hashes):
        try:
            hashes.append(
                ListedHash(item.type, normalise_hash(item.type, item.value), item.source_id, item.note)
            )
        except InvalidHashError as exc:
            problems.append({"loc": f"hashes.{index}.value", "message": str(exc)})
    if problems:
        raise ApiError(422, "invalid_hash", f"{len(problems)} hash(es) refused; nothing was added", problems)
    try:
        report = admin.add_hashes(name, hashes, principal.actor)
    except bank_store.BankNotFoundError:
        raise not_found(f"bank {name!r}") from None
    return AddOut(added=report.added, duplicates=report.duplicates, version=report.version)


@router.put("/banks/{name}/enabled", response_model=BankOut, summary="Enable or disable a bank")
def set_enabled(
    name: str, body: EnabledIn, principal: Principal = Depends(_ADMINS), admin: Admin = Depends(get_admin)
) -> BankOut:
    try:
        return _out(admin.set_bank_enabled(name, body.enabled, principal.actor))
    except bank_store.BankNotFoundError:
        raise not_found(f"bank {name!r}") from None
