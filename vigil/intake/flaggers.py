"""Trusted flaggers (DSA Art. 22): the registry, each flagger's statistics, suspension.

A Digital Services Coordinator awards trusted-flagger status to an organisation for a field of
expertise; an administrator registers it here, and its API keys are bound to its id. Its notices
within that expertise go to the trusted-flagger lane (shorter deadline, higher priority).

The statistics say how its notices fared. They are the evidence the provider sends the
coordinator when a flagger submits "a significant number of insufficiently precise, inaccurate or
inadequately substantiated notices" (Art. 22(6)): :data:`UNFOUNDED_MIN_DECIDED` decided notices or
more in the last :data:`UNFOUNDED_WINDOW`, of which :data:`UNFOUNDED_SHARE` or more were unfounded,
raise the ``repeatedly_unfounded`` flag. The flag suspends nothing by itself: suspension is a
person's decision, case by case and after a warning (Art. 23(2)-(3)), taken with ``suspend``.
"""

from __future__ import annotations

import statistics as stats
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigil.domain.decisions import RESTRICTING_OUTCOMES
from vigil.domain.errors import ErrorKind, NotFoundError, VigilError
from vigil.domain.events import AuditAction
from vigil.domain.notices import FlaggerState
from vigil.domain.taxonomy import Category
from vigil.store import notices as notice_store
from vigil.store.audit import AuditLog
from vigil.store.db import Store
from vigil.store.notices import FlaggerInfo, NoticeTiming
from vigil.store.tables import TrustedFlagger

# A notice is "unfounded" when the decision on it restricted nothing. Few decided notices say little,
# so the flag needs at least this many in the window before a share means anything.
UNFOUNDED_MIN_DECIDED = 20
UNFOUNDED_SHARE = 0.5
UNFOUNDED_WINDOW = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class FlaggerStatistics:
    """How a trusted flagger's notices fared (all time, and the flag over the recent window)."""

    notices: int
    decided: int
    open: int
    actioned: int  # decided with a restriction of the content, its account or its channel
    unfounded: int  # decided with no restriction
    share_actioned: float | None  # of the decided; None before any decision
    share_unfounded: float | None
    median_seconds_to_decision: float | None
    window_days: int
    window_decided: int
    window_unfounded: int
    repeatedly_unfounded: bool


def flagger_statistics(timings: Sequence[NoticeTiming], now: datetime) -> FlaggerStatistics:
    """The statistics of one flagger's notices at ``now`` (pure: the numbers the API shows)."""
    decided = [t for t in timings if t.decided_at is not None]
    actioned = sum(1 for t in decided if t.outcome in RESTRICTING_OUTCOMES)
    unfounded = len(decided) - actioned
    since = now - UNFOUNDED_WINDOW
    recent = [t for t in decided if t.decided_at is not None and t.decided_at >= since]
    recent_unfounded = sum(1 for t in recent if t.outcome not in RESTRICTING_OUTCOMES)
    durations = [(t.decided_at - t.received_at).total_seconds() for t in decided if t.decided_at is not None]
    return FlaggerStatistics(
        notices=len(timings),
        decided=len(decided),
        open=len(timings) - len(decided),
        actioned=actioned,
        unfounded=unfounded,
        share_actioned=actioned / len(decided) if decided else None,
        share_unfounded=unfounded / len(decided) if decided else None,
        median_seconds_to_decision=stats.median(durations) if durations else None,
        window_days=UNFOUNDED_WINDOW.days,
        window_decided=len(recent),
        window_unfounded=recent_unfounded,
        repeatedly_unfounded=len(recent) >= UNFOUNDED_MIN_DECIDED
        and recent_unfounded >= UNFOUNDED_SHARE * len(recent),
    )


class FlaggerError(VigilError):
    """A refused registry operation."""


class FlaggerNotFoundError(FlaggerError, NotFoundError):
    kind = ErrorKind.NOT_FOUND
    code = "not_found"


class FlaggerConflictError(FlaggerError):
    """The id is taken, or the flagger is already in the state asked for."""

    kind = ErrorKind.CONFLICT
    code = "conflict"


@dataclass(frozen=True, slots=True)
class NewFlagger:
    id: str
    name: str
    country: str  # ISO 3166-1 alpha-2, normalised by the caller
    expertise: tuple[Category, ...]
    coordinator: str
    contact_email: str


class FlaggerRegistry:
    """Registers, reads, suspends and reinstates trusted flaggers; every change is audited."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def register(self, new: NewFlagger, actor: str) -> FlaggerInfo:
        now = self.clock()
        with self.store.transaction() as session:
            if notice_store.flagger_row(session, new.id) is not None:
                raise FlaggerConflictError(f"a trusted flagger {new.id!r} is already registered")
            info = notice_store.add_flagger(
                session,
                TrustedFlagger(
                    id=new.id,
                    name=new.name,
                    country=new.country,
                    expertise=[c.value for c in new.expertise],
                    coordinator=new.coordinator,
                    contact_email=new.contact_email,
                    state=FlaggerState.ACTIVE.value,
                    suspended_at=None,
                    suspension_reason=None,
                    created_at=now,
                    updated_at=now,
                ),
            )
            AuditLog(session).append(
                actor,
                AuditAction.FLAGGER_REGISTERED,
                "trusted_flagger",
                new.id,
                {
                    "name": new.name,
                    "country": new.country,
                    "expertise": [c.value for c in new.expertise],
                    "coordinator": new.coordinator,
                },
                now,
            )
        return info

    def list(self) -> list[FlaggerInfo]:
        """Every registered flagger, active or suspended, by id."""
        with self.store.transaction() as session:
            return notice_store.list_flaggers(session)

    def get(self, flagger_id: str) -> tuple[FlaggerInfo, FlaggerStatistics] | None:
        """The flagger and its statistics now, or None."""
        now = self.clock()
        with self.store.transaction() as session:
            row = notice_store.flagger_row(session, flagger_id)
            if row is None:
                return None
            timings = notice_store.flagger_timings(session, flagger_id)
            return notice_store.flagger_info(row), flagger_statistics(timings, now)

    def suspend(self, flagger_id: str, reason: str, actor: str) -> FlaggerInfo:
        """Stop processing the flagger's notices (DSA Art. 23(2)); the reason stays on record for the
        coordinator."""
        return self._change(flagger_id, FlaggerState.SUSPENDED, reason, actor)

    def reinstate(self, flagger_id: str, actor: str) -> FlaggerInfo:
        """Process the flagger's notices again; the last suspension stays on record."""
        return self._change(flagger_id, FlaggerState.ACTIVE, None, actor)

    def _change(self, flagger_id: str, state: FlaggerState, reason: str | None, actor: str) -> FlaggerInfo:
        now = self.clock()
        with self.store.transaction() as session:
            row = notice_store.flagger_row(session, flagger_id)
            if row is None:
                raise FlaggerNotFoundError(f"no trusted flagger {flagger_id!r}")
            if row.state == state.value:
                raise FlaggerConflictError(f"trusted flagger {flagger_id} is already {state.value}")
            row.state, row.updated_at = state.value, now
            if state is FlaggerState.SUSPENDED:
                row.suspended_at, row.suspension_reason = now, reason
            action = (
                AuditAction.FLAGGER_SUSPENDED
                if state is FlaggerState.SUSPENDED
                else AuditAction.FLAGGER_REINSTATED
            )
            AuditLog(session).append(
                actor, action, "trusted_flagger", flagger_id, {"reason": reason} if reason else {}, now
            )
            return notice_store.flagger_info(row)
