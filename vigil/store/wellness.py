"""Reviewer wellness in the store: each reviewer's sensitive cases opened per UTC day (their
exposure count) and their blur setting for the day, shared by every ``vigil serve`` process.

A reviewer is named as the audit chain names them (``key:<id>``, ``oidc:<host>:<subject>``). A case
is one row per reviewer and day however often it is opened, added by an insert that ignores a
row already there, so two processes opening the same case count it once. Days before the current
one are never read and are purged.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from vigil.store.db import upsert_insert
from vigil.store.tables import ReviewerDay, ReviewerExposure


def exposure_count(session: Session, actor: str, day: date) -> int:
    """How many distinct sensitive cases ``actor`` opened on ``day``."""
    count = session.scalar(
        select(func.count()).where(ReviewerExposure.actor == actor, ReviewerExposure.day == day)
    )
    return int(count or 0)


def record_exposure(session: Session, actor: str, day: date, case_id: str, most: int) -> int:
    """Count ``case_id`` as opened by ``actor`` on ``day`` (at most ``most`` cases a day are
    remembered); returns the actor's count for the day."""
    count = exposure_count(session, actor, day)
    if count >= most:
        return count
    dialect = session.get_bind().dialect.name
    insert = upsert_insert(dialect, ReviewerExposure, "exposure counts").values(
        actor=actor, day=day, case_id=case_id
    )
    session.execute(insert.on_conflict_do_nothing(index_elements=["actor", "day", "case_id"]))
    return exposure_count(session, actor, day)


def reveals_sensitive(session: Session, actor: str, day: date) -> bool:
    """Whether ``actor`` chose, on ``day``, to see previews of sensitive queues unblurred."""
    found = session.scalar(
        select(ReviewerDay.reveal_sensitive).where(ReviewerDay.actor == actor, ReviewerDay.day == day)
    )
    return bool(found)


def set_reveal_sensitive(session: Session, actor: str, day: date, reveal: bool) -> None:
    """Record ``actor``'s blur setting for ``day``."""
    dialect = session.get_bind().dialect.name
    insert = upsert_insert(dialect, ReviewerDay, "wellness settings").values(
        actor=actor, day=day, reveal_sensitive=reveal
    )
    session.execute(
        insert.on_conflict_do_update(index_elements=["actor", "day"], set_={"reveal_sensitive": reveal})
    )


def purge_days(session: Session, before: date) -> int:
    """Delete the exposure rows and settings of days before ``before``; returns how many rows."""
    gone = session.execute(delete(ReviewerExposure).where(ReviewerExposure.day < before))
    settings = session.execute(delete(ReviewerDay).where(ReviewerDay.day < before))
    return int(getattr(gone, "rowcount", 0) or 0) + int(getattr(settings, "rowcount", 0) or 0)
