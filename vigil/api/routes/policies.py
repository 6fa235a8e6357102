"""``/v1/policies``: validate, apply (new version) and list policies."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_admin, get_store
from vigil.api.errors import ApiError, not_found
from vigil.domain.decisions import PolicyMode
from vigil.pipeline.admin import Admin
from vigil.policy.loader import MAX_POLICY_BYTES, PolicyDefinition, PolicyValidationError, parse_policies
from vigil.store import policies as policy_store
from vigil.store.db import Store

router = APIRouter(tags=["policies"])


class PolicySourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        min_length=1, max_length=MAX_POLICY_BYTES, description="one or more YAML policy documents"
    )
    file: str = Field(default="<request>", max_length=200, description="a name for error messages")


class ValidatedOut(BaseModel):
    ids: list[str]


class AppliedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    version: int
    changed: bool


class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    version: int
    mode: PolicyMode
    active: bool
    source: str
    created_at: datetime
    created_by: str


def _parse(body: PolicySourceIn) -> list[PolicyDefinition]:
    try:
        return parse_policies(body.source, file=body.file)
    except PolicyValidationError as exc:
        raise ApiError(
            422,
            "invalid_policy",
            str(exc),
            [{"file": p.file, "line": p.line, "message": p.message} for p in exc.problems],
        ) from None


@router.post(
    "/policies/validate", response_model=ValidatedOut, summary="Check policies without applying them"
)
def validate(body: PolicySourceIn, _principal: Principal = Depends(authorized)) -> ValidatedOut:
    return ValidatedOut(ids=[d.id for d in _parse(body)])


@router.post("/policies", status_code=201, response_model=list[AppliedOut], summary="Apply policies")
def apply(
    body: PolicySourceIn, principal: Principal = Depends(authorized), admin: Admin = Depends(get_admin)
) -> list[AppliedOut]:
    results = admin.apply_policies(_parse(body), principal.actor)
    return [AppliedOut.model_validate(r) for r in results]


@router.get("/policies", response_model=list[PolicyOut], summary="The policy versions in force")
def list_policies(
    _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> list[PolicyOut]:
    with store.transaction() as session:
        return [PolicyOut.model_validate(p) for p in policy_store.list_policies(session)]


@router.get(
    "/policies/{policy_id}/versions", response_model=list[PolicyOut], summary="Every version of a policy"
)
def versions(
    policy_id: str, _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> list[PolicyOut]:
    with store.transaction() as session:
        history = policy_store.policy_history(session, policy_id)
    if not history:
        raise not_found(f"policy {policy_id!r}")
    return [PolicyOut.model_validate(p) for p in history]
