"""Notices (DSA Art. 16), the trusted flaggers who send some of them (Art. 22), and the answers.

The repository takes and returns records: a notice is answered once (:func:`record_answer`), and
what an answer brings about besides (the day's figures, the ``notice.decided`` event, the audit
entry) is done by the desks that answer (:mod:`vigil.review.answering`, :mod:`vigil.pipeline.answers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, text, true
from sqlalchemy.orm import Session

from vigil.domain.decisions import Source
from vigil.domain.notices import FlaggerState, NoticeState
from vigil.domain.taxonomy import Category
from vigil.store.locks import LockSpace
from vigil.store.tables import Notice, TrustedFlagger


@dataclass(frozen=True, slots=True)
class NoticeInfo:
    id: str
    content_id: str
    url: str | None
    category: Category
    legal_ground: str | None
    explanation: str
    reporter_name: str | None
    reporter_email: str | None
    good_faith: bool
    source: Source
    flagger_id: str | None
    submitted_by: str
    received_at: datetime
    deadline: datetime
    state: NoticeState
    case_id: str | None
    decision_id: str | None
    decided_at: datetime | None
    outcome: str | None
    automated: bool | None


def info(row: Notice) -> NoticeInfo:
    return NoticeInfo(
        id=row.id,
        content_id=row.content_id,
        url=row.url,
        category=Category(row.category),
        legal_ground=row.legal_ground,
        explanation=row.explanation,
        reporter_name=row.reporter_name,
        reporter_email=row.reporter_email,
        good_faith=row.good_faith,
        source=Source(row.source),
        flagger_id=row.flagger_id,
        submitted_by=row.submitted_by,
        received_at=row.received_at,
        deadline=row.deadline,
        state=NoticeState(row.state),
        case_id=row.case_id,
        decision_id=row.decision_id,
        decided_at=row.decided_at,
        outcome=row.outcome,
        automated=row.automated,
    )


@dataclass(frozen=True, slots=True)
class NoticeScope:
    """Which notices a caller may see: all, one trusted flagger's, or those users sent through the
    platform (``flagger_id`` None and ``users_only``)."""

    flagger_id: str | None = None
    users_only: bool = False

    def admits(self, notice: NoticeInfo) -> bool:
        if self.flagger_id is not None:
            return notice.flagger_id == self.flagger_id
        return notice.flagger_id is None if self.users_only else True

    def clause(self) -> ColumnElement[bool]:
        if self.flagger_id is not None:
            return Notice.flagger_id == self.flagger_id
        return Notice.flagger_id.is_(None) if self.users_only else true()


def add_notice(session: Session, row: Notice) -> None:
    session.add(row)
    session.flush()  # the content it names was recorded in this transaction: check the key now


def get_notice(session: Session, notice_id: str) -> NoticeInfo | None:
    row = session.get(Notice, notice_id)
    return info(row) if row else None


def list_notices(
    session: Session,
    scope: NoticeScope,
    limit: int,
    offset: int = 0,
    state: NoticeState | None = None,
    content_id: str | None = None,
) -> list[NoticeInfo]:
    """The notices ``scope`` admits, newest first."""
    query = select(Notice).where(scope.clause())
    if state is not None:
        query = query.where(Notice.state == state.value)
    if content_id is not None:
        query = query.where(Notice.content_id == content_id)
    rows = session.scalars(
        query.order_by(Notice.received_at.desc(), Notice.id.desc()).limit(limit).offset(offset)
    )
    return [info(r) for r in rows]


def notices_of_case(session: Session, case_id: str, limit: int) -> list[NoticeInfo]:
    """The notices a case answers, oldest first."""
    rows = session.scalars(
        select(Notice).where(Notice.case_id == case_id).order_by(Notice.received_at, Notice.id).limit(limit)
    )
    return [info(r) for r in rows]


def hold_items(session: Session, content_ids: Sequence[str]) -> None:
    """Hold, until the transaction ends, the items ``content_ids``: a notice about to wait for an item
    and the item's first recording must not pass each other unseen.

    On PostgreSQL, under read committed, neither transaction sees the other's uncommitted row: the
    notice would find no item and wait, the item would find no notice to take up, and the notice
    would wait for ever. Each takes this per-item lock first (in one order, so that two batches
    cannot deadlock), so the second to come sees what the first committed. Items are independent:
    nothing else waits. SQLite runs one writer at a time (``BEGIN IMMEDIATE``) and needs nothing.
    """
    if not content_ids or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(:space, h) FROM"
            " (SELECT DISTINCT hashtext(i) AS h FROM unnest(CAST(:ids AS text[])) AS i ORDER BY h) AS held"
        ),
        {"space": int(LockSpace.CONTENT_ITEMS), "ids": list(content_ids)},
    )


def awaiting_content(session: Session, content_ids: Sequence[str]) -> list[Notice]:
    """The notices that wait for the platform to send any of ``content_ids``, oldest first."""
    waiting: list[Notice] = []
    for start in range(0, len(content_ids), 500):
        waiting.extend(
            session.scalars(
                select(Notice).where(
                    Notice.content_id.in_(content_ids[start : start + 500]),
                    Notice.state == NoticeState.AWAITING_CONTENT.value,
                )
            )
        )
    return sorted(waiting, key=lambda row: (row.received_at, row.id))


def record_answer(row: Notice, decision_id: str, outcome: str, automated: bool, now: datetime) -> None:
    """Record that the notice ``row`` was answered by ``decision_id`` (DSA Art. 16(5))."""
    row.state = NoticeState.DECIDED.value
    row.decision_id, row.decided_at, row.outcome, row.automated = decision_id, now, outcome, automated


def waiting_on(session: Session, content_id: str) -> list[Notice]:
    """The notices received on ``content_id`` and not answered yet, oldest first."""
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.content_id == content_id, Notice.state == NoticeState.RECEIVED.value)
            .order_by(Notice.received_at, Notice.id)
        )
    )


def waiting_source(session: Session, content_id: str | None) -> tuple[Source, str | None] | None:
    """Who brought the content that notices still wait on, as a decision names it: a trusted
    flagger, by its organisation's name, before users (whose names a decision never carries)."""
    if content_id is None:
        return None
    rows = session.execute(
        select(Notice.source, TrustedFlagger.name)
        .outerjoin(TrustedFlagger, TrustedFlagger.id == Notice.flagger_id)
        .where(Notice.content_id == content_id, Notice.state == NoticeState.RECEIVED.value)
        .order_by(Notice.received_at, Notice.id)
    ).all()
    if not rows:
        return None
    for source, name in rows:
        if source == Source.TRUSTED_FLAGGER.value:
            return Source.TRUSTED_FLAGGER, name
    return Source(rows[0][0]), None


