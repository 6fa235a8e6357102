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
from vigil.detect.hashing.banks import BankFileError, BankFormat, export_bank, parse_bank_file
from vigil.domain.hashes import MAX_VPDQ_TEXT, HashType, InvalidHashError, ListedHash, normalise_hash
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

    type: HashType
    value: str = Field(min_length=1, max_length=MAX_VPDQ_TEXT)
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
    body: BankIn, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> BankOut:
    try:
        return _out(admin.create_bank(body.name, body.category, body.source, body.threshold, principal.actor))
    except bank_store.BankExistsError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except bank_store.BankError as exc:
        raise ApiError(422, "invalid_bank", str(exc)) from None


@router.get("/banks", response_model=list[BankOut], summary="List banks")
def list_banks(
    _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> list[BankOut]:
    with store.transaction() as session:
        return [_out(b) for b in bank_store.list_banks(session)]


@router.get("/banks/{name}", response_model=BankOut, summary="One bank")
def get_bank(
    name: str, _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> BankOut:
    with store.transaction() as session:
        try:
            return _out(bank_store.get_bank(session, name))
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
                    normalise_hash(item.type, item.value),
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
    return AddOut(added=report.added, duplicates=report.duplicates, version=report.version)


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: BankFormat = BankFormat.CSV
    type: HashType | None = Field(default=None, description="hash type of a plain list")
    partial: bool = Field(default=False, description="import the good rows even if some are refused")
    content: str = Field(min_length=1, description="the file's text")


class RefusedRowOut(BaseModel):
    line: int
    reason: str


class ImportOut(BaseModel):
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
    return ImportOut(
        accepted=report.accepted,
        refused=[RefusedRowOut(line=r.line, reason=r.reason) for r in report.refused],
        imported=report.imported,
        added=report.added,
        duplicates=report.duplicates,
        version=report.version,
    )


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
        return _out(admin.set_bank_enabled(name, body.enabled, principal.actor))
    except bank_store.BankNotFoundError:
        raise not_found(f"bank {name!r}") from None
