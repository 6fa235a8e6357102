"""``/v1/webhooks``: register endpoints, watch deliveries, retry dead ones."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigil.api.auth import Principal, require
from vigil.api.deps import get_admin, get_store
from vigil.api.errors import not_found
from vigil.domain.enforcement import DeliveryState
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.store import outbox as outbox_store
from vigil.store.db import Store

router = APIRouter(tags=["webhooks"])

_MANAGERS = require(Role.PLATFORM, Role.ADMIN)


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    description: str = Field(default="", max_length=500)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value


class EndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str
    active: bool
    created_at: datetime


class CreatedEndpointOut(EndpointOut):
    secret: str = Field(description="the signing secret; shown only now")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    event_type: str
    endpoint_id: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


@router.post("/webhooks", status_code=201, response_model=CreatedEndpointOut, summary="Register an endpoint")
def create(
    body: EndpointIn, principal: Principal = Depends(_MANAGERS), admin: Admin = Depends(get_admin)
) -> CreatedEndpointOut:
    endpoint, secret = admin.create_webhook(body.url, body.description, principal.actor)
    return CreatedEndpointOut(**EndpointOut.model_validate(endpoint).model_dump(), secret=secret)


@router.get("/webhooks", response_model=list[EndpointOut], summary="List endpoints")
def list_endpoints(
    _principal: Principal = Depends(_MANAGERS), store: Store = Depends(get_store)
) -> list[EndpointOut]:
    with store.transaction() as session:
        return [EndpointOut.model_validate(e) for e in outbox_store.list_endpoints(session)]


@router.delete("/webhooks/{endpoint_id}", response_model=EndpointOut, summary="Stop sending to an endpoint")
def deactivate(
    endpoint_id: str, principal: Principal = Depends(_MANAGERS), admin: Admin = Depends(get_admin)
) -> EndpointOut:
    endpoint = admin.deactivate_webhook(endpoint_id, principal.actor)
    if endpoint is None:
        raise not_found(f"webhook endpoint {endpoint_id!r}")
    return EndpointOut.model_validate(endpoint)


@router.get("/webhooks/deliveries", response_model=list[DeliveryOut], summary="Deliveries, newest first")
def deliveries(
    state: DeliveryState | None = Query(default=None, description="e.g. 'dead' for the dead-letter list"),
    limit: int = Query(default=100, ge=1, le=1000),
    _principal: Principal = Depends(_MANAGERS),
    store: Store = Depends(get_store),
) -> list[DeliveryOut]:
    with store.transaction() as session:
        found = outbox_store.list_deliveries(session, state=state, limit=limit)
    return [DeliveryOut.model_validate(d) for d in found]


@router.post("/webhooks/deliveries/{delivery_id}/retry", status_code=202, summary="Retry a dead delivery")
def retry(
    delivery_id: int, principal: Principal = Depends(_MANAGERS), admin: Admin = Depends(get_admin)
) -> dict[str, str]:
    if not admin.retry_delivery(delivery_id, principal.actor):
        raise not_found(f"dead delivery {delivery_id}")
    return {"status": "queued"}
