"""Reviewer wellness: how many cases of sensitive queues each reviewer opened today, and whether
they chose to see sensitive previews unblurred today.

Reviewers of child sexual abuse material, terrorist content and intimate-image abuse are harmed by
volume; a team lead who can see the count can rotate people before it is too late. A case counts
once per reviewer per day (UTC) however often its page is opened, on whichever process serves it.

Both live in the database per reviewer (key id, or the person's ``oidc:`` name) and UTC day
(``vigil.store.wellness``), shared by every serving process. The count is a wellness aid, not an
audit record (the audit chain records who claimed and decided what).
"""

from __future__ import annotations

from datetime import date

from vigil.store import wellness as wellness_store
from vigil.store.db import Store

# Beyond this many sensitive cases in a day the console suggests a break (a default to discuss with
# the team's wellness support, not a limit that is enforced).
SOFT_DAILY_LIMIT = 40
MAX_TRACKED_PER_DAY = 5_000  # distinct cases remembered per reviewer per day; the count stops there


class Wellness:
    """Each reviewer's exposure count and blur setting, per UTC day, in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, actor: str, case_id: str, today: date) -> int:
        """Count ``case_id`` as opened by ``actor`` today; returns the actor's count for today."""
        with self.store.transaction() as db:
            return wellness_store.record_exposure(db, actor, today, case_id, MAX_TRACKED_PER_DAY)

    def count(self, actor: str, today: date) -> int:
        """How many sensitive cases ``actor`` opened today."""
        with self.store.transaction() as db:
            return wellness_store.exposure_count(db, actor, today)

    def set_reveal(self, actor: str, reveal: bool, today: date) -> None:
        """Change ``actor``'s setting for previews of sensitive queues, for the rest of today."""
        with self.store.transaction() as db:
            wellness_store.set_reveal_sensitive(db, actor, today, reveal)
