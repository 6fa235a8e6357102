"""``/v1/evidence``: media the platform preserves for a decision, what is kept, and reading it back.

The platform uploads (it never reads back); reviewers and legal staff read, each read in the audit
chain; child-safety evidence only for the roles trained for it; administrators never read evidence.
See ``vigil/enforce/evidence.py`` for the rules and docs/transparency.md for the whole story.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_settings, get_vault
from vigil.api.errors import ApiError
from vigil.api.inputs import Identifier
from vigil.config import Settings
from vigil.enforce.evidence import EvidenceVault
from vigil.store.evidence import EvidenceInfo

router = APIRouter(tags=["evidence"])

# media types served as themselves; anything else (text/html above all) is served as opaque bytes
_SERVED_AS_IS = re.compile(r"^(image|video|audio)/[a-z0-9][a-z0-9.+-]{0,63}$")


class EvidenceIn(BaseModel):
    """One media attachment of a decision's content, to be kept as evidence."""

    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(
        min_length=1, max_length=32, description="a decision that asked preserve_evidence"
    )
    media_id: Identifier = Field(description="the attachment's id, as sent with the content")
    mime_type: str = Field(default="", max_length=100, pattern=r"^[\x20-\x7e]*$")
    data_base64: str = Field(min_length=1, description="the media bytes, base64")


class EvidenceOut(BaseModel):
    id: str
    decision_id: str | None
    content_id: str | None
    media_id: str
    kind: str = Field(description="media or metadata")
    mime_type: str
    sha256: str = Field(description="of the plaintext")
    size_bytes: int
    created_at: datetime
    expires_at: datetime = Field(description="when the retention period ends and the item is deleted")
    deleted_at: datetime | None
    readable: bool = Field(description="whether the caller's role may read its content")


def _out(item: EvidenceInfo, readable: bool) -> EvidenceOut:
    return EvidenceOut(
        id=item.id,
        decision_id=item.decision_id,
        content_id=item.content_id,
        media_id=item.media_id,
        kind=item.kind,
        mime_type=item.mime_type,
        sha256=item.sha256,
        size_bytes=item.size_bytes,
        created_at=item.created_at,
        expires_at=item.expires_at,
        deleted_at=item.deleted_at,
        readable=readable and item.deleted_at is None,
    )


@router.post(
    "/evidence",
    response_model=EvidenceOut,
    status_code=201,
    summary="Preserve a media attachment of a decision that asked for it (201; 200 if already kept)",
)
def upload_evidence(
    body: EvidenceIn,
    response: Response,
    principal: Principal = Depends(authorized),
    vault: EvidenceVault = Depends(get_vault),
    settings: Settings = Depends(get_settings),
) -> EvidenceOut:
    if len(body.data_base64) > (settings.max_media_bytes * 4) // 3 + 4:
        raise ApiError(
            413, "media_too_large", f"data_base64: media is larger than {settings.max_media_bytes} bytes"
        )
    try:
        data = base64.b64decode(body.data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "validation_error", "data_base64: not valid base64") from None
    if len(data) > settings.max_media_bytes:
        raise ApiError(
            413, "media_too_large", f"data_base64: media is larger than {settings.max_media_bytes} bytes"
        )
    item, new = vault.preserve_upload(body.decision_id, body.media_id, body.mime_type, data, principal.actor)
    if not new:
        response.status_code = 200
    return _out(item, readable=False)  # the platform never reads evidence back


@router.get("/evidence", response_model=list[EvidenceOut], summary="What is kept for a decision (no content)")
def list_evidence(
    decision_id: str = Query(min_length=1, max_length=32),
    principal: Principal = Depends(authorized),
    vault: EvidenceVault = Depends(get_vault),
) -> list[EvidenceOut]:
    listed = vault.list_for_decision(decision_id, principal.role)
    return [_out(item, readable) for item, readable in listed]


@router.get(
    "/evidence/{evidence_id}/content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
    summary="The content of one evidence item, for the roles allowed to read it (audited)",
)
def read_evidence(
    evidence_id: str = Path(max_length=64),
    principal: Principal = Depends(authorized),
    vault: EvidenceVault = Depends(get_vault),
) -> Response:
    opened = vault.read(evidence_id, principal.actor, principal.role)
    item = opened.info
    if item.kind == "metadata":
        media_type = "application/json"
    elif _SERVED_AS_IS.match(item.mime_type):
        media_type = item.mime_type
    else:
        media_type = "application/octet-stream"
    return Response(
        content=opened.plaintext,
        media_type=media_type,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{item.id}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Vigil-Evidence-SHA256": item.sha256,
        },
    )
