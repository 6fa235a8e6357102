"""``/v1/content``: submit one item or a batch, get the decision; read a stored decision back."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vigil.api.access import authorized
from vigil.api.auth import Principal
from vigil.api.deps import get_pipeline, get_settings, get_store, get_vault
from vigil.api.errors import ApiError, not_found
from vigil.api.inputs import Identifier, Instant
from vigil.config import Settings
from vigil.detect.hashing.media import fingerprint
from vigil.detect.media_signals import media_signals
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import Action, DecisionContext, decision_to_json
from vigil.domain.hashes import MAX_VPDQ_TEXT, HashType, normalise_hash, parse_vpdq
from vigil.domain.ids import utcnow
from vigil.domain.jurisdictions import normalise_country
from vigil.domain.signals import Signal
from vigil.enforce.evidence import EvidenceVault, InlineMedia
from vigil.pipeline.service import Outcome, Pipeline
from vigil.store import content as content_store
from vigil.store import outbox as outbox_store
from vigil.store.db import Store

router = APIRouter(tags=["content"])

MAX_MEDIA_PER_ITEM = 20


class MediaIn(BaseModel):
    """One media attachment: its bytes (base64), or its digests when the platform hashes itself."""

    model_config = ConfigDict(extra="forbid")

    id: Identifier
    mime_type: str | None = Field(default=None, max_length=100)
    data_base64: str | None = Field(default=None, description="the media bytes; never fetched from a URL")
    md5: str | None = None
    sha256: str | None = None
    pdq: str | None = Field(default=None, description="PDQ hash, when the platform hashes on the device")
    pdq_quality: int | None = Field(default=None, ge=0, le=100)
    vpdq: str | None = Field(
        default=None,
        max_length=MAX_VPDQ_TEXT,
        description="a video's vPDQ hash, when the platform hashes on the device: a JSON list of \"pdq_hex,quality,timestamp\" strings (threatexchange's form)",
    )

    @field_validator("md5", "sha256", "pdq", "vpdq")
    @classmethod
    def _normalised(cls, value: str | None, info: ValidationInfo) -> str | None:
        # each hash field is named after its hash type
        return None if value is None else normalise_hash(HashType(str(info.field_name)), value)

    @model_validator(mode="after")
    def _something_to_match(self) -> MediaIn:
        hashes = (self.md5, self.sha256, self.pdq, self.vpdq)
        if self.data_base64 is None and all(h is None for h in hashes):
            raise ValueError("media needs data_base64, md5, sha256, pdq or vpdq")
        return self


class ContentIn(BaseModel):
    """One content item from the platform."""

    model_config = ConfigDict(extra="forbid")

    id: Identifier = Field(
        description="the platform's id for the item; resubmitting it returns the stored decision"
    )
    kind: ContentKind = ContentKind.POST
    audience: Audience = Audience.PUBLIC
    author_id: Identifier
    channel_id: Identifier | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 country of the uploader")
    reach: int = Field(default=0, ge=0, le=10**12, description="how many people can see the item")
    language: str | None = Field(default=None, max_length=16)
    created_at: Instant | None = None
    text: str = Field(default="", max_length=100_000)
    media: list[MediaIn] = Field(default_factory=list, max_length=MAX_MEDIA_PER_ITEM)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if value is None else normalise_country(value)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ContentIn] = Field(min_length=1)


class OutcomeOut(BaseModel):
    content_id: str
    decision_id: str
    duplicate: bool
    decision: dict[str, Any]
    signals: list[dict[str, Any]]
    warnings: list[str] = Field(
        default_factory=list, description="media that could not be fully matched, and why"
    )


class BatchOut(BaseModel):
    results: list[OutcomeOut]


class StoredOut(BaseModel):
    content_id: str
    decision_id: str
    decided_at: datetime
    decision: dict[str, Any]
    signals: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]


def _media(
    item: MediaIn, where: str, settings: Settings, warnings: list[str], read: list[Signal]
) -> MediaHashes:
    """The hashes of one attachment; signals read from its bytes (nudity, provenance) go to ``read``."""
    md5, sha256, size = item.md5, item.sha256, None
    pdq: tuple[str, ...] = (item.pdq,) if item.pdq else ()
    quality = item.pdq_quality
    vpdq = parse_vpdq(item.vpdq) if item.vpdq else ()
    if item.data_base64 is not None:
        if len(item.data_base64) > (settings.max_media_bytes * 4) // 3 + 4:
            raise ApiError(
                413, "media_too_large", f"{where}: media is larger than {settings.max_media_bytes} bytes"
            )
        try:
            data = base64.b64decode(item.data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(422, "validation_error", f"{where}.data_base64: not valid base64") from None
        expect_image = item.mime_type is not None and item.mime_type.startswith("image/")
        found = fingerprint(data, expect_image)
        for name, declared, computed in (("md5", md5, found.md5), ("sha256", sha256, found.sha256)):
            if declared is not None and declared != computed:
                raise ApiError(422, "validation_error", f"{where}.{name}: does not match the media data")
        md5, sha256, size = found.md5, found.sha256, len(data)
        if not found.vpdq:
            read.extend(media_signals(data, item.id).signals)
        if found.pdq:
            pdq, quality = found.pdq, found.pdq_quality
        if found.image_refused is not None:
            warnings.append(f"{where}: not matched by PDQ: {found.image_refused}")
        if found.vpdq:
            vpdq = found.vpdq
        if found.video_refused is not None:
            warnings.append(f"{where}: a video matched by digest only: {found.video_refused}")
    if pdq and quality is not None and quality < settings.pdq_quality_threshold:
        warnings.append(
            f"{where}: PDQ quality {quality} is below {settings.pdq_quality_threshold}; matched by digest only"
        )
    return MediaHashes(item.id, item.mime_type, md5, sha256, size, pdq, quality, vpdq)


def to_content(item: ContentIn, where: str, settings: Settings, warnings: list[str]) -> Content:
    read: list[Signal] = []
    media = tuple(_media(m, f"{where}.media.{i}", settings, warnings, read) for i, m in enumerate(item.media))
    return Content(
        id=item.id,
        kind=item.kind,
        audience=item.audience,
        author_id=item.author_id,
        created_at=item.created_at or utcnow(),
        channel_id=item.channel_id,
        country=item.country,
        reach=item.reach,
        language=item.language,
        text=item.text,
        media=media,
        media_signals=tuple(read),
    )


def refuse_private(item: ContentIn, where: str) -> None:
    """Private chats are never scanned: a private message reaches Vigil only inside a participant's
    notice, and is processed for that report alone (docs/notices.md)."""
    if item.audience is Audience.PRIVATE_REPORTED:
        raise ApiError(
            422,
            "private_via_notice",
            f"{where}: a private message (audience private_reported) reaches Vigil only inside a"
            " participant's notice: send it with POST /v1/notices",
        )


def preserve_inline(
    vault: EvidenceVault, items: Sequence[ContentIn], outcomes: Sequence[Outcome], actor: str
) -> None:
    """Keep, encrypted, the media sent inline with items whose new decision asks to preserve evidence.

    The pipeline never holds media bytes, so this is a transaction of its own, right after the
    decision's. A crash between the two loses the media (its hashes are in the decision's metadata
    evidence); the platform can send it again with ``POST /v1/evidence``.
    """
    if not vault.enabled:
        return
    media = [
        InlineMedia(
            outcome.decision_id, outcome.content_id, m.id, m.mime_type or "", base64.b64decode(m.data_base64)
        )
        for item, outcome in zip(items, outcomes, strict=True)
        if not outcome.duplicate and Action.PRESERVE_EVIDENCE in outcome.decision.actions
        for m in item.media
        if m.data_base64 is not None
    ]
    if media:
        vault.preserve_inline(media, actor)


def outcome_out(outcome: Outcome, warnings: list[str]) -> OutcomeOut:
    """The answer about one item: the same JSON over HTTP and on the stream's results subject."""
    return OutcomeOut(
        content_id=outcome.content_id,
        decision_id=outcome.decision_id,
        duplicate=outcome.duplicate,
        decision=decision_to_json(outcome.decision),
        signals=[s.to_activation() for s in outcome.signals],
        warnings=warnings,
    )


