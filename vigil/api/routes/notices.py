"""``/v1/notices``: users' notices relayed by the platform, and trusted flaggers' (DSA Art. 16, 22).

See ``docs/notices.md``. Who sees what: a trusted flagger its own organisation's notices (another's
is answered 404, so that its existence is not revealed), the platform the notices it relayed from
users, staff all of them; the notifier's name and e-mail only legal staff, admins and auditors.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_notices, get_settings
from vigil.api.inputs import Identifier
from vigil.api.routes.content import ContentIn, to_content
from vigil.config import Settings
from vigil.domain.notices import REDRESS, NoticeState
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.intake.notices import NoticeDesk, NoticeRequest, Notifier, Reporter
from vigil.store.notices import NoticeInfo

router = APIRouter(tags=["notices"])

# least privilege: who the notifier is matters to legal work and audits, not to a reviewer's verdict
_SEE_REPORTER = frozenset({Role.LEGAL, Role.SENIOR_LEGAL, Role.ADMIN, Role.AUDITOR})
MAX_NOTICES_LISTED = 500

# deliberately simple: one @, no spaces, a dot in the domain; deliverability is the platform's concern
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not an e-mail address (expected name@example.org)")
    return value


Email = Annotated[str, Field(max_length=320), AfterValidator(_check_email)]


class ReporterIn(BaseModel):
    """The notifier (DSA Art. 16(2)(c)); may be left out only for child sexual abuse."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: Email


class NoticeIn(BaseModel):
    """A notice, with the elements of DSA Art. 16(2)."""

    model_config = ConfigDict(extra="forbid")

    content_id: Identifier | None = Field(
        default=None, description="(b) the exact location: the platform's id of the reported item"
    )
    url: str | None = Field(
        default=None, max_length=2000, description="where the item is shown (http or https)"
    )
    category: Category = Field(description="the illegality alleged")
    legal_ground: str | None = Field(default=None, max_length=500, description="the law the notifier cites")
    explanation: str | None = Field(
        default=None, max_length=10_000, description="(a) why the content is illegal, at least 10 characters"
    )
    reporter: ReporterIn | None = Field(
        default=None, description="(c) the notifier's name and e-mail; optional only for csam and grooming"
    )
    good_faith: bool = Field(
        default=False, description="(d) the notifier states the notice is accurate and complete; must be true"
    )
    content: ContentIn | None = Field(
        default=None,
        description="the item itself when Vigil has not seen it; a reported private message (audience"
        " private_reported) comes only this way",
    )

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
            raise ValueError("must be an http or https URL")
        return value


class ReporterOut(BaseModel):
    name: str | None
    email: str | None


class NoticeOut(BaseModel):
    id: str
    content_id: str
    url: str | None
    category: str
    legal_ground: str | None
    explanation: str
    source: str = Field(description="notice (a user, or a flagger outside its expertise) or trusted_flagger")
    flagger_id: str | None
    received_at: datetime
    deadline: datetime
    state: str = Field(description="received, then decided")
    case_id: str | None
    decision_id: str | None
    decided_at: datetime | None
    outcome: str | None
    automated: bool | None = Field(description="whether automated means took the decision")
    redress: list[str] | None = Field(description="what the notifier may do about the decision, once decided")
    reporter: ReporterOut | None = Field(description="shown to legal staff, admins and auditors only")


class ReceiptOut(NoticeOut):
    receipt: str = Field(description="the confirmation of receipt to pass on to the notifier")
    warnings: list[str] = Field(default_factory=list, description="media of `content` not fully matched")


def _out(notice: NoticeInfo, role: Role) -> NoticeOut:
    decided = notice.state is NoticeState.DECIDED
    return NoticeOut(
        id=notice.id,
        content_id=notice.content_id,
        url=notice.url,
        category=notice.category.value,
        legal_ground=notice.legal_ground,
        explanation=notice.explanation,
        source=notice.source.value,
        flagger_id=notice.flagger_id,
        received_at=notice.received_at,
        deadline=notice.deadline,
        state=notice.state.value,
        case_id=notice.case_id,
        decision_id=notice.decision_id,
        decided_at=notice.decided_at,
        outcome=notice.outcome,
        automated=notice.automated,
        redress=list(REDRESS) if decided else None,
        reporter=ReporterOut(name=notice.reporter_name, email=notice.reporter_email)
        if role in _SEE_REPORTER
        else None,
    )


def _receipt(notice: NoticeInfo) -> str:
    received = (
        f"Notice {notice.id} about content {notice.content_id} was received on"
        f" {notice.received_at:%Y-%m-%d %H:%M:%S} UTC."
    )
    if notice.state is NoticeState.DECIDED:
        return f"{received} The content is already restricted ({notice.outcome}); that decision answers it."
    return (
        f"{received} It will be decided by {notice.deadline:%Y-%m-%d %H:%M:%S} UTC; the notifier is then"
        " told the decision and the redress available."
    )


@router.post("/notices", status_code=201, response_model=ReceiptOut, summary="Send a notice (DSA Art. 16)")
def send_notice(
    body: NoticeIn,
    principal: Principal = Depends(authorized),
    desk: NoticeDesk = Depends(get_notices),
    settings: Settings = Depends(get_settings),
) -> ReceiptOut:
    warnings: list[str] = []
    content = to_content(body.content, "content", settings, warnings) if body.content is not None else None
    request = NoticeRequest(
        content_id=body.content_id,
        url=body.url,
        category=body.category,
        legal_ground=body.legal_ground,
        explanation=body.explanation,
        reporter=Reporter(body.reporter.name, body.reporter.email) if body.reporter else None,
        good_faith=body.good_faith,
        content=content,
    )
    notice = desk.receive(request, Notifier(principal.actor, principal.role, principal.bound_to))
    return ReceiptOut(
        **_out(notice, principal.role).model_dump(), receipt=_receipt(notice), warnings=warnings
    )


@router.get(
    "/notices", response_model=list[NoticeOut], summary="The notices the caller may see, newest first"
)
def list_notices(
    limit: int = Query(default=100, ge=1, le=MAX_NOTICES_LISTED),
    offset: int = Query(default=0, ge=0, le=1_000_000),
    state: NoticeState | None = None,
    content_id: str | None = Query(default=None, max_length=200),
    principal: Principal = Depends(authorized),
    desk: NoticeDesk = Depends(get_notices),
) -> list[NoticeOut]:
    scope = desk.scope(principal.role, principal.bound_to)
    return [_out(n, principal.role) for n in desk.list(scope, limit, offset, state, content_id)]


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="One notice and its answer")
def get_notice(
    notice_id: str, principal: Principal = Depends(authorized), desk: NoticeDesk = Depends(get_notices)
) -> NoticeOut:
    notice = desk.get(notice_id, desk.scope(principal.role, principal.bound_to))
    return _out(notice, principal.role)
