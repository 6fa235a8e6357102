"""Console sign-in in the store: the failure counters of the sign-in limit, and the organisation
sign-in flows (OpenID Connect) between the redirect to the provider and its callback.

Both live in the database, not in a process's memory, so that any number of ``vigil serve``
processes share them: a client refused by one process is refused by all, and a callback may land on
a process other than the one that sent the browser to the provider.

Counters change only by atomic statements (``INSERT ... ON CONFLICT DO UPDATE SET failures =
failures + 1 RETURNING failures`` and a conditional ``UPDATE``): two processes counting the same
client never lose an increment, and no lock but the rows' own is taken. A flow is taken by ``DELETE
... RETURNING``, so of two callbacks carrying the same state exactly one gets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from vigil.store.db import upsert_insert
from vigil.store.tables import SignInFailure, SignInFlow


@dataclass(frozen=True, slots=True, order=True)
class Counted:
    """What one counter counts the failures of: a client address, an API key id."""

    scope: str
    subject: str


@dataclass(frozen=True, slots=True)
class Flow:
    """An organisation sign-in waiting for its callback."""

    state_digest: str
    nonce: str
    code_verifier: str
    redirect_url: str
    created_at: datetime
    expires_at: datetime


def reserve(session: Session, counted: Sequence[Counted], window_start: datetime) -> dict[Counted, int]:
    """Add one failure to each counter's window, before the check it stands for; returns the new
    counts. The caller gives the reservation back (:func:`give_back`) when the check succeeds or
    does not happen, so that the counts are failures, yet no number of concurrent attempts can check
    more than the limit allows."""
    if not counted:
        return {}
    wanted = sorted(set(counted))  # one row at most once a statement, locked in one order by all
    dialect = session.get_bind().dialect.name
    statement = upsert_insert(dialect, SignInFailure, "sign-in counters").values(
        [
            {"scope": c.scope, "subject": c.subject, "window_start": window_start, "failures": 1}
            for c in wanted
        ]
    )
    upsert = statement.on_conflict_do_update(
        index_elements=["scope", "subject", "window_start"],
        set_={"failures": SignInFailure.failures + 1},
    ).returning(SignInFailure.scope, SignInFailure.subject, SignInFailure.failures)
    return {Counted(scope, subject): failures for scope, subject, failures in session.execute(upsert)}


def give_back(session: Session, counted: Sequence[Counted], window_start: datetime) -> None:
    """Take back one failure from each counter's window (see :func:`reserve`)."""
    for one in sorted(set(counted)):
        session.execute(
            update(SignInFailure)
            .where(
                SignInFailure.scope == one.scope,
                SignInFailure.subject == one.subject,
                SignInFailure.window_start == window_start,
                SignInFailure.failures > 0,
            )
            .values(failures=SignInFailure.failures - 1)
        )


def purge_failures(session: Session, before: datetime) -> int:
    """Delete the counters of windows that started before ``before``; returns how many."""
    result = session.execute(delete(SignInFailure).where(SignInFailure.window_start < before))
    return int(getattr(result, "rowcount", 0) or 0)


def save_flow(session: Session, flow: Flow) -> None:
    """Keep a flow until its callback or its expiry; flows already expired are deleted on the way."""
    session.execute(delete(SignInFlow).where(SignInFlow.expires_at <= flow.created_at))
    session.add(
        SignInFlow(
            state_digest=flow.state_digest,
            nonce=flow.nonce,
            code_verifier=flow.code_verifier,
            redirect_url=flow.redirect_url,
            created_at=flow.created_at,
            expires_at=flow.expires_at,
        )
    )


def take_flow(session: Session, state_digest: str, now: datetime) -> Flow | None:
    """The flow of ``state_digest``, deleted as it is read (a callback is used once), or None when
    there is none or it has expired."""
    row = session.execute(
        delete(SignInFlow)
        .where(SignInFlow.state_digest == state_digest)
        .returning(
            SignInFlow.state_digest,
            SignInFlow.nonce,
            SignInFlow.code_verifier,
            SignInFlow.redirect_url,
            SignInFlow.created_at,
            SignInFlow.expires_at,
        )
    ).first()
    if row is None:
        return None
    flow = Flow(*row)
    return flow if flow.expires_at > now else None