# --- trusted flaggers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlaggerInfo:
    id: str
    name: str
    country: str
    expertise: tuple[Category, ...]
    coordinator: str
    contact_email: str
    state: FlaggerState
    suspended_at: datetime | None
    suspension_reason: str | None
    created_at: datetime
    updated_at: datetime


def flagger_info(row: TrustedFlagger) -> FlaggerInfo:
    return FlaggerInfo(
        id=row.id,
        name=row.name,
        country=row.country,
        expertise=tuple(Category(c) for c in row.expertise),
        coordinator=row.coordinator,
        contact_email=row.contact_email,
        state=FlaggerState(row.state),
        suspended_at=row.suspended_at,
        suspension_reason=row.suspension_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def flagger_row(session: Session, flagger_id: str) -> TrustedFlagger | None:
    return session.get(TrustedFlagger, flagger_id)


def add_flagger(session: Session, row: TrustedFlagger) -> FlaggerInfo:
    session.add(row)
    session.flush()
    return flagger_info(row)


def list_flaggers(session: Session) -> list[FlaggerInfo]:
    return [flagger_info(r) for r in session.scalars(select(TrustedFlagger).order_by(TrustedFlagger.id))]


@dataclass(frozen=True, slots=True)
class NoticeTiming:
    """What a trusted flagger's statistics are computed from, per notice."""

    received_at: datetime
    decided_at: datetime | None
    outcome: str | None


def flagger_timings(session: Session, flagger_id: str) -> list[NoticeTiming]:
    rows = session.execute(
        select(Notice.received_at, Notice.decided_at, Notice.outcome).where(Notice.flagger_id == flagger_id)
    )
    return [NoticeTiming(received, decided, outcome) for received, decided, outcome in rows]
