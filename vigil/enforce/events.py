"""Sending a webhook event: the one way every event reaches the outbox.

Every event, whatever asks for it, is built here with the same envelope (``id``, ``type``,
``created_at``, :func:`vigil.domain.events.envelope`) and written to the outbox in the caller's
transaction, so that it is sent if and only if what it tells of is committed. The delivery loop
(:mod:`vigil.enforce.outbox`) signs and sends it later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.domain.audit import canonical_json
from vigil.domain.events import EventType, envelope
from vigil.domain.ids import new_id
from vigil.store import outbox as outbox_store


def emit(
    session: Session,
    event_type: EventType,
    body: Mapping[str, Any],
    now: datetime,
    *,
    decision_id: str | None = None,
    event_id: str | None = None,
) -> str:
    """Put an event of ``event_type`` saying ``body`` in the outbox; returns its id.

    ``decision_id`` links the event to the decision it carries out (an enforcement, a notice's
    answer); ``event_id`` is for a body that names its own event, which is made first."""
    event_id = event_id or new_id("evt")
    payload = canonical_json(envelope(event_id, event_type, now, dict(body)))
    outbox_store.enqueue(session, event_id, event_type.value, decision_id, payload, now)
    return event_id
