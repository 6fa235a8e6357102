"""``/v1/trusted-flaggers``: the registry of trusted flaggers (DSA Art. 22), their statistics, and
suspension (Art. 23). See ``docs/notices.md``.

Admins register, suspend and reinstate; admins, legal staff and auditors read everything; a trusted
flagger's key reads its own organisation (``/me``, or its own id) and nothing else: any other id is
answered 404, as an unknown one is.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_notices
from vigil.api.errors import not_found
from vigil.api.routes.notices import Email
from vigil.domain.jurisdictions import normalise_country
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.intake.flaggers import (
    UNFOUNDED_MIN_DECIDED,
    UNFOUNDED_SHARE,
    FlaggerRegistry,
    FlaggerStatistics,
    NewFlagger,
)
from vigil.intake.notices import NoticeDesk
from vigil.store.notices import FlaggerInfo

router = APIRouter(tags=["trusted flaggers"])


def _registry(desk: NoticeDesk = Depends(get_notices)) -> FlaggerRegistry:
    return desk.flaggers


class FlaggerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$", description="a slug; keys are bound to it")
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 of its establishment")
    expertise: list[Category] = Field(
        min_length=1, max_length=len(Category), description="the categories its status covers"
    )
    coordinator: str = Field(
        min_length=1, max_length=200, description="the Digital Services Coordinator that awarded the status"
    )
    contact_email: Email

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return normalise_country(value)


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=10, max_length=5000, description="why, for the flagger and the coordinator (Art. 22(6))"
    )


class StatisticsOut(BaseModel):
    notices: int
    decided: int
    open: int
    actioned: int = Field(description="decided with a restriction")
    unfounded: int = Field(description="decided with no restriction")
    share_actioned: float | None
    share_unfounded: float | None
    median_seconds_to_decision: float | None
    window_days: int
    window_decided: int
    window_unfounded: int
    repeatedly_unfounded: bool = Field(
        description=f"at least {UNFOUNDED_MIN_DECIDED} notices decided in the window and"
        f" {UNFOUNDED_SHARE:.0%} or more of them unfounded"
    )


class FlaggerOut(BaseModel):
    id: str
    name: str
    country: str
    expertise: list[str]
    coordinator: str
    contact_email: str
    state: str
    suspended_at: datetime | None = Field(description="the last suspension, kept after reinstatement")
    suspension_reason: str | None
    created_at: datetime
    updated_at: datetime
    statistics: StatisticsOut | None = None


def _out(info: FlaggerInfo, statistics: FlaggerStatistics | None = None) -> FlaggerOut:
    return FlaggerOut(
        id=info.id,
        name=info.name,
        country=info.country,
        expertise=[c.value for c in info.expertise],
        coordinator=info.coordinator,
        contact_email=info.contact_email,
        state=info.state.value,
        suspended_at=info.suspended_at,
        suspension_reason=info.suspension_reason,
        created_at=info.created_at,
        updated_at=info.updated_at,
        statistics=StatisticsOut(
            notices=statistics.notices,
            decided=statistics.decided,
            open=statistics.open,
            actioned=statistics.actioned,
            unfounded=statistics.unfounded,
            share_actioned=statistics.share_actioned,
            share_unfounded=statistics.share_unfounded,
            median_seconds_to_decision=statistics.median_seconds_to_decision,
            window_days=statistics.window_days,
            window_decided=statistics.window_decided,
            window_unfounded=statistics.window_unfounded,
            repeatedly_unfounded=statistics.repeatedly_unfounded,
        )
        if statistics is not None
        else None,
    )


def _with_statistics(registry: FlaggerRegistry, flagger_id: str) -> FlaggerOut:
    found = registry.get(flagger_id)
    if found is None:
        raise not_found(f"trusted flagger {flagger_id!r}")
    return _out(*found)


@router.post(
    "/trusted-flaggers", status_code=201, response_model=FlaggerOut, summary="Register a trusted flagger"
)
def register(
    body: FlaggerIn,
    principal: Principal = Depends(authorized),
    registry: FlaggerRegistry = Depends(_registry),
) -> FlaggerOut:
    new = NewFlagger(
        body.id,
        body.name,
        body.country,
        tuple(dict.fromkeys(body.expertise)),
        body.coordinator,
        body.contact_email,
    )
    return _out(registry.register(new, principal.actor))


@router.get("/trusted-flaggers", response_model=list[FlaggerOut], summary="The registered trusted flaggers")
def list_flaggers(
    _principal: Principal = Depends(authorized), registry: FlaggerRegistry = Depends(_registry)
) -> list[FlaggerOut]:
    return [_out(f) for f in registry.list()]


@router.get(
    "/trusted-flaggers/me",
    response_model=FlaggerOut,
    summary="The caller's own organisation, with statistics",
)
def own_flagger(
    principal: Principal = Depends(authorized), registry: FlaggerRegistry = Depends(_registry)
) -> FlaggerOut:
    return _with_statistics(registry, principal.bound_to or "")


@router.get(
    "/trusted-flaggers/{flagger_id}", response_model=FlaggerOut, summary="A trusted flagger, with statistics"
)
def get_flagger(
    flagger_id: str,
    principal: Principal = Depends(authorized),
    registry: FlaggerRegistry = Depends(_registry),
) -> FlaggerOut:
    if principal.role is Role.TRUSTED_FLAGGER and flagger_id != principal.bound_to:
        raise not_found(f"trusted flagger {flagger_id!r}")  # another's: not even whether it exists
    return _with_statistics(registry, flagger_id)


@router.post(
    "/trusted-flaggers/{flagger_id}/suspend",
    response_model=FlaggerOut,
    summary="Suspend the processing of a trusted flagger's notices (DSA Art. 23(2))",
)
def suspend(
    flagger_id: str,
    body: SuspendIn,
    principal: Principal = Depends(authorized),
    registry: FlaggerRegistry = Depends(_registry),
) -> FlaggerOut:
    registry.suspend(flagger_id, body.reason, principal.actor)
    return _with_statistics(registry, flagger_id)


@router.post(
    "/trusted-flaggers/{flagger_id}/reinstate", response_model=FlaggerOut, summary="Process its notices again"
)
def reinstate(
    flagger_id: str,
    principal: Principal = Depends(authorized),
    registry: FlaggerRegistry = Depends(_registry),
) -> FlaggerOut:
    registry.reinstate(flagger_id, principal.actor)
    return _with_statistics(registry, flagger_id)
