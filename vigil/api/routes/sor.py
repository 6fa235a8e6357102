"""``/v1/sor``: statements of reasons (DSA Art. 17), what the user is told, and their submission to
the DSA Transparency Database (Art. 24(5)).

The platform reads a decision's statement and its rendering for the user (``/notice?lang=fr``) to
inform them; legal staff and auditors read the same, and the report of statements the database
refused with its reasons; an admin sends a refused one again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_store
from vigil.api.errors import ApiError, not_found
from vigil.api.inputs import Cursor, RowId
from vigil.domain.ids import utcnow
from vigil.review.appeals import APPEAL_WINDOW
from vigil.store import content as content_store
from vigil.store import statements as statement_store
from vigil.store.db import Store
from vigil.store.statements import (
    StatementInfo,
    StatementState,
    SubmissionInfo,
    SubmissionState,
)
from vigil.transparency.sor import Standing, notice_language, render_notice, restrictions
from vigil.transparency.sor_texts import LANGUAGES

router = APIRouter(tags=["statements of reasons"])

MAX_LISTED = 500


class SubmissionOut(BaseModel):
    id: int
    statement_id: str
    decision_id: str
    puid: str
    state: str = Field(
        description="pending, submitted, rejected, or not_applicable (restricted outside the EEA)"
    )
    attempts: int
    next_attempt_at: datetime
    last_error: str
    rejection: dict[str, Any] | None = Field(description="the database's reasons, per field, when rejected")
    database_uuid: str | None = Field(description="the statement's id in the DSA Transparency Database")
    submitted_at: datetime | None
    created_at: datetime


class StatementOut(BaseModel):
    statement_id: str
    decision_id: str = Field(description="the decision that issued the statement (its puid)")
    requested_decision_id: str = Field(
        description="the decision asked about: a later one that confirmed the restriction unchanged is"
        " explained by the statement of the decision it confirmed"
    )
    puid: str
    content_id: str | None
    state: str = Field(description="in_force, superseded (the restriction changed) or revoked (lifted)")
    superseded_by: str | None = Field(description="the statement that replaced it")
    superseded_by_decision_id: str | None
    created_at: datetime
    updated_at: datetime
    statement: dict[str, Any] = Field(description="the fields the DSA Transparency Database receives")
    submission: SubmissionOut | None


class NoticeOut(BaseModel):
    decision_id: str
    statement_id: str
    language: str
    state: str
    text: str = Field(description="the statement as the user reads it, in plain text")
    parts: dict[str, Any] = Field(description="the same, in parts: measures, scope, ground, redress ...")


def _submission(info: SubmissionInfo) -> SubmissionOut:
    return SubmissionOut(
        id=info.id,
        statement_id=info.statement_id,
        decision_id=info.decision_id,
        puid=info.puid,
        state=info.state.value,
        attempts=info.attempts,
        next_attempt_at=info.next_attempt_at,
        last_error=info.last_error,
        rejection=info.rejection,
        database_uuid=info.database_uuid,
        submitted_at=info.submitted_at,
        created_at=info.created_at,
    )


def _explaining(session: Session, decision_id: str) -> StatementInfo:
    """The statement that explains ``decision_id``: its own, or for a decision that confirmed a
    restriction unchanged, the one in force when it was taken."""
    found = statement_store.of_decision(session, decision_id)
    if found is not None:
        return found
    stored = content_store.get_decision(session, decision_id)
    if stored is None:
        raise not_found(f"decision {decision_id!r}")
    if not restrictions(stored.decision) or stored.content_id is None:
        raise ApiError(
            404, "no_statement", f"decision {decision_id} restricts nothing: it has no statement of reasons"
        )
    found = statement_store.issued_by(session, stored.content_id, stored.created_at)
    if found is None:
        raise ApiError(
            404, "no_statement", f"decision {decision_id} was taken before statements of reasons were kept"
        )
    return found


@router.get(
    "/sor/submissions",
    response_model=list[SubmissionOut],
    summary="Submissions to the DSA Transparency Database, e.g. the rejected ones with the database's reasons",
)
def list_submissions(
    state: SubmissionState | None = Query(default=None, description="only those in this state"),
    after: Annotated[Cursor, Query(description="only those with a larger id (the next page)")] = 0,
    limit: int = Query(default=100, ge=1, le=MAX_LISTED),
    _principal: Principal = Depends(authorized),
    store: Store = Depends(get_store),
) -> list[SubmissionOut]:
    with store.transaction() as session:
        return [_submission(s) for s in statement_store.list_submissions(session, state, after, limit)]


@router.post(
    "/sor/submissions/{submission_id}/retry",
    response_model=SubmissionOut,
    summary="Send a rejected (or waiting) statement to the DSA Transparency Database again now",
)
def retry_submission(
    submission_id: RowId, principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> SubmissionOut:
    with store.transaction() as session:
        info = statement_store.retry(session, submission_id, principal.actor, utcnow())
    if info is None:
        raise not_found(f"submission {submission_id}")
    return _submission(info)


@router.get("/sor/{decision_id}", response_model=StatementOut, summary="A decision's statement of reasons")
def get_statement(
    decision_id: str, _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> StatementOut:
    with store.transaction() as session:
        info = _explaining(session, decision_id)
        submission = statement_store.submission_of(session, info.id)
        successor = statement_store.get(session, info.superseded_by) if info.superseded_by else None
    return StatementOut(
        statement_id=info.id,
        decision_id=info.decision_id,
        requested_decision_id=decision_id,
        puid=info.puid,
        content_id=info.content_id,
        state=info.state.value,
        superseded_by=info.superseded_by,
        superseded_by_decision_id=successor.decision_id if successor else None,
        created_at=info.created_at,
        updated_at=info.updated_at,
        statement=info.statement,
        submission=_submission(submission) if submission else None,
    )


@router.get(
    "/sor/{decision_id}/notice",
    response_model=NoticeOut,
    summary="The statement of reasons as the affected user reads it, with the redress open to them",
)
def get_notice(
    decision_id: str,
    lang: str | None = Query(
        default=None,
        max_length=8,
        description=f"one of {', '.join(LANGUAGES)}; default: the content's language if available, else en",
    ),
    _principal: Principal = Depends(authorized),
    store: Store = Depends(get_store),
) -> NoticeOut:
    with store.transaction() as session:
        info = _explaining(session, decision_id)
        issuing = content_store.get_decision(session, info.decision_id)
        successor = statement_store.get(session, info.superseded_by) if info.superseded_by else None
    if issuing is None:  # a statement's decision is a foreign key: only a broken store lacks it
        raise not_found(f"decision {info.decision_id!r}")
    try:
        language = notice_language(lang, info.statement)
    except ValueError as exc:
        raise ApiError(422, "unsupported_language", str(exc)) from None
    replaced = info.state is not StatementState.IN_FORCE
    notice = render_notice(
        info.statement,
        language=language,
        content_id=info.content_id or info.subject_id,
        scope=issuing.decision.territorial_scope,
        standing=Standing(
            info.state,
            changed_on=info.updated_at.date() if replaced else None,
            replaced_by_decision=successor.decision_id if successor else None,
        ),
        appeal_until=_appeal_until(issuing.created_at),
    )
    return NoticeOut(
        decision_id=info.decision_id,
        statement_id=info.id,
        language=notice.language,
        state=info.state.value,
        text=notice.text,
        parts=notice.parts,
    )


def _appeal_until(decided_at: datetime) -> date:
    return (decided_at + APPEAL_WINDOW).date()