@router.post("/content", response_model=OutcomeOut, summary="Submit one content item and get its decision")
def submit_one(
    item: ContentIn,
    principal: Principal = Depends(authorized),
    pipeline: Pipeline = Depends(get_pipeline),
    settings: Settings = Depends(get_settings),
    vault: EvidenceVault = Depends(get_vault),
) -> OutcomeOut:
    refuse_private(item, "body")
    warnings: list[str] = []
    content = to_content(item, "body", settings, warnings)
    [outcome] = pipeline.submit([content], DecisionContext(), principal.actor)
    preserve_inline(vault, [item], [outcome], principal.actor)
    return outcome_out(outcome, warnings)


@router.post("/content/batch", response_model=BatchOut, summary="Submit up to 1,000 items in one transaction")
def submit_batch(
    batch: BatchIn,
    principal: Principal = Depends(authorized),
    pipeline: Pipeline = Depends(get_pipeline),
    settings: Settings = Depends(get_settings),
    vault: EvidenceVault = Depends(get_vault),
) -> BatchOut:
    if len(batch.items) > settings.max_batch_items:
        raise ApiError(
            422,
            "batch_too_large",
            f"a batch holds at most {settings.max_batch_items} items, not {len(batch.items)}",
        )
    for i, item in enumerate(batch.items):
        refuse_private(item, f"items.{i}")
    warnings: list[list[str]] = [[] for _ in batch.items]
    contents = [to_content(item, f"items.{i}", settings, warnings[i]) for i, item in enumerate(batch.items)]
    outcomes = pipeline.submit(contents, DecisionContext(), principal.actor)
    preserve_inline(vault, batch.items, outcomes, principal.actor)
    return BatchOut(results=[outcome_out(o, w) for o, w in zip(outcomes, warnings, strict=True)])


@router.get(
    "/content/{content_id:path}", response_model=StoredOut, summary="The decision in force for a content item"
)
def get_content(
    content_id: str, _principal: Principal = Depends(authorized), store: Store = Depends(get_store)
) -> StoredOut:
    with store.transaction() as session:
        stored = content_store.current_decisions(session, [content_id]).get(content_id)
        if stored is None:
            raise not_found(f"content {content_id!r}")
        deliveries = [
            d
            for event_id in outbox_store.events_for_decision(session, stored.id)
            for d in outbox_store.list_deliveries(session, event_id=event_id)
        ]
    return StoredOut(
        content_id=content_id,
        decision_id=stored.id,
        decided_at=stored.created_at,
        decision=decision_to_json(stored.decision),
        signals=[s.to_activation() for s in stored.signals],
        deliveries=[
            {
                "id": d.id,
                "event_id": d.event_id,
                "endpoint_id": d.endpoint_id,
                "state": d.state.value,
                "attempts": d.attempts,
                "delivered_at": d.delivered_at,
            }
            for d in deliveries
        ],
    )
