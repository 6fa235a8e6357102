"""Retroactive matching: when a bank gains hashes, match the content already seen against them.

Vigil keeps the hashes of what it has seen (never the media), so a hash list that arrives today
still finds yesterday's uploads. Content that now matches is decided again through the normal
decision path, with the policies' actions. Each job walks the stored content hashes in id order and
records its cursor in the same transaction as the decisions it takes, so it resumes after a restart
exactly where it stopped. With several processes, one at a time holds a job, by a lease on its row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from vigil.background import PollingThread
from vigil.detect.registry import SIGNAL_TYPES
from vigil.domain.decisions import DecisionContext, Source
from vigil.pipeline.service import Pipeline
from vigil.store import banks as bank_store
from vigil.store import retro as retro_store

log = logging.getLogger(__name__)


class _JobHashes:
    """The new bank hashes of one job, ready to match against: per type, its signal type's matcher.

    A stored content hash is matched against the job's hashes of its own type (a seen video's
    frames, stored as ``vpdq`` rows, against the new videos' frames). Types no content hash is stored
    for, or no longer registered, are left out.
    """

    def __init__(self, job_id: int, hashes: list[tuple[str, str]], threshold: int) -> None:
        self.job_id = job_id
        by_type: dict[str, list[str]] = {}
        for hash_type, value in hashes:
            by_type.setdefault(hash_type, []).append(value)
        self.matchers: dict[str, Callable[[str], bool]] = {
            hash_type: signal_type.retro_matcher(values, threshold)
            for hash_type, values in by_type.items()
            if (signal_type := SIGNAL_TYPES.find(hash_type)) is not None
        }


class RetroMatcher:
    """Runs retroactive jobs a chunk at a time; one per ``vigil serve`` process.

    Any number of processes may run one: each claims a job for ``lease_seconds`` before it matches a
    chunk (``retro_store.claim_next_job``), so a chunk is matched and decided by one process; the
    others take the next job, or wait. A process that dies mid-chunk holds its job until the lease
    expires, and then another process matches that chunk again from the recorded cursor.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        clock: Callable[[], datetime],
        pdq_quality_threshold: int,
        chunk: int = 5000,
        poll_seconds: float = 1.0,
        lease_seconds: float = 30.0,
    ) -> None:
        self.pipeline = pipeline
        self.store = pipeline.store
        self.clock = clock
        self.pdq_quality_threshold = pdq_quality_threshold
        self.chunk = chunk
        self.lease = timedelta(seconds=lease_seconds)
        self._hashes: _JobHashes | None = None
        self._thread = PollingThread("vigil-retro", self.run_once, poll_seconds)

    def run_once(self) -> bool:
        """Match one chunk of the oldest unfinished job; False when there is nothing to do."""
        with self.store.transaction() as session:
            job = retro_store.claim_next_job(session, self.clock(), self.lease)
            if job is None:
                return False
            if self._hashes is None or self._hashes.job_id != job.id:
                threshold = bank_store.get_bank(session, job.bank).threshold
                self._hashes = _JobHashes(job.id, retro_store.job_hashes(session, job), threshold)
            rows = retro_store.content_hash_chunk(session, job, self.chunk)
        hashes = self._hashes
        matched: set[str] = set()
        for row in rows:
            matches = hashes.matchers.get(row.hash_type)
            if matches is None:
                continue
            # a hash with a quality (PDQ, a video's frame) too low to match reliably is skipped
            if row.quality is not None and row.quality < self.pdq_quality_threshold:
                continue
            if matches(row.value):
                matched.add(row.content_id)
        cursor = rows[-1].id if rows else job.content_last

        def record_progress(session: Session) -> None:
            retro_store.advance(session, job.id, job.content_cursor, cursor, len(matched), self.clock())

        try:
            self.pipeline.redecide(
                sorted(matched), DecisionContext(Source.VOLUNTARY), f"retro:{job.id}", also=record_progress
            )
        except retro_store.StaleJobError:
            # only when this chunk outlived its lease and another process recorded it meanwhile
            log.info("retroactive job %s: another process took this chunk", job.id)
        return True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
