"""Notices (DSA Art. 16): a user's report relayed by the platform, or a trusted flagger's (Art. 22).

A notice names content, says why it is illegal, who sends it (anonymously only for child sexual
abuse, Art. 16(2)(c)) and that it is sent in good faith. Vigil receives it in one transaction:

1. the reported item is recorded and decided through the pipeline if Vigil has not seen it and the
   platform sends it with the notice (a participant's report of a private message carries the
   message: the only way one reaches Vigil). Content is the platform's word alone: anyone else's
   notice about an item Vigil has not seen waits for the platform to send it (a ``content.requested``
   event asks for it; :mod:`vigil.review.notice_cases` takes the notice up when it comes), and a
   trusted flagger who sends ``content`` is refused;
2. if the decision in force already restricts the content, the notice is answered at once with it;
3. otherwise the notice opens a case on the content, or joins its open case, with a deadline
   (:data:`~vigil.domain.notices.TRUSTED_FLAGGER_PERIOD` for a trusted flagger within its expertise,
   :data:`~vigil.domain.notices.USER_NOTICE_PERIOD` for anyone else), and the reviewer's decision
   answers it (:func:`vigil.review.answering.answer_waiting`);
4. receipt is confirmed: in the response, and to the platform as a ``notice.received`` event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.domain.content import Content
from vigil.domain.decisions import RESTRICTING_OUTCOMES, Decision, DecisionContext, Source
from vigil.domain.errors import ErrorKind, VigilError
from vigil.domain.events import AuditAction, EventType
from vigil.domain.ids import iso, new_id
from vigil.domain.notices import (
    ANONYMOUS_CATEGORIES,
    TRUSTED_FLAGGER_PERIOD,
    USER_NOTICE_PERIOD,
    FlaggerState,
    NoticeState,
)
from vigil.domain.roles import Role
from vigil.domain.signals import Signal
from vigil.domain.taxonomy import Category
from vigil.enforce.events import emit
from vigil.intake.flaggers import FlaggerRegistry
from vigil.pipeline.service import Pipeline
from vigil.review.notice_cases import route_notice
from vigil.store import content as content_store
from vigil.store import notices as notice_store
from vigil.store.audit import AuditLog
from vigil.store.notices import NoticeInfo, NoticeScope
from vigil.store.tables import Notice
from vigil.transparency import daily

# Art. 16(2)(a) asks for "a sufficiently substantiated explanation": a word or two is not one.
MIN_EXPLANATION = 10

# The roles that see every notice; the others see their own (see NoticeDesk.scope).
_SEE_ALL = frozenset(
    {
        Role.ADMIN,
        Role.LEGAL,
        Role.SENIOR_LEGAL,
        Role.AUDITOR,
        Role.REVIEWER,
        Role.SENIOR_REVIEWER,
        Role.CHILD_SAFETY_REVIEWER,
    }
)


@dataclass(frozen=True, slots=True)
class Reporter:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class NoticeRequest:
    """A notice as sent, before it is checked against Art. 16."""

    content_id: str | None  # the exact location: the platform's id of the item
    url: str | None
    category: Category  # the illegality alleged
    legal_ground: str | None
    explanation: str | None
    reporter: Reporter | None
    good_faith: bool
    content: Content | None  # the item itself, when Vigil may not have seen it


@dataclass(frozen=True, slots=True)
class Notifier:
    """Who sends the notice: the key, its role and, for a trusted flagger, its organisation."""

    actor: str
    role: Role
    bound_to: str | None


class NoticeError(VigilError):
    """A refused notice: ``code`` says why, for machines; the kind how the API answers it."""

    kind = ErrorKind.INVALID

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class NoticeForbiddenError(NoticeError):
    kind = ErrorKind.FORBIDDEN


class NoticeNotFoundError(NoticeError, LookupError):
    kind = ErrorKind.NOT_FOUND


def missing_elements(request: NoticeRequest) -> list[str]:
    """The elements of DSA Art. 16(2)(a)-(c) that ``request`` lacks, each said so a notifier can fix it."""
    missing: list[str] = []
    if request.explanation is None or len(request.explanation.strip()) < MIN_EXPLANATION:
        missing.append(
            f"(a) an explanation of why the content is illegal (`explanation`, at least {MIN_EXPLANATION}"
            " characters)"
        )
    if not request.content_id:
        missing.append("(b) the exact location of the content (`content_id`, the platform's id of the item)")
    if request.reporter is None and request.category not in ANONYMOUS_CATEGORIES:
        anonymous = ", ".join(sorted(c.value for c in ANONYMOUS_CATEGORIES))
        missing.append(
            "(c) the notifier's name and e-mail address (`reporter`); only notices of child sexual"
            f" abuse ({anonymous}) may be anonymous"
        )
    return missing


@dataclass(frozen=True, slots=True)
class _Lane:
    """How a notice is handled, by who sent it."""

    source: Source
    period: timedelta
    flagger_id: str | None
    flagger_name: str | None  # the decision's source_identity: an organisation, never a person
    reporter: Reporter | None  # who the notifier is when the request names no one


_USER_LANE = _Lane(Source.NOTICE, USER_NOTICE_PERIOD, None, None, None)

# Content is the platform's word alone: only these roles may send an item with a notice.
CONTENT_SUPPLIERS = frozenset({Role.PLATFORM, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class _InForce:
    """The decision in force on a reported item, and the item when the notice brought it (a stored
    item is read only if a new case needs it)."""

    decision_id: str
    decision: Decision
    signals: Sequence[Signal]
    content: Content | None


def confirm_receipt(session: Session, row: Notice, now: datetime) -> str:
    """Send the ``notice.received`` event (the platform confirms receipt to the notifier, DSA
    Art. 16(4)); returns its id. No contact details travel: the platform knows its user."""
    body = {"notice_id": row.id, "content_id": row.content_id, "received_at": iso(row.received_at)}
    return emit(session, EventType.NOTICE_RECEIVED, body, now)


def request_content(session: Session, row: Notice, now: datetime) -> str:
    """Ask the platform, through a ``content.requested`` event, to send the item ``row`` names;
    returns the event's id. The notice's reasons stay with Vigil: the platform needs only where.
    (Only the platform supplies content, so the notice waits for it.)"""
    body = {"notice_id": row.id, "content_id": row.content_id, "url": row.url}
    return emit(session, EventType.CONTENT_REQUESTED, body, now)


class NoticeDesk:
    """Receives notices, answers them, and shows them to those allowed to see them."""

    def __init__(self, pipeline: Pipeline, clock: Callable[[], datetime]) -> None:
        self.pipeline = pipeline
        self.store = pipeline.store
        self.queues = pipeline.queues
        self.clock = clock
        self.flaggers = FlaggerRegistry(pipeline.store, clock)

    def receive(self, request: NoticeRequest, notifier: Notifier) -> NoticeInfo:
        """Check, record and route a notice (see the module docstring); raises NoticeError."""
        try:
            try:
                return self._receive(request, notifier)
            except IntegrityError:
                # another request recorded the reported item between our read and our write: go
                # again, and this time it is found
                return self._receive(request, notifier)
        except NoticeForbiddenError as exc:
            self._refused(request, notifier, exc)
            raise

    def _receive(self, request: NoticeRequest, notifier: Notifier) -> NoticeInfo:
        now = self.clock()
        with self.store.transaction() as session:
            lane = self._lane(session, notifier, request.category)
            if request.reporter is None and lane.reporter is not None:
                request = replace(request, reporter=lane.reporter)
            missing = missing_elements(request)
            if missing:
                raise NoticeError(
                    "incomplete_notice",
                    "the notice lacks what DSA Art. 16(2) requires: " + "; ".join(missing),
                )
            if not request.good_faith:
                raise NoticeError(
                    "good_faith_required",
                    "(d) the notifier must state in good faith that the notice is accurate and complete"
                    " (`good_faith: true`, DSA Art. 16(2)(d))",
                )
            content_id = request.content_id
            assert content_id is not None  # missing_elements requires it
            if request.content is not None and notifier.role not in CONTENT_SUPPLIERS:
                raise NoticeForbiddenError(
                    "content_from_platform_only",
                    "only the platform sends content: send the notice without `content`; if Vigil has"
                    " not seen the item yet, the notice waits for the platform to send it",
                )
            if request.content is not None and request.content.id != content_id:
                raise NoticeError(
                    "content_mismatch",
                    f"content.id {request.content.id!r} is not the content_id {content_id!r} the notice names",
                )
            in_force = self._in_force(session, request, content_id, lane, notifier, now)
            audit = AuditLog(session)
            row = Notice(
                id=new_id("ntc"),
                content_id=content_id,
                url=request.url,
                category=request.category.value,
                legal_ground=request.legal_ground,
                explanation=request.explanation,
                reporter_name=request.reporter.name if request.reporter else None,
                reporter_email=request.reporter.email if request.reporter else None,
                good_faith=True,
                source=lane.source.value,
                flagger_id=lane.flagger_id,
                submitted_by=notifier.actor,
                received_at=now,
                deadline=now + lane.period,
                state=(NoticeState.RECEIVED if in_force else NoticeState.AWAITING_CONTENT).value,
                case_id=None,
                decision_id=None,
                decided_at=None,
                outcome=None,
                automated=None,
            )
            notice_store.add_notice(session, row)
            daily.count_notice_received(session, row)
            event_id = confirm_receipt(session, row, now)
            requested = None
            if in_force is None:
                requested = request_content(session, row, now)
            elif in_force.decision.outcome not in RESTRICTING_OUTCOMES:
                row.case_id = route_notice(
                    session,
                    audit,
                    self.queues,
                    row,
                    in_force.decision_id,
                    in_force.decision,
                    in_force.content,
                    in_force.signals,
                    now,
                )
            audit.append(
                actor=notifier.actor,
                action=AuditAction.NOTICE_RECEIVED,
                subject_type="content",
                subject_id=content_id,
                payload={
                    "notice_id": row.id,
                    "source": row.source,
                    "flagger_id": row.flagger_id,
                    "category": row.category,
                    "deadline": iso(row.deadline),
                    "case_id": row.case_id,
                    "event_id": event_id,
                    "content_requested_event": requested,
                },
                at=now,
            )
            if in_force is not None and row.case_id is None:
                # already restricted: the decision in force is the answer
                self.pipeline.answering.notice_answered(
                    session, row, in_force.decision_id, in_force.decision, notifier.actor, now
                )
            return notice_store.info(row)

    def _lane(self, session: Session, notifier: Notifier, category: Category) -> _Lane:
        if notifier.role is not Role.TRUSTED_FLAGGER:
            return _USER_LANE
        flagger = notice_store.flagger_row(session, notifier.bound_to or "")
        if flagger is None:
            raise NoticeForbiddenError(
                "unregistered_flagger",
                f"this key is bound to {notifier.bound_to!r}, which is not a registered trusted flagger",
            )
        if flagger.state == FlaggerState.SUSPENDED.value:
            raise NoticeForbiddenError(
                "flagger_suspended",
                f"notices from {flagger.name} are not processed while its trusted-flagger status is"
                " suspended (DSA Art. 23(2))",
            )
        reporter = Reporter(flagger.name, flagger.contact_email)
        if category.value not in flagger.expertise:
            # priority is for notices "within their designated area of expertise" (Art. 22(1)); any
            # other notice of theirs is an ordinary one, still counted in their statistics
            return _Lane(Source.NOTICE, USER_NOTICE_PERIOD, flagger.id, None, reporter)
        return _Lane(Source.TRUSTED_FLAGGER, TRUSTED_FLAGGER_PERIOD, flagger.id, flagger.name, reporter)

    def _in_force(
        self,
        session: Session,
        request: NoticeRequest,
        content_id: str,
        lane: _Lane,
        notifier: Notifier,
        now: datetime,
    ) -> _InForce | None:
        """The decision in force on the reported item, recording and deciding the item first when the
        platform sends it with the notice; None when the item is unknown and must be asked for."""
        notice_store.hold_items(session, [content_id])  # see hold_items: the item may be arriving now
        stored = content_store.current_decisions(session, [content_id]).get(content_id)
        if stored is not None:
            return _InForce(stored.id, stored.decision, stored.signals, None)
        if request.content is None:
            if notifier.role in CONTENT_SUPPLIERS:
                raise NoticeError(
                    "unknown_content",
                    f"Vigil has not seen content {content_id!r}: send the item in `content` with the notice",
                )
            return None
        [outcome] = self.pipeline.record(
            session, [request.content], DecisionContext(lane.source, lane.flagger_name), notifier.actor, now
        )
        return _InForce(outcome.decision_id, outcome.decision, outcome.signals, request.content)

    def _refused(self, request: NoticeRequest, notifier: Notifier, exc: NoticeError) -> None:
        """Record a refused trusted flagger's notice: the coordinator may ask what it sent while
        suspended."""
        with self.store.transaction() as session:
            AuditLog(session).append(
                actor=notifier.actor,
                action=AuditAction.NOTICE_REFUSED,
                subject_type="trusted_flagger",
                subject_id=notifier.bound_to or "",
                payload={
                    "code": exc.code,
                    "content_id": request.content_id,
                    "category": request.category.value,
                },
                at=self.clock(),
            )

    @staticmethod
    def scope(role: Role, bound_to: str | None) -> NoticeScope:
        """The notices a caller sees: a trusted flagger its organisation's, the platform those it
        relayed from users, the staff roles all of them."""
        if role is Role.TRUSTED_FLAGGER:
            return NoticeScope(flagger_id=bound_to or "")
        if role is Role.PLATFORM:
            return NoticeScope(users_only=True)
        if role in _SEE_ALL:
            return NoticeScope()
        raise NoticeForbiddenError("forbidden", f"role '{role.value}' may not read notices")

    def get(self, notice_id: str, scope: NoticeScope) -> NoticeInfo:
        """The notice, if ``scope`` admits it; one it does not is reported missing, so that its
        existence is not revealed either."""
        with self.store.transaction() as session:
            found = notice_store.get_notice(session, notice_id)
        if found is None or not scope.admits(found):
            raise NoticeNotFoundError("not_found", f"notice {notice_id!r} not found")
        return found

    def list(
        self,
        scope: NoticeScope,
        limit: int,
        offset: int,
        state: NoticeState | None = None,
        content_id: str | None = None,
    ) -> list[NoticeInfo]:
        """The notices ``scope`` admits, newest first, a page at a time."""
        with self.store.transaction() as session:
            return notice_store.list_notices(session, scope, limit, offset, state, content_id)
