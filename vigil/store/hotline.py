"""Hotline reports in the store: a durable queue whose rows record how far each report has gone.

A report moves ``pending`` -> ``submitted`` (the hotline gave it a report id) -> ``uploaded`` (every
file sent and described) -> ``finished``, or ends ``failed`` when its attempts run out. Each step is
recorded as soon as the hotline has answered it, so a retry resumes where the last attempt stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vigil.domain.ids import new_id
from vigil.store.tables import HotlineReport


class HotlineState(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    UPLOADED = "uploaded"
    FINISHED = "finished"
    FAILED = "failed"


# the states in which the delivery loop still has something to do
OPEN_STATES = (HotlineState.PENDING, HotlineState.SUBMITTED, HotlineState.UPLOADED)


@dataclass(frozen=True, slots=True)
class ReportInfo:
    """A hotline report as the store holds it."""

    id: str
    decision_id: str
    content_id: str | None
    state: HotlineState
    report_xml: str
    report_id: str | None  # the hotline's id
    file_ids: tuple[str, ...]
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    finished_at: datetime | None


def _info(row: HotlineReport) -> ReportInfo:
    return ReportInfo(
        row.id,
        row.decision_id,
        row.content_id,
        HotlineState(row.state),
        row.report_xml,
        row.report_id,
        tuple(row.file_ids or ()),
        row.attempts,
        row.next_attempt_at,
        row.last_error,
        row.created_at,
        row.finished_at,
    )


def live_report_of_content(session: Session, content_id: str) -> ReportInfo | None:
    """A report on ``content_id`` that is under way or done (a failed one does not count)."""
    found = session.scalars(
        select(HotlineReport).where(
            HotlineReport.content_id == content_id, HotlineReport.state != HotlineState.FAILED.value
        )
    ).first()
    return _info(found) if found is not None else None


def queue(session: Session, decision_id: str, content_id: str | None, now: datetime) -> str:
    """Queue a report of ``decision_id`` in the caller's transaction; its XML is built when it is sent."""
    report = HotlineReport(
        id=new_id("hot"),
        decision_id=decision_id,
        content_id=content_id,
        state=HotlineState.PENDING.value,
        report_xml="",
        report_id=None,
        file_ids=[],
        attempts=0,
        next_attempt_at=now,
        locked_until=None,
        last_error="",
        created_at=now,
        finished_at=None,
    )
    session.add(report)
    return report.id


def get(session: Session, report_id: str) -> ReportInfo | None:
    row = session.get(HotlineReport, report_id)
    return _info(row) if row is not None else None


def of_decision(session: Session, decision_id: str) -> ReportInfo | None:
    row = session.scalars(select(HotlineReport).where(HotlineReport.decision_id == decision_id)).first()
    return _info(row) if row is not None else None


def all_reports(session: Session, limit: int = 100) -> list[ReportInfo]:
    rows = session.scalars(
        select(HotlineReport).order_by(HotlineReport.created_at, HotlineReport.id).limit(limit)
    )
    return [_info(r) for r in rows]


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta) -> list[ReportInfo]:
    """Claim up to ``limit`` due reports for ``lease``; a crashed sender's claims expire and are resumed."""
    rows = session.scalars(
        select(HotlineReport)
        .where(
            HotlineReport.state.in_([s.value for s in OPEN_STATES]),
            HotlineReport.next_attempt_at <= now,
            or_(HotlineReport.locked_until.is_(None), HotlineReport.locked_until <= now),
        )
        .order_by(HotlineReport.next_attempt_at, HotlineReport.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.locked_until = now + lease
    return [_info(r) for r in rows]


def _row(session: Session, report_id: str) -> HotlineReport:
    row = session.get(HotlineReport, report_id)
    if row is None:
        raise LookupError(f"no hotline report {report_id!r}")
    return row


def set_xml(session: Session, report_id: str, xml: str, locked_until: datetime) -> None:
    """Keep the validated report XML: a retry sends exactly these bytes."""
    row = _row(session, report_id)
    row.report_xml, row.locked_until = xml, locked_until


def mark_submitted(session: Session, report_id: str, hotline_id: str, locked_until: datetime) -> bool:
    """Record the hotline's report id; False if the report was not pending any more."""
    row = _row(session, report_id)
    if row.state != HotlineState.PENDING.value:
        return False
    row.state, row.report_id, row.locked_until = HotlineState.SUBMITTED.value, hotline_id, locked_until
    return True


def add_file(session: Session, report_id: str, file_id: str, locked_until: datetime) -> None:
    row = _row(session, report_id)
    row.file_ids = [*(row.file_ids or ()), file_id]  # a new list, so the JSON column is written
    row.locked_until = locked_until


def mark_uploaded(session: Session, report_id: str, locked_until: datetime) -> None:
    row = _row(session, report_id)
    row.state, row.locked_until = HotlineState.UPLOADED.value, locked_until


def mark_finished(session: Session, report_id: str, now: datetime) -> None:
    row = _row(session, report_id)
    row.state, row.finished_at, row.locked_until, row.last_error = HotlineState.FINISHED.value, now, None, ""


def record_failure(session: Session, report_id: str, error: str, retry_at: datetime | None) -> ReportInfo:
    """One failed attempt: due again at ``retry_at``, or ``failed`` for good when it is None."""
    row = _row(session, report_id)
    row.attempts += 1
    row.last_error = error[:2000]
    row.locked_until = None
    if retry_at is None:
        row.state = HotlineState.FAILED.value
    else:
        row.next_attempt_at = retry_at
    return _info(row)
