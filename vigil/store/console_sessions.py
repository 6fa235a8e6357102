"""Console sessions in the store: who is signed in to the consoles, shared by every ``vigil serve``
process on the database.

A session is found by the SHA-256 of the random token its cookie carries: the token is never
stored, so a copy of the table signs nobody in. Deleting the row ends the session on every process
at once (signing out, revoking its key); rows past their expiry are refused when read and purged.
The web layer (``vigil.web.sessions``) decides the timeouts; this module keeps the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vigil.store.tables import ConsoleSessionRecord


@dataclass(frozen=True, slots=True)
class StoredSession:
    """One console session as stored: who signed in (an API key's id, or the ``issuer`` and
    ``subject`` of a person signed in through their organisation), the CSRF token of its forms,
    and its clocks."""

    token_digest: str
    key_id: str | None
    role: str
    bound_to: str | None
    issuer: str | None
    subject: str | None
    name: str
    email: str
    csrf: str
    signed_in_at: datetime
    seen_at: datetime
    ends_at: datetime
    expires_at: datetime


def _stored(row: ConsoleSessionRecord) -> StoredSession:
    return StoredSession(
        row.token_digest,
        row.key_id,
        row.role,
        row.bound_to,
        row.issuer,
        row.subject,
        row.name,
        row.email,
        row.csrf,
        row.signed_in_at,
        row.seen_at,
        row.ends_at,
        row.expires_at,
    )


def save_session(session: Session, stored: StoredSession) -> None:
    """Keep a new session."""
    session.add(
        ConsoleSessionRecord(
            token_digest=stored.token_digest,
            key_id=stored.key_id,
            role=stored.role,
            bound_to=stored.bound_to,
            issuer=stored.issuer,
            subject=stored.subject,
            name=stored.name,
            email=stored.email,
            csrf=stored.csrf,
            signed_in_at=stored.signed_in_at,
            seen_at=stored.seen_at,
            ends_at=stored.ends_at,
            expires_at=stored.expires_at,
        )
    )


def touch_session(
    session: Session, token_digest: str, now: datetime, idle: timedelta
) -> StoredSession | None:
    """The live session of ``token_digest``, seen at ``now``: its idle timeout restarts (never past
    its lifetime). A session found expired is deleted; None when there is none or it expired."""
    row = session.get(ConsoleSessionRecord, token_digest)
    if row is None:
        return None
    if row.expires_at <= now:
        session.execute(delete(ConsoleSessionRecord).where(ConsoleSessionRecord.token_digest == token_digest))
        return None
    row.seen_at = now
    row.expires_at = min(now + idle, row.ends_at)
    return _stored(row)


def end_session(session: Session, token_digest: str) -> bool:
    """Delete the session of ``token_digest`` (signed out everywhere); whether there was one."""
    result = session.execute(
        delete(ConsoleSessionRecord).where(ConsoleSessionRecord.token_digest == token_digest)
    )
    return bool(getattr(result, "rowcount", 0))


def end_sessions_of_key(session: Session, key_id: str) -> int:
    """Delete every session signed in with the API key ``key_id``; returns how many."""
    result = session.execute(delete(ConsoleSessionRecord).where(ConsoleSessionRecord.key_id == key_id))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_sessions(session: Session, now: datetime) -> int:
    """Delete the sessions expired at ``now``; returns how many."""
    result = session.execute(delete(ConsoleSessionRecord).where(ConsoleSessionRecord.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def set_flash(session: Session, token_digest: str, kind: str, text: str) -> None:
    """Leave a one-time message for the session's next page (on whichever process serves it)."""
    session.execute(
        update(ConsoleSessionRecord)
        .where(ConsoleSessionRecord.token_digest == token_digest)
        .values(flash_kind=kind, flash_text=text)
    )


def take_flash(session: Session, token_digest: str) -> tuple[str, str] | None:
    """The session's pending message as ``(kind, text)``, removed so that it shows once."""
    row = session.execute(
        select(ConsoleSessionRecord.flash_kind, ConsoleSessionRecord.flash_text).where(
            ConsoleSessionRecord.token_digest == token_digest
        )
    ).first()
    if row is None or row.flash_kind is None:
        return None
    session.execute(
        update(ConsoleSessionRecord)
        .where(ConsoleSessionRecord.token_digest == token_digest)
        .values(flash_kind=None, flash_text=None)
    )
    return row.flash_kind, row.flash_text or ""
