"""Content items, their media hashes, and the decisions taken on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from vigil.domain.content import Content
from vigil.domain.decisions import Decision, decision_from_json, decision_to_json
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


def decisions_for_content(session: Session, content_ids: Sequence[str]) -> dict[str, StoredDecision]:
    """The first decision recorded for each of ``content_ids`` that Vigil has already seen."""
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
                found.setdefault(row.content_id, _stored(row))
    return found


def get_decision(session: Session, decision_id: str) -> StoredDecision | None:
    row = session.get(DecisionRecord, decision_id)
    return _stored(row) if row else None


def record_decisions(session: Session, new: Sequence[NewDecision], now: datetime) -> None:
    """Insert the content items, their media hashes and their decisions in bulk."""
    if not new:
        return
    session.execute(
        insert(ContentItem),
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
                "created_at": n.content.created_at,
                "received_at": now,
            }
            for n in new
        ],
    )
    hashes = [
        {"content_id": n.content.id, "media_id": m.media_id, "hash_type": hash_type, "value": value}
        for n in new
        for m in n.content.media
        for hash_type, value in (("md5", m.md5), ("sha256", m.sha256))
        if value
    ]
    if hashes:
        session.execute(insert(ContentHash), hashes)
    session.execute(
        insert(DecisionRecord),
        [
            {
                "id": n.id,
                "content_id": n.content.id,
                "subject_type": n.decision.subject.type.value,
                "subject_id": n.decision.subject.id,
                "outcome": n.decision.outcome,
                "category": n.decision.category.value if n.decision.category else None,
                "source": n.decision.source.value,
                "decision": decision_to_json(n.decision),
                "signals": [s.to_activation() for s in n.signals],
                "created_at": now,
            }
            for n in new
        ],
    )
