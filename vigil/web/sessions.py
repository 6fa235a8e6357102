"""Console sessions: an API key, pasted once (or the organisation's sign-in), exchanged for a random
session token in a cookie.

Sessions live in the database (``vigil.store.console_sessions``), so that every ``vigil serve``
process behind one address shares them: a cookie signed in through one process works on the others,
and signing out deletes the session, which ends it on all of them at once; a restart signs nobody
out. The database holds only the SHA-256 of the token, never the token, and never the API key: only
its id, and every request checks that the key is still active, so revoking a key ends its sessions
at once (``vigil.pipeline.admin`` also deletes them).

A session ends after :data:`IDLE` without a request or :data:`LIFETIME` after sign-in, whichever
comes first; sessions found expired are deleted, and every sign-in purges those that expired.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigil.api.auth import Identity, Principal
from vigil.domain.roles import Role
from vigil.store import console_sessions as session_store
from vigil.store import wellness as wellness_store
from vigil.store.console_sessions import StoredSession
from vigil.store.db import Store

IDLE = timedelta(hours=1)
LIFETIME = timedelta(hours=12)
SESSION_ID_BYTES = 32
MAX_SESSION_ID_LENGTH = 64  # what a cookie may carry before it is refused unread


@dataclass(frozen=True, slots=True)
class Flash:
    """A one-time message shown on the next page: ``ok`` after a change, ``error`` after a refusal."""

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """One signed-in reviewer.

    ``id`` is the token the cookie carries (the store knows only its digest); ``csrf`` is the token
    every form of this session carries; ``reveal_sensitive`` is the reviewer's wellness setting for
    the day (previews of sensitive queues shown unblurred by default, off unless chosen).
    """

    id: str
    principal: Principal
    csrf: str
    signed_in_at: datetime
    seen_at: datetime
    reveal_sensitive: bool = False


def new_token() -> str:
    """A random token for a session id or a CSRF token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def token_digest(token: str) -> str:
    """What the store finds a session by: the SHA-256 of its token, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(stored: StoredSession) -> Principal:
    identity = None
    if stored.issuer is not None and stored.subject is not None:
        identity = Identity(stored.issuer, stored.subject, stored.name, stored.email)
    return Principal(stored.key_id, Role(stored.role), stored.bound_to, identity)


class SessionStore:
    """The console's sessions, in the store that every serving process shares."""

    def __init__(self, store: Store, idle: timedelta = IDLE, lifetime: timedelta = LIFETIME) -> None:
        self.store = store
        self.idle = idle
        self.lifetime = lifetime

    def start(self, principal: Principal, now: datetime) -> ConsoleSession:
        """A new session for ``principal``, with fresh session token and CSRF token; sessions that
        expired, and wellness rows of days before today, are purged on the way."""
        session = ConsoleSession(new_token(), principal, new_token(), now, now)
        identity = principal.identity
        stored = StoredSession(
            token_digest(session.id),
            principal.key_id,
            principal.role.value,
            principal.bound_to,
            identity.issuer if identity else None,
            identity.subject if identity else None,
            identity.name if identity else "",
            identity.email if identity else "",
            session.csrf,
            now,
            now,
            now + self.lifetime,
            min(now + self.idle, now + self.lifetime),
        )
        with self.store.transaction() as db:
            session_store.purge_sessions(db, now)
            wellness_store.purge_days(db, now.date())
            session_store.save_session(db, stored)
            reveal = wellness_store.reveals_sensitive(db, principal.actor, now.date())
        return ConsoleSession(session.id, principal, session.csrf, now, now, reveal)

    def get(self, session_id: str, now: datetime) -> ConsoleSession | None:
        """The live session of token ``session_id`` (its idle clock restarted), or None."""
        if not session_id or len(session_id) > MAX_SESSION_ID_LENGTH:
            return None
        with self.store.transaction() as db:
            stored = session_store.touch_session(db, token_digest(session_id), now, self.idle)
            if stored is None:
                return None
            principal = _principal(stored)
            reveal = wellness_store.reveals_sensitive(db, principal.actor, now.date())
        return ConsoleSession(session_id, principal, stored.csrf, stored.signed_in_at, now, reveal)

    def set_flash(self, session_id: str, flash: Flash) -> None:
        """Leave a message for the session's next page."""
        with self.store.transaction() as db:
            session_store.set_flash(db, token_digest(session_id), flash.kind, flash.text)

    def take_flash(self, session_id: str) -> Flash | None:
        """The session's pending message, removed so that it shows once."""
        with self.store.transaction() as db:
            taken = session_store.take_flash(db, token_digest(session_id))
        return Flash(*taken) if taken is not None else None

    def end(self, session_id: str) -> None:
        """End the session on every process (signing out)."""
        with self.store.transaction() as db:
            session_store.end_session(db, token_digest(session_id))
