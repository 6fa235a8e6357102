"""Reading cases for a reviewer, shared by the HTTP API and the console: a queue's open cases ranked
by priority, everything a case page shows, and "claim the next case".

Priority moves with time (a deadline makes a case rise), so it is computed when a queue is read, not
stored; both the API and the console rank through :func:`ranked_open_cases` so that they never
disagree about which case comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.domain.content import Content
from vigil.domain.roles import Role
from vigil.review.cases import CaseConflictError, CaseDesk, CaseForbiddenError, Reviewer
from vigil.review.history import History, subject_history
from vigil.review.priority import priority
from vigil.review.queues import Queue, QueueConfig
from vigil.store import appeals as appeal_store
from vigil.store import cases as case_store
from vigil.store import content as content_store
from vigil.store import notices as notice_store
from vigil.store.appeals import AppealInfo
from vigil.store.cases import CaseEventInfo, CaseInfo
from vigil.store.content import StoredDecision
from vigil.store.notices import NoticeInfo
from vigil.store.tables import Appeal

# "claim next" tries at most this many cases before saying the queue has nothing for the caller: the
# cases it skips are held by others or are appeals against the caller's own decision
MAX_CLAIM_ATTEMPTS = 50
MAX_APPEALS_SHOWN = 50
MAX_NOTICES_SHOWN = 50


@dataclass(frozen=True, slots=True)
class RankedCase:
    """An open case with its priority and time left at the moment the queue was read."""

    case: CaseInfo
    priority: int
    seconds_left: float | None  # until the deadline; negative when overdue; None without one


@dataclass(frozen=True, slots=True)
class CaseFile:
    """What a reviewer reads to decide a case: the case, its events, the decision under review (with
    the signals it rests on), the content as stored, and its author's and channel's record."""

    case: CaseInfo
    events: tuple[CaseEventInfo, ...]
    reviewed: StoredDecision | None
    content: Content | None
    history: History
    notices: tuple[NoticeInfo, ...] = ()  # the notices the case answers: what the notifiers allege


def rank(case: CaseInfo, now: datetime) -> RankedCase:
    """``case`` with its priority and time left at ``now`` (timezone-aware)."""
    return RankedCase(case, priority(case.priority_facts, now), _seconds_left(case.deadline, now))


def _seconds_left(deadline: datetime | None, now: datetime) -> float | None:
    return (deadline - now).total_seconds() if deadline is not None else None


def ranked_open_cases(
    session: Session,
    queue: str,
    now: datetime,
    limit: int | None = None,
    free_for: str | None = None,
) -> list[RankedCase]:
    """The first ``limit`` open cases of ``queue`` (all without one), highest priority first and the
    oldest first among equals; ``free_for`` leaves out cases someone other than that actor holds.

    Cases without a deadline come sorted from the database by their stored standing priority (it
    does not move with time), so only the first ``limit`` of them are read; cases with a deadline,
    whose priority rises as it nears, are all read and scored now. Only the cases returned are read
    whole.
    """
    queued = case_store.queued_cases(session, queue, limit, (free_for, now) if free_for else None)
    scored = [(priority(q.priority_facts, now) if q.deadline is not None else q.standing, q) for q in queued]
    scored.sort(key=lambda item: (-item[0], item[1].opened_at, item[1].id))
    top = scored if limit is None else scored[:limit]
    cases = case_store.get_cases(session, [q.id for _, q in top])
    return [RankedCase(cases[q.id], score, _seconds_left(q.deadline, now)) for score, q in top]


def reviewable_queue(queues: QueueConfig, name: str, role: Role) -> Queue:
    """The queue called ``name`` if ``role`` may work it.

    Raises UnknownQueueError for a queue that does not exist (404) and CaseForbiddenError for one the
    role may not see (403), so callers can tell the two apart.
    """
    queue = queues.queue(name)
    if role not in queue.roles:
        raise CaseForbiddenError(f"the {role.value} role may not review the {name} queue")
    return queue


def read_case_file(desk: CaseDesk, case_id: str, reviewer: Reviewer) -> CaseFile:
    """The case file of ``case_id``, after the desk has checked that ``reviewer`` may see it (raises
    CaseNotFoundError or CaseForbiddenError otherwise)."""
    case = desk.get(case_id, reviewer)
    with desk.store.transaction() as session:
        events = case_store.case_events(session, case_id)
        reviewed = content_store.get_decision(session, case.decision_id)
        contents = content_store.load_contents(session, [case.content_id]) if case.content_id else []
        history = subject_history(session, case.content_id) if case.content_id else History(None, None)
        notices = notice_store.notices_of_case(session, case_id, MAX_NOTICES_SHOWN)
    return CaseFile(case, tuple(events), reviewed, contents[0] if contents else None, history, tuple(notices))


def appeals_of_case(session: Session, case_id: str) -> list[AppealInfo]:
    """The appeals a case answers, oldest first (an appeal case usually answers one)."""
    ids = session.scalars(
        select(Appeal.id)
        .where(Appeal.case_id == case_id)
        .order_by(Appeal.received_at, Appeal.id)
        .limit(MAX_APPEALS_SHOWN)
    ).all()
    found = (appeal_store.get_appeal(session, appeal_id) for appeal_id in ids)
    return [appeal for appeal in found if appeal is not None]


def claim_next(desk: CaseDesk, queue: str, reviewer: Reviewer) -> CaseInfo | None:
    """Claim the highest-priority case of ``queue`` that ``reviewer`` may take, or None if there is none.

    Cases another reviewer holds and appeals against the reviewer's own decision are passed over; a
    case someone else claims in the meantime is passed over too (the desk's claim is exclusive).
    Raises UnknownQueueError or CaseForbiddenError if the reviewer may not work the queue at all.
    """
    reviewable_queue(desk.queues, queue, reviewer.role)
    now = desk.clock()
    with desk.store.transaction() as session:
        ranked = ranked_open_cases(session, queue, now, MAX_CLAIM_ATTEMPTS, free_for=reviewer.actor)
    for case in (r.case for r in ranked):
        try:
            return desk.claim(case.id, reviewer)
        except (CaseConflictError, CaseForbiddenError):
            continue
    return None
