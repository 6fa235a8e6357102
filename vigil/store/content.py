"""Content items, their media hashes, and the decisions taken on them."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import Decision, decision_from_json, decision_to_json
from vigil.domain.hashes import VideoFrame
from vigil.domain.signals import Signal
from vigil.store.tables import ContentHash, ContentItem, DecisionRecord


@dataclass(frozen=True, slots=True)
class StoredDecision:
    id: str
    content_id: str | None
    decision: Decision
    signals: tuple[Signal, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewDecision:
    """A decision about to be recorded, with the content it is about."""

    id: str
    content: Content
    decision: Decision
    signals: Sequence[Signal]


def _stored(row: DecisionRecord) -> StoredDecision:
    return StoredDecision(
        row.id,
        row.content_id,
        decision_from_json(row.decision),
        tuple(Signal.from_activation(s) for s in row.signals),
        row.created_at,
    )


def current_decisions(session: Session, content_ids: Sequence[str]) -> dict[str, StoredDecision]:
    """The decision now in force (the newest recorded) for each of ``content_ids`` seen before."""
    found: dict[str, StoredDecision] = {}
    ids = list(dict.fromkeys(content_ids))
    for start in range(0, len(ids), 500):
        rows = session.scalars(
            select(DecisionRecord)
            .where(DecisionRecord.content_id.in_(ids[start : start + 500]))
            .order_by(DecisionRecord.created_at, DecisionRecord.id)
        )
        for row in rows:
            if row.content_id is not None:
                found[row.content_id] = _stored(row)
    return found


def decided_ids(session: Session, content_ids: Sequence[str]) -> set[str]:
    """Which of ``content_ids`` have a decision already (an index look-up; nothing is loaded)."""
    found: set[str] = set()
    ids = list(dict.fromkeys(content_ids))
    for start in range(0, len(ids), 500):
        found.update(
            cid
            for cid in session.scalars(
                select(DecisionRecord.content_id).where(
                    DecisionRecord.content_id.in_(ids[start : start + 500])
                )
            )
            if cid is not None
        )
    return found


def load_contents(session: Session, content_ids: Sequence[str]) -> list[Content]:
    """Content items as stored (text, metadata and media hashes; the media itself was never kept)."""
    ids = list(dict.fromkeys(content_ids))
    media: dict[str, dict[str, dict[str, list[ContentHash]]]] = {}
    for row in session.scalars(
        select(ContentHash).where(ContentHash.content_id.in_(ids)).order_by(ContentHash.id)
    ):
        by_type = media.setdefault(row.content_id, {}).setdefault(row.media_id, {})
        by_type.setdefault(row.hash_type, []).append(row)
    contents: list[Content] = []
    for item in session.scalars(select(ContentItem).where(ContentItem.id.in_(ids)).order_by(ContentItem.id)):
        hashes = media.get(item.id, {})
        contents.append(
            Content(
                id=item.id,
                kind=ContentKind(item.kind),
                audience=Audience(item.audience),
                author_id=item.author_id,
                created_at=item.created_at,
                channel_id=item.channel_id,
                country=item.country,
                reach=item.reach,
                language=item.language,
                text=item.text,
                media_signals=tuple(Signal.from_activation(s) for s in item.media_signals or ()),
                media=tuple(
                    MediaHashes(
                        media_id=media_id,
                        mime_type=None,
                        md5=found["md5"][0].value if "md5" in found else None,
                        sha256=found["sha256"][0].value if "sha256" in found else None,
                        size_bytes=None,
                        pdq=tuple(row.value for row in found.get("pdq", ())),
                        pdq_quality=found["pdq"][0].quality if "pdq" in found else None,
                        vpdq=tuple(
                            VideoFrame(row.value, row.quality or 0, row.frame_seconds or 0.0)
                            for row in found.get("vpdq", ())
                        ),
                    )
                    for media_id, found in hashes.items()
                ),
            )
        )
    return contents


def get_decision(session: Session, decision_id: str) -> StoredDecision | None:
    row = session.get(DecisionRecord, decision_id)
    return _stored(row) if row else None


def record_content(session: Session, new: Sequence[NewDecision], now: datetime) -> None:
    """Insert content items seen for the first time, with their media hashes, in bulk."""
    if not new:
        return
    session.execute(
        insert(ContentItem).execution_options(render_nulls=True),
        [
            {
                "id": n.content.id,
                "kind": n.content.kind.value,
                "audience": n.content.audience.value,
                "author_id": n.content.author_id,
                "channel_id": n.content.channel_id,
                "country": n.content.country,
                "reach": n.content.reach,
                "language": n.content.language,
                "text": n.content.text,
                "media_signals": [s.to_activation() for s in n.content.media_signals] or None,
                "created_at": n.content.created_at,
                "received_at": now,
            }
            for n in new
        ],
    )
    hashes = [
        {
            "content_id": n.content.id,
            "media_id": m.media_id,
            "hash_type": hash_type,
            "value": value,
            "quality": quality,
            "frame_seconds": seconds,
        }
        for n in new
        for m in n.content.media
        for hash_type, value, quality, seconds in _hash_rows(m)
    ]
    if hashes:
        session.execute(insert(ContentHash).execution_options(render_nulls=True), hashes)


def _hash_rows(media: MediaHashes) -> Iterator[tuple[str, str, int | None, float | None]]:
    """(type, value, quality, frame time) of each hash kept of one attachment."""
    for hash_type, digest in (("md5", media.md5), ("sha256", media.sha256)):
        if digest:
            yield hash_type, digest, None, None
    # all eight dihedral PDQ hashes: a bank hash added later may be of a mirrored or rotated copy
    for value in media.pdq:
        yield "pdq", value, media.pdq_quality, None
    for frame in media.vpdq:
        yield "vpdq", frame.pdq, frame.quality, frame.timestamp


def record_decisions(session: Session, new: Sequence[NewDecision], now: datetime) -> None:
    """Insert decisions in bulk (their content is already stored)."""
    if not new:
        return
    session.execute(
        insert(DecisionRecord).execution_options(render_nulls=True),
        [
            {
                "id": n.id,
                "content_id": n.content.id,
                "subject_type": n.decision.subject.type.value,
                "subject_id": n.decision.subject.id,
                "outcome": n.decision.outcome,
                "category": n.decision.category.value if n.decision.category else None,
                "source": n.decision.source.value,
                "strikes": n.decision.strikes,
                "decision": decision_to_json(n.decision),
                "signals": [s.to_activation() for s in n.signals],
                "created_at": now,
            }
            for n in new
        ],
    )


def strike_totals(
    session: Session,
    authors: Sequence[str],
    channels: Sequence[str],
    since: datetime,
    leave_out: Collection[str] = (),
) -> tuple[dict[str, int], dict[str, int]]:
    """Strikes in force per author and per channel: for each of their items decided since ``since``,
    the strikes of its latest decision (a lifted restriction counts nothing). Items in ``leave_out``
    (those being decided again now) are not counted: their new decision replaces the old."""
    by_author: dict[str, int] = dict.fromkeys(authors, 0)
    by_channel: dict[str, int] = dict.fromkeys(channels, 0)
    if not authors and not channels:
        return by_author, by_channel
    rows = session.execute(
        select(
            ContentItem.author_id, ContentItem.channel_id, DecisionRecord.content_id, DecisionRecord.strikes
        )
        .join(ContentItem, ContentItem.id == DecisionRecord.content_id)
        .where(
            DecisionRecord.created_at >= since,
            or_(ContentItem.author_id.in_(list(authors)), ContentItem.channel_id.in_(list(channels))),
        )
        .order_by(DecisionRecord.created_at, DecisionRecord.id)
    )
    latest: dict[str, tuple[str, str | None, int]] = {}
    for author, channel, content_id, strikes in rows:
        if content_id is not None and content_id not in leave_out:
            latest[content_id] = (author, channel, strikes)  # later rows replace earlier ones
    for author, channel, strikes in latest.values():
        if author in by_author:
            by_author[author] += strikes
        if channel is not None and channel in by_channel:
            by_channel[channel] += strikes
    return by_author, by_channel
