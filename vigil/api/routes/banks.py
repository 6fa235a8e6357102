"""``/v1/banks``: create banks, add hashes, list them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_admin, get_store
from vigil.api.errors import ApiError, not_found
from vigil.api.inputs import Visible
from vigil.api.routes.hashes import HashTypeName
from vigil.detect.hashing.banks import BankFileError, BankFormat, export_bank, parse_bank_file
from vigil.detect.registry import SIGNAL_TYPES
from vigil.domain.hashes import MAX_VPDQ_TEXT, InvalidHashError, ListedHash
from vigil.domain.taxonomy import Category
from vigil.pipeline.admin import Admin
from vigil.store import banks as bank_store
from vigil.store import retro as retro_store
from vigil.store.db import Store

router = APIRouter(tags=["banks"])


class BankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100), Visible()]
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

    type: HashTypeName
    value: str = Field(min_length=1, max_length=MAX_VPDQ_TEXT)
    source_id: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=1000)


class HashesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hashes: list[HashIn] = Field(min_length=1, max_length=10_000)


class AddOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    added: int
    duplicates: int
    version: int


class EnabledIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


@router.post("/banks", status_code=201, response_model=BankOut, summary="Create a bank")
def create_bank(
    body: BankIn, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> BankOut:
    return BankOut.model_validate(
        admin.create_bank(body.name, body.category, body.source, body.threshold, principal.actor)
    )


@router.get("/banks", response_model=list[BankOut], summary="List banks")
def list_banks(
    _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> list[BankOut]:
    with store.transaction() as session:
        return [BankOut.model_validate(b) for b in bank_store.list_banks(session)]


@router.get("/banks/{name}", response_model=BankOut, summary="One bank")
def get_bank(
    name: str, _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> BankOut:
    with store.transaction() as session:
        try:
            return BankOut.model_validate(bank_store.get_bank(session, name))
        except bank_store.BankNotFoundError:
            raise not_found(f"bank {name!r}") from None


@router.post("/banks/{name}/hashes", response_model=AddOut, summary="Add hashes to a bank (all or nothing)")
def add_hashes(
    name: str, body: HashesIn, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> AddOut:
    hashes: list[ListedHash] = []
    problems: list[dict[str, str]] = []
    for index, item in enumerate(body.hashes):
        try:
            hashes.append(
                ListedHash(
                    item.type,
                    SIGNAL_TYPES.normalise(item.type, item.value),
                    source_id=item.source_id,
                    note=item.note,
                )
            )
        except InvalidHashError as exc:
            problems.append({"loc": f"hashes.{index}.value", "message": str(exc)})
    if problems:
        raise ApiError(422, "invalid_hash", f"{len(problems)} hash(es) refused; nothing was added", problems)
    try:
        report = admin.add_hashes(name, hashes, principal.actor)
    except bank_store.BankNotFoundError:
        raise not_found(f"bank {name!r}") from None
    return AddOut.model_validate(report)  # the report's bank_id and new_ids are for the store's callers


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: BankFormat = BankFormat.CSV
    type: HashTypeName | None = Field(default=None, description="hash type of a plain list")
    partial: bool = Field(default=False, description="import the good rows even if some are refused")
    content: str = Field(min_length=1, description="the file's text")


class RefusedRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line: int
    reason: str


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    accepted: int
    refused: list[RefusedRowOut]
    imported: bool
    added: int
    duplicates: int
    version: int


@router.post("/banks/{name}/import", response_model=ImportOut, summary="Import a hash list (all or nothing)")
def import_file(
    name: str, body: ImportIn, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> ImportOut:
    try:
        with admin.store.transaction() as session:
            category = bank_store.get_bank(session, name).category
        parsed = parse_bank_file(body.content, body.format, category, body.type)
    except bank_store.BankNotFoundError:
        raise not_found(f"bank {name!r}") from None
    except BankFileError as exc:
        raise ApiError(422, "invalid_file", str(exc)) from None
    report = admin.import_hashes(name, parsed, body.partial, principal.actor)
    if not report.imported:
        raise ApiError(
            422,
            "rows_refused",
            f"{len(report.refused)} rows refused; nothing was imported (send partial=true to import the rest)",
            [{"loc": f"content.line.{r.line}", "message": r.reason} for r in report.refused[:1000]],
        )
    return ImportOut.model_validate(report)


@router.get(
    "/banks/{name}/export",
    summary="The bank as Vigil CSV, or as threatexchange lines",
    response_class=StreamingResponse,
)
def export(
    name: str,
    fmt: Annotated[
        Literal["csv", "threatexchange"], Query(alias="format", description="csv (default) or threatexchange")
    ] = "csv",
    _principal: Principal = Depends(authorized),
    store: Store = Depends(get_store),
) -> StreamingResponse:
    bank_format = BankFormat(fmt)
    with store.transaction() as session:
        try:
            bank_store.get_bank(session, name)
        except bank_store.BankNotFoundError:
            raise not_found(f"bank {name!r}") from None

    def lines() -> Iterator[str]:
        with store.transaction() as session:
            yield from export_bank(bank_store.export_rows(session, name), bank_format)

    media_type, suffix = ("text/csv", "csv") if bank_format is BankFormat.CSV else ("text/plain", "txt")
    return StreamingResponse(
        lines(),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{suffix}"'},
    )


class RetroJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    bank: str
    state: str
    progress: float = Field(description="share of the content seen before the job that is matched so far")
    matched: int = Field(
        description="content items that match the new hashes (decided again where that changes the decision)"
    )
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


@router.get(
    "/banks/{name}/retro", response_model=list[RetroJobOut], summary="Retroactive matching jobs, newest first"
)
def retro_jobs(
    name: str, _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> list[RetroJobOut]:
    with store.transaction() as session:
        try:
            bank_store.get_bank(session, name)
        except bank_store.BankNotFoundError:
            raise not_found(f"bank {name!r}") from None
        return [RetroJobOut.model_validate(job) for job in retro_store.list_jobs(session, name)]


@router.put("/banks/{name}/enabled", response_model=BankOut, summary="Enable or disable a bank")
def set_enabled(
    name: str, body: EnabledIn, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> BankOut:
    try:
        return BankOut.model_validate(admin.set_bank_enabled(name, body.enabled, principal.actor))
    except bank_store.BankNotFoundError:
        raise not_found(f"bank {name!r}") from None
