"""``/v1/audit``: read the audit chain and verify it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_store
from vigil.api.inputs import Cursor
from vigil.domain.ids import utcnow
from vigil.store import audit as audit_store
from vigil.store.db import Store

router = APIRouter(tags=["audit"])


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: str
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class CheckpointOut(BaseModel):
    seq: int
    hash: str
    at: str
    events_checked: int
    full: bool


class VerifyOut(BaseModel):
    intact: bool
    events_checked: int
    head_hash: str
    first_broken_seq: int | None
    reason: str | None
    full: bool
    from_seq: int
    to_seq: int
    head_seq: int
    partial: bool
    unsealed: int
    checkpoint: CheckpointOut | None


# the most events one request verifies: a request never walks a long chain; the next request goes on
# from the checkpoint this one records, and `vigil audit verify --full` walks the whole chain
VERIFY_MAX_EVENTS = 50_000


@router.get("/audit/events", response_model=list[AuditEventOut], summary="Audit events in chain order")
def events(
    after: Annotated[Cursor, Query(description="return events with seq greater than this")] = 0,
    limit: int = Query(default=100, ge=1, le=1000),
    subject_id: str | None = Query(default=None, max_length=200),
    _principal: Principal = Depends(authorized),
    store: Store = Depends(get_store),
) -> list[AuditEventOut]:
    with store.transaction() as session:
        found = audit_store.list_events(session, after=after, limit=limit, subject_id=subject_id)
    return [AuditEventOut.model_validate(e) for e in found]


@router.get("/audit/verify", response_model=VerifyOut, summary="Verify the chain since its last checkpoint")
def verify(
    limit: int = Query(
        default=VERIFY_MAX_EVENTS,
        ge=1,
        le=VERIFY_MAX_EVENTS,
        description="verify at most this many events past the last checkpoint",
    ),
    _principal: Principal = Depends(authorized),
    store: Store = Depends(get_store),
) -> VerifyOut:
    return VerifyOut.model_validate(audit_store.seal_and_check(store, utcnow(), limit=limit).to_json())
