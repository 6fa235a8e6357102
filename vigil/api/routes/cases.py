"""``/v1/queues`` and ``/v1/cases``: human review over HTTP.

Each queue names the roles that may see it; a case in a queue the caller's role may not review is
answered 403 (the child-safety queue and its media stay with the roles trained for them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_desk, get_store
from vigil.domain.decisions import Action, decision_to_json
from vigil.domain.ids import utcnow
from vigil.review.cases import CaseDesk, Reviewer, Verdict
from vigil.review.casework import RankedCase, rank, ranked_open_cases, read_case_file, reviewable_queue
from vigil.review.history import Record
from vigil.store import cases as case_store
from vigil.store.db import Store

router = APIRouter(tags=["review"])

MAX_CASES_LISTED = 500


def _reviewer(principal: Principal) -> Reviewer:
    return Reviewer(principal.actor, principal.role)


class QueueOut(BaseModel):
    name: str
    description: str
    open_cases: int
    sensitive: bool


class CaseOut(BaseModel):
    id: str
    subject: dict[str, str]
    content_id: str | None
    state: str
    reason: str
    queue: str
    category: str | None
    source: str
    language: str
    country: str
    reach: int
    priority: int
    deadline: datetime | None
    seconds_left: float | None = Field(description="until the deadline; negative when overdue")
    decision_id: str
    assignee: str | None
    lease_expires_at: datetime | None
    escalated: bool
    opened_at: datetime
    closed_at: datetime | None
    closing_decision_id: str | None


class CaseEventOut(BaseModel):
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]


class PastDecisionOut(BaseModel):
    decision_id: str
    content_id: str
    created_at: datetime
    outcome: str
    category: str | None
    by_a_person: bool


class RecordOut(BaseModel):
    id: str
    items_decided: int
    items_restricted: int = Field(description="items restricted now, each by its decision in force")
    strikes: int = Field(description="the strikes of the decisions in force on those items")
    latest: list[PastDecisionOut]


class CaseNoticeOut(BaseModel):
    """A notice the case answers, as a reviewer needs it: the allegation, not the notifier's identity."""

    id: str
    source: str = Field(description="notice (a user, through the platform) or trusted_flagger")
    flagger_id: str | None
    category: str = Field(description="the illegality alleged")
    legal_ground: str | None
    explanation: str = Field(
        description="why the notifier says it is illegal, as written (escape it when shown)"
    )
    url: str | None
    received_at: datetime
    deadline: datetime
    state: str


class CaseDetailOut(CaseOut):
    events: list[CaseEventOut]
    author: RecordOut | None = Field(description="the record of the content's author on their other content")
    channel: RecordOut | None = Field(description="the record of the content's channel")
    decision: dict[str, Any] | None = Field(description="the decision under review")
    signals: list[dict[str, Any]] = Field(description="what the detectors found, with their evidence")
    text: str = Field(description="the content's text, as the user wrote it (escape it when shown)")
    notices: list[CaseNoticeOut] = Field(description="the notices this case answers")


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actions: list[Action] = Field(
        default_factory=list, max_length=len(Action), description="what to put in force; none: no violation"
    )
    policy_id: str | None = Field(
        default=None, max_length=64, description="the policy the restriction rests on"
    )
    note: str = Field(default="", max_length=5000)


class VerdictOut(BaseModel):
    case_id: str
    decision_id: str
    decision: dict[str, Any]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=5000)


def _out(ranked: RankedCase) -> CaseOut:
    case = ranked.case
    return CaseOut(
        id=case.id,
        subject={"type": case.subject.type.value, "id": case.subject.id},
        content_id=case.content_id,
        state=case.state.value,
        reason=case.reason.value,
        queue=case.queue,
        category=case.category.value if case.category else None,
        source=case.source,
        language=case.language,
        country=case.country,
        reach=case.reach,
        priority=ranked.priority,
        deadline=case.deadline,
        seconds_left=ranked.seconds_left,
        decision_id=case.decision_id,
        assignee=case.assignee,
        lease_expires_at=case.lease_expires_at,
        escalated=case.escalated,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        closing_decision_id=case.closing_decision_id,
    )


@router.get("/queues", response_model=list[QueueOut], summary="The review queues the caller may see")
def list_queues(
    principal: Principal = Depends(authorized),
    desk: CaseDesk = Depends(get_desk),
    store: Store = Depends(get_store),
) -> list[QueueOut]:
    with store.transaction() as session:
        counts = case_store.open_counts(session)
    return [
        QueueOut(
            name=q.name, description=q.description, open_cases=counts.get(q.name, 0), sensitive=q.sensitive
        )
        for q in desk.queues.visible_to(principal.role)
    ]


