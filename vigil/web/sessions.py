"""Console sessions: an API key, pasted once, exchanged for a random session id in a cookie.

Sessions live in the memory of the process that serves the console: a restart signs everyone out,
and several ``vigil serve`` processes behind a load balancer need sticky sessions. That is the price
of keeping no session secrets in the database; the API key itself is never kept, only its id, and
every request checks that the key is still active, so revoking a key ends its sessions at once.

A session ends after :data:`IDLE` without a request or :data:`LIFETIME` after sign-in, whichever
comes first. At most :data:`MAX_SESSIONS` are kept; signing in beyond that ends the oldest.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from vigil.api.auth import Principal

IDLE = timedelta(hours=1)
LIFETIME = timedelta(hours=12)
MAX_SESSIONS = 10_000
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

    ``csrf`` is the token every form of this session carries; ``reveal_sensitive`` is the reviewer's
    wellness setting (previews of sensitive queues shown unblurred by default, off unless chosen).
    """

    id: str
    principal: Principal
    csrf: str
    signed_in_at: datetime
    seen_at: datetime
    reveal_sensitive: bool = False
    flash: Flash | None = None


def new_token() -> str:
    """A random token for a session id or a CSRF token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


class SessionStore:
    """The console's sessions, safe to use from the server's worker threads."""

    def __init__(
        self, idle: timedelta = IDLE, lifetime: timedelta = LIFETIME, limit: int = MAX_SESSIONS
    ) -> None:
        self.idle = idle
        self.lifetime = lifetime
        self.limit = limit
        self._sessions: dict[str, ConsoleSession] = {}
        self._lock = threading.Lock()

    def _expired(self, session: ConsoleSession, now: datetime) -> bool:
        return now - session.seen_at > self.idle or now - session.signed_in_at > self.lifetime

    def start(self, principal: Principal, now: datetime) -> ConsoleSession:
        """A new session for ``principal``, with fresh session id and CSRF token."""
        session = ConsoleSession(new_token(), principal, new_token(), now, now)
        with self._lock:
            for stale in [s.id for s in self._sessions.values() if self._expired(s, now)]:
                del self._sessions[stale]
            while len(self._sessions) >= self.limit:
                oldest = min(self._sessions.values(), key=lambda s: s.signed_in_at)
                del self._sessions[oldest.id]
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str, now: datetime) -> ConsoleSession | None:
        """The live session called ``session_id`` (its idle clock restarted), or None."""
        if not session_id or len(session_id) > MAX_SESSION_ID_LENGTH:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[session_id]
                return None
            session = replace(session, seen_at=now)
            self._sessions[session_id] = session
            return session

    def set_flash(self, session_id: str, flash: Flash) -> None:
        """Leave a message for the session's next page."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                self._sessions[session_id] = replace(session, flash=flash)

    def set_reveal(self, session_id: str, reveal: bool) -> None:
        """Change the reviewer's wellness setting for previews of sensitive queues."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                self._sessions[session_id] = replace(session, reveal_sensitive=reveal)

    def take_flash(self, session_id: str) -> Flash | None:
        """The session's pending message, removed so that it shows once."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.flash is None:
                return None
            self._sessions[session_id] = replace(session, flash=None)
            return session.flash

    def end(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
