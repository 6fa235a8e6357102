"""``/v1/audit``: read the audit chain and verify it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_store
from vigil.api.inputs import Cursor
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


class VerifyOut(BaseModel):
    intact: bool
    events_checked: int
    head_hash: str
    first_broken_seq: int | None
    reason: str | None


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


@router.get("/audit/verify", response_model=VerifyOut, summary="Verify the whole chain")
def verify(_principal: Principal = Depends(authorized), store: Store = Depends(get_store)) -> VerifyOut:
    with store.transaction() as session:
        verdict = audit_store.verify(session)
    return VerifyOut(
        intact=verdict.intact,
        events_checked=verdict.events_checked,
        head_hash=verdict.head_hash,
        first_broken_seq=verdict.broken.seq if verdict.broken else None,
        reason=verdict.broken.reason if verdict.broken else None,
    )
