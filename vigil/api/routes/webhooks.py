"""``/v1/webhooks``: register endpoints, watch deliveries, retry dead ones."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_admin, get_store
from vigil.api.errors import ApiError, not_found
from vigil.api.inputs import RowId, Visible
from vigil.domain.enforcement import DeliveryState
from vigil.enforce.egress import (
    ALLOWABLE,
    VIGIL_ITSELF,
    AddressClass,
    AddressForbidden,
    EgressPolicy,
    HostNotResolved,
    OutboundUrl,
    UrlInvalid,
    parse_url,
    without_credentials,
)
from vigil.enforce.outbox import public_error
from vigil.pipeline.admin import Admin
from vigil.store import outbox as outbox_store
from vigil.store.db import Store

router = APIRouter(tags=["webhooks"])


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # checked by the route, not here, so that a refusal has its own error code (docs/webhooks.md)
    url: str = Field(description="an http:// or https:// URL; see docs/webhooks.md for what is accepted")
    description: Annotated[str, Field(max_length=500), Visible()] = ""


class EndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str
    active: bool
    created_at: datetime

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        return without_credentials(value)  # rows registered before credentials were refused


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

    @field_validator("last_error")
    @classmethod
    def _coarse(cls, value: str) -> str:
        return public_error(value)  # a category, never an exception's text about the host


def _checked(url: str, egress: EgressPolicy) -> OutboundUrl:
    """The URL as it will be stored, or the 422 that says why it cannot be registered.

    The URL is not quoted back: it may hold a password.
    """
    try:
        target = parse_url(url)
    except UrlInvalid as exc:
        raise ApiError(422, "webhook_url_invalid", f"url {exc}") from None
    try:
        egress.addresses(target.host, target.port)
    except HostNotResolved:
        raise ApiError(
            422, "webhook_host_unresolved", "url: the host does not resolve to any address"
        ) from None
    except AddressForbidden as exc:
        raise ApiError(422, "webhook_address_forbidden", _forbidden(target, exc)) from None
    return target


def _forbidden(target: OutboundUrl, refused: AddressForbidden) -> str:
    # a name's addresses are not shown: they would map the operator's internal DNS for the caller
    subject = "url: the host is" if target.address is not None else "url: the host resolves to"
    if refused.reason == VIGIL_ITSELF:
        return f"url: port {target.port} on this machine is Vigil's own API"
    kind = "cloud metadata" if refused.reason == "cloud_metadata" else refused.reason.replace("_", "-")
    article = "an" if kind[0] in "aeiou" else "a"
    if AddressClass(refused.reason) in ALLOWABLE:
        return (
            f"{subject} {article} {kind} address; this Vigil sends only to the loopback and private "
            "networks its operator allows (VIGIL_WEBHOOK_ALLOWED_NETWORKS)"
        )
    return f"{subject} {article} {kind} address, which Vigil never sends to"


@router.post("/webhooks", status_code=201, response_model=CreatedEndpointOut, summary="Register an endpoint")
def create(
    body: EndpointIn,
    request: Request,
    principal: Principal = Depends(authorized),
    admin: Admin = Depends(get_admin),
) -> CreatedEndpointOut:
    target = _checked(body.url, request.app.state.egress)
    endpoint, secret = admin.create_webhook(target.url, body.description, principal.actor)
    return CreatedEndpointOut(**EndpointOut.model_validate(endpoint).model_dump(), secret=secret)


@router.get("/webhooks", response_model=list[EndpointOut], summary="List endpoints")
def list_endpoints(
    _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> list[EndpointOut]:
    with store.transaction() as session:
        return [EndpointOut.model_validate(e) for e in outbox_store.list_endpoints(session)]


@router.delete("/webhooks/{endpoint_id}", response_model=EndpointOut, summary="Stop sending to an endpoint")
def deactivate(
    endpoint_id: str, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> EndpointOut:
    endpoint = admin.deactivate_webhook(endpoint_id, principal.actor)
    if endpoint is None:
        raise not_found(f"webhook endpoint {endpoint_id!r}")
    return EndpointOut.model_validate(endpoint)


@router.get("/webhooks/deliveries", response_model=list[DeliveryOut], summary="Deliveries, newest first")
def deliveries(
    state: DeliveryState | None = Query(default=None, description="e.g. 'dead' for the dead-letter list"),
    limit: int = Query(default=100, ge=1, le=1000),
    _principal: Principal = Depends(authorized),
    store: Store = Depends(get_store),
) -> list[DeliveryOut]:
    with store.transaction() as session:
        found = outbox_store.list_deliveries(session, state=state, limit=limit)
    return [DeliveryOut.model_validate(d) for d in found]


@router.post("/webhooks/deliveries/{delivery_id}/retry", status_code=202, summary="Retry a dead delivery")
def retry(
    delivery_id: RowId, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> dict[str, str]:
    if not admin.retry_delivery(delivery_id, principal.actor):
        raise not_found(f"dead delivery {delivery_id}")
    return {"status": "queued"}
