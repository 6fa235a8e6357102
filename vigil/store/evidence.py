"""Preserved evidence in the store: sealed rows in, sealed rows out. Encryption and who may read
what live in ``vigil/enforce/evidence.py``; nothing here ever sees a plaintext."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vigil.domain.taxonomy import Category
from vigil.store.tables import DecisionRecord, Evidence


@dataclass(frozen=True, slots=True)
class EvidenceInfo:
    """What may be said of an evidence item without opening it."""

    id: str
    decision_id: str | None
    content_id: str | None
    media_id: str
    kind: str
    mime_type: str
    key_id: str
    sha256: str
    size_bytes: int
    created_at: datetime
    expires_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewEvidence:
    """A sealed item about to be stored: the ciphertext and the facts about its plaintext."""

    id: str
    decision_id: str | None
    content_id: str | None
    media_id: str
    kind: str
    mime_type: str
    key_id: str
    nonce: bytes
    ciphertext: bytes
    sha256: str
    size_bytes: int


def info(row: Evidence) -> EvidenceInfo:
    return EvidenceInfo(
        row.id,
        row.decision_id,
        row.content_id,
        row.media_id,
        row.kind,
        row.mime_type,
        row.key_id,
        row.sha256,
        row.size_bytes,
        row.created_at,
        row.expires_at,
        row.deleted_at,
    )


def insert(session: Session, new: NewEvidence, now: datetime, expires_at: datetime) -> EvidenceInfo:
    """Store a sealed item in the caller's transaction."""
    row = Evidence(
        id=new.id,
        decision_id=new.decision_id,
        content_id=new.content_id,
        media_id=new.media_id,
        kind=new.kind,
        mime_type=new.mime_type,
        key_id=new.key_id,
        nonce=new.nonce,
        ciphertext=new.ciphertext,
        sha256=new.sha256,
        size_bytes=new.size_bytes,
        created_at=now,
        expires_at=expires_at,
        deleted_at=None,
    )
    session.add(row)
    return info(row)


def row(session: Session, evidence_id: str, for_update: bool = False) -> Evidence | None:
    query = select(Evidence).where(Evidence.id == evidence_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def of_decision(session: Session, decision_id: str) -> list[EvidenceInfo]:
    rows = session.scalars(
        select(Evidence).where(Evidence.decision_id == decision_id).order_by(Evidence.created_at, Evidence.id)
    )
    return [info(r) for r in rows]


def live_media(session: Session, decision_id: str, media_id: str, sha256: str) -> EvidenceInfo | None:
    """The live copy of this media already preserved for this decision, if any (uploads repeat)."""
    found = session.scalars(
        select(Evidence).where(
            Evidence.decision_id == decision_id,
            Evidence.kind == "media",
            Evidence.media_id == media_id,
            Evidence.sha256 == sha256,
            Evidence.deleted_at.is_(None),
        )
    ).first()
    return info(found) if found is not None else None


def report_media(session: Session, content_id: str, until: datetime) -> list[Evidence]:
    """The media preserved of ``content_id`` up to ``until``, oldest first: the files of a hotline
    report queued at ``until``, always in the same order (a resumed report counts its uploads)."""
    return list(
        session.scalars(
            select(Evidence)
            .where(Evidence.content_id == content_id, Evidence.kind == "media", Evidence.created_at <= until)
            .order_by(Evidence.created_at, Evidence.id)
        )
    )


def expired(session: Session, now: datetime, limit: int) -> list[Evidence]:
    """Items whose retention ended and whose ciphertext is still there, locked for deletion."""
    return list(
        session.scalars(
            select(Evidence)
            .where(Evidence.expires_at <= now, Evidence.deleted_at.is_(None))
            .order_by(Evidence.expires_at, Evidence.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def sealed_under_other_keys(session: Session, key_id: str, limit: int) -> list[Evidence]:
    """Live items sealed under another key than ``key_id``, locked for re-encryption."""
    return list(
        session.scalars(
            select(Evidence)
            .where(Evidence.key_id != key_id, Evidence.deleted_at.is_(None))
            .order_by(Evidence.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def touching_categories(
    session: Session,
    content_ids: Collection[str],
    decision_ids: Collection[str],
    categories: Sequence[Category],
) -> tuple[set[str], set[str]]:
    """Which of ``content_ids`` have ever had a decision in ``categories``, and which of
    ``decision_ids`` are in them: evidence of content once decided as child abuse stays child-safety
    evidence whatever was decided after."""
    if not content_ids and not decision_ids:
        return set(), set()
    rows = session.execute(
        select(DecisionRecord.id, DecisionRecord.content_id).where(
            DecisionRecord.category.in_([c.value for c in categories]),
            or_(
                DecisionRecord.content_id.in_(list(content_ids)),
                DecisionRecord.id.in_(list(decision_ids)),
            ),
        )
    ).all()
    contents = {content_id for _, content_id in rows if content_id is not None}
    decisions = {decision_id for decision_id, _ in rows}
    return contents & set(content_ids), decisions & set(decision_ids)
