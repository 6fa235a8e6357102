"""How many cases of sensitive queues each reviewer opened today (reviewer wellness).

Reviewers of child sexual abuse material, terrorist content and intimate-image abuse are harmed by
volume; a team lead who can see the count can rotate people before it is too late. A case counts
once per reviewer per day (UTC) however often its page is opened.

The count is kept in the memory of the serving process: it restarts at zero with the process and is
not shared between processes. It is a wellness aid, not an audit record (the audit chain records
who claimed and decided what).
"""

from __future__ import annotations

import threading
from datetime import date

# Beyond this many sensitive cases in a day the console suggests a break (a default to discuss with
# the team's wellness support, not a limit that is enforced).
SOFT_DAILY_LIMIT = 40
MAX_TRACKED_PER_DAY = 5_000  # distinct cases remembered per reviewer per day; the count stops there
MAX_REVIEWERS = 10_000


class ExposureCounter:
    """Distinct sensitive cases opened, per reviewer, for the current day only."""

    def __init__(self) -> None:
        self._day: date | None = None
        self._opened: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def _roll(self, today: date) -> None:
        if self._day != today:
            self._day, self._opened = today, {}

    def record(self, actor: str, case_id: str, today: date) -> int:
        """Count ``case_id`` as opened by ``actor`` today; returns the actor's count for today."""
        with self._lock:
            self._roll(today)
            opened = self._opened.get(actor)
            if opened is None:
                if len(self._opened) >= MAX_REVIEWERS:
                    return 0
                opened = self._opened[actor] = set()
            if len(opened) < MAX_TRACKED_PER_DAY:
                opened.add(case_id)
            return len(opened)

    def count(self, actor: str, today: date) -> int:
        """How many sensitive cases ``actor`` opened today."""
        with self._lock:
            self._roll(today)
            return len(self._opened.get(actor, ()))