@router.get("/cases", response_model=list[CaseOut], summary="A queue's open cases, highest priority first")
def list_cases(
    queue: str = Query(max_length=64),
    limit: int = Query(default=100, ge=1, le=MAX_CASES_LISTED),
    principal: Principal = Depends(authorized),
    desk: CaseDesk = Depends(get_desk),
    store: Store = Depends(get_store),
) -> list[CaseOut]:
    reviewable_queue(desk.queues, queue, principal.role)
    with store.transaction() as session:
        ranked = ranked_open_cases(session, queue, utcnow(), limit)
    return [_out(r) for r in ranked]


@router.get(
    "/cases/{case_id}", response_model=CaseDetailOut, summary="One case with its evidence and history"
)
def get_case(
    case_id: str, principal: Principal = Depends(authorized), desk: CaseDesk = Depends(get_desk)
) -> CaseDetailOut:
    file = read_case_file(desk, case_id, _reviewer(principal))
    reviewed = file.reviewed
    return CaseDetailOut(
        **_out(rank(file.case, utcnow())).model_dump(),
        events=[CaseEventOut(at=e.at, actor=e.actor, kind=e.kind, detail=e.detail) for e in file.events],
        decision=decision_to_json(reviewed.decision) if reviewed else None,
        signals=[s.to_activation() for s in reviewed.signals] if reviewed else [],
        text=file.content.text if file.content else "",
        author=_record(file.history.author),
        channel=_record(file.history.channel),
        notices=[
            CaseNoticeOut(
                id=n.id,
                source=n.source.value,
                flagger_id=n.flagger_id,
                category=n.category.value,
                legal_ground=n.legal_ground,
                explanation=n.explanation,
                url=n.url,
                received_at=n.received_at,
                deadline=n.deadline,
                state=n.state.value,
            )
            for n in file.notices
        ],
    )


def _record(record: Record | None) -> RecordOut | None:
    if record is None:
        return None
    return RecordOut(
        id=record.id,
        items_decided=record.items_decided,
        items_restricted=record.items_restricted,
        strikes=record.strikes,
        latest=[
            PastDecisionOut(
                decision_id=d.decision_id,
                content_id=d.content_id,
                created_at=d.created_at,
                outcome=d.outcome,
                category=d.category,
                by_a_person=d.by_a_person,
            )
            for d in record.latest
        ],
    )


@router.post("/cases/{case_id}/claim", response_model=CaseOut, summary="Claim a case under an expiring lease")
def claim(
    case_id: str, principal: Principal = Depends(authorized), desk: CaseDesk = Depends(get_desk)
) -> CaseOut:
    return _out(rank(desk.claim(case_id, _reviewer(principal)), utcnow()))


@router.post("/cases/{case_id}/release", status_code=204, summary="Give a claimed case back to its queue")
def release(
    case_id: str, principal: Principal = Depends(authorized), desk: CaseDesk = Depends(get_desk)
) -> None:
    desk.release(case_id, _reviewer(principal))


@router.post("/cases/{case_id}/notes", status_code=204, summary="Add an internal note")
def add_note(
    case_id: str, body: NoteIn, principal: Principal = Depends(authorized), desk: CaseDesk = Depends(get_desk)
) -> None:
    desk.note(case_id, _reviewer(principal), body.text)


@router.post("/cases/{case_id}/escalate", summary="Send a claimed case to senior review")
def escalate(
    case_id: str,
    body: EscalateIn,
    principal: Principal = Depends(authorized),
    desk: CaseDesk = Depends(get_desk),
) -> dict[str, str]:
    return {"queue": desk.escalate(case_id, _reviewer(principal), body.note)}


@router.post("/cases/{case_id}/decision", response_model=VerdictOut, summary="Decide a claimed case")
def decide(
    case_id: str,
    body: VerdictIn,
    principal: Principal = Depends(authorized),
    desk: CaseDesk = Depends(get_desk),
) -> VerdictOut:
    verdict = Verdict(frozenset(body.actions), body.policy_id, body.note)
    decision_id, decision = desk.decide(case_id, _reviewer(principal), verdict)
    return VerdictOut(case_id=case_id, decision_id=decision_id, decision=decision_to_json(decision))
