"""``/v1/review/agreement``: how often people agree with the machines, and with each other."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_store
from vigil.review.quality import Agreement, agreement
from vigil.store.db import Store

router = APIRouter(tags=["review"])


class AgreementOut(BaseModel):
    compared: int
    agreed: int
    rate: float | None = Field(description="agreed / compared; null when nothing was compared")


class CategoryAgreementOut(BaseModel):
    category: str
    automation_vs_reviewer: AgreementOut = Field(
        description="closed cases on automated decisions: the reviewer kept the machine's restrictions"
    )
    reviewer_vs_reviewer: AgreementOut = Field(
        description="decided appeals against decisions a person took: the second reviewer upheld them"
    )


def _out(found: Agreement) -> AgreementOut:
    return AgreementOut(compared=found.compared, agreed=found.agreed, rate=found.rate)


@router.get(
    "/review/agreement",
    response_model=list[CategoryAgreementOut],
    summary="Agreement rates per category: automation vs reviewers, reviewers vs reviewers",
)
def get_agreement(
    _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> list[CategoryAgreementOut]:
    with store.transaction() as session:
        rows = agreement(session)
    return [
        CategoryAgreementOut(
            category=r.category,
            automation_vs_reviewer=_out(r.automation_vs_reviewer),
            reviewer_vs_reviewer=_out(r.reviewer_vs_reviewer),
        )
        for r in rows
    ]
