"""What a reviewer needs to know about who posted an item: the author's and the channel's record.

A reviewer deciding on one post should see whether its author or its channel has been restricted
before (repeat infringers are treated differently from a first slip, and DSA Art. 23 asks platforms
to act against frequent manifestly illegal content). The record is read from the decisions on the
author's other content and on the channel's other content: how many items are restricted now (each
item counted once, by its decision in force) and the latest decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from vigil.domain.decisions import RESTRICTING_OUTCOMES, AutomatedDecision, decision_from_json
from vigil.store.tables import ContentItem, DecisionRecord

MAX_SCANNED = 10_000  # decisions read per author or channel: a record, not an archive


@dataclass(frozen=True, slots=True)
class PastDecision:
    decision_id: str
    content_id: str
    created_at: datetime
    outcome: str
    category: str | None
    by_a_person: bool


@dataclass(frozen=True, slots=True)
class Record:
    """Decisions on the other content of one author or one channel."""

    id: str
    items_decided: int
    items_restricted: int  # items whose decision in force restricts them
    strikes: int  # the strikes of those decisions in force (review/strikes.py; not limited to a window)
    latest: tuple[PastDecision, ...]


@dataclass(frozen=True, slots=True)
class History:
    author: Record | None
    channel: Record | None


def _record(
    session: Session, column: InstrumentedAttribute[Any], value: str, exclude: str, limit: int
) -> Record:
    rows = session.execute(
        select(
            DecisionRecord.id,
            DecisionRecord.content_id,
            DecisionRecord.created_at,
            DecisionRecord.outcome,
            DecisionRecord.category,
            DecisionRecord.strikes,
            DecisionRecord.decision,
        )
        .join(ContentItem, ContentItem.id == DecisionRecord.content_id)
        .where(column == value, ContentItem.id != exclude)
        .order_by(DecisionRecord.created_at.desc(), DecisionRecord.id.desc())
        .limit(MAX_SCANNED)
    ).all()
    in_force: dict[str, tuple[str, int]] = {}
    latest: list[PastDecision] = []
    for decision_id, content_id, created_at, outcome, category, strikes, data in rows:
        in_force.setdefault(content_id, (outcome, strikes))  # newest first: the first seen is in force
        if len(latest) < limit:
            person = decision_from_json(data).automated_decision is AutomatedDecision.NOT_AUTOMATED
            latest.append(PastDecision(decision_id, content_id, created_at, outcome, category, person))
    restricted = sum(1 for outcome, _ in in_force.values() if outcome in RESTRICTING_OUTCOMES)
    strikes = sum(count for _, count in in_force.values())
    return Record(value, len(in_force), restricted, strikes, tuple(latest))


def subject_history(session: Session, content_id: str, limit: int = 20) -> History:
    """The record of the author and the channel of ``content_id`` (its own decisions left out)."""
    item = session.get(ContentItem, content_id)
    if item is None:
        return History(None, None)
    author = _record(session, ContentItem.author_id, item.author_id, content_id, limit)
    channel = (
        _record(session, ContentItem.channel_id, item.channel_id, content_id, limit)
        if item.channel_id
        else None
    )
    return History(author, channel)
