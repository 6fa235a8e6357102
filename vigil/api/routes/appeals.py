"""``/v1/appeals``: a user's complaint against a decision (DSA Art. 20), filed by the platform."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_appeals
from vigil.api.errors import not_found
from vigil.api.inputs import Identifier
from vigil.review.appeals import AppealDesk
from vigil.store.appeals import AppealInfo

router = APIRouter(tags=["appeals"])


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(min_length=1, max_length=32, description="the decision the user contests")
    appellant: Identifier = Field(description="the platform's id of the user")
    statement: str = Field(default="", max_length=10_000, description="why the user contests it, as written")


class AppealOut(BaseModel):
    id: str
    decision_id: str
    subject: dict[str, str]
    appellant: str
    statement: str
    received_at: datetime
    case_id: str
    state: str
    outcome: str | None = Field(description="upheld, overturned or changed, once decided")
    decided_at: datetime | None
    result_decision_id: str | None


def _out(info: AppealInfo) -> AppealOut:
    return AppealOut(
        id=info.id,
        decision_id=info.decision_id,
        subject={"type": info.subject.type.value, "id": info.subject.id},
        appellant=info.appellant,
        statement=info.statement,
        received_at=info.received_at,
        case_id=info.case_id,
        state=info.state,
        outcome=info.outcome,
        decided_at=info.decided_at,
        result_decision_id=info.result_decision_id,
    )


@router.post(
    "/appeals",
    response_model=AppealOut,
    status_code=201,
    summary="File a user's appeal against a decision (201; 200 with the open appeal if already filed)",
)
def file_appeal(
    body: AppealIn,
    response: Response,
    principal: Principal = Depends(authorized),
    desk: AppealDesk = Depends(get_appeals),
) -> AppealOut:
    info, new = desk.file(body.decision_id, body.appellant, body.statement, principal.actor)
    if not new:
        response.status_code = 200
    return _out(info)


@router.get("/appeals/{appeal_id}", response_model=AppealOut, summary="An appeal and how it ended")
def get_appeal(
    appeal_id: str, _principal: Principal = Depends(authorized), desk: AppealDesk = Depends(get_appeals)
) -> AppealOut:
    info = desk.get(appeal_id)
    if info is None:
        raise not_found(f"appeal {appeal_id!r}")
    return _out(info)
