"""Retroactive matching: when a bank gains hashes, match the content already seen against them.

Vigil keeps the hashes of what it has seen (never the media), so a hash list that arrives today
still finds yesterday's uploads. Content that now matches is decided again through the normal
decision path, with the policies' actions. Each job walks the stored content hashes in id order and
records its cursor in the same transaction as the decisions it takes, so it resumes after a restart
exactly where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from vigil.background import PollingThread
from vigil.detect.hashing.digest_detector import BankRef
from vigil.detect.hashing.pdq_detector import PdqBankIndex, PdqEntry
from vigil.domain.decisions import DecisionContext, Source
from vigil.domain.hashes import HashType, parse_vpdq
from vigil.domain.taxonomy import Category
from vigil.pipeline.service import Pipeline
from vigil.store import banks as bank_store
from vigil.store import retro as retro_store

log = logging.getLogger(__name__)


class _JobHashes:
    """The new bank hashes of one job, ready to match against.

    A video's frames join the PDQ hashes: a seen video with a frame near one of them is a
    candidate, and re-deciding it applies the full video-matching rule (share of frames matched).
    """

    def __init__(self, job_id: int, hashes: list[tuple[str, str]], threshold: int) -> None:
        self.job_id = job_id
        self.digests = {(t, v) for t, v in hashes if t in (HashType.MD5.value, HashType.SHA256.value)}
        placeholder = BankRef("job", 0, Category.SPAM)  # only distances matter here
        images = [v for t, v in hashes if t == HashType.PDQ.value]
        frames = [f.pdq for t, v in hashes if t == HashType.VPDQ.value for f in parse_vpdq(v)]
        self.pdq = PdqBankIndex(PdqEntry(i, v, placeholder, threshold) for i, v in enumerate(images))
        self.frames = PdqBankIndex(PdqEntry(i, v, placeholder, threshold) for i, v in enumerate(frames))


class RetroMatcher:
    """Runs retroactive jobs a chunk at a time; one per ``vigil serve`` process."""

    def __init__(
        self,
        pipeline: Pipeline,
        clock: Callable[[], datetime],
        pdq_quality_threshold: int,
        chunk: int = 5000,
        poll_seconds: float = 1.0,
    ) -> None:
        self.pipeline = pipeline
        self.store = pipeline.store
        self.clock = clock
        self.pdq_quality_threshold = pdq_quality_threshold
        self.chunk = chunk
        self._hashes: _JobHashes | None = None
        self._thread = PollingThread("vigil-retro", self.run_once, poll_seconds)

    def run_once(self) -> bool:
        """Match one chunk of the oldest unfinished job; False when there is nothing to do."""
        with self.store.transaction() as session:
            job = retro_store.next_job(session)
            if job is None:
                return False
            if self._hashes is None or self._hashes.job_id != job.id:
                threshold = bank_store.get_bank(session, job.bank).threshold
                self._hashes = _JobHashes(job.id, retro_store.job_hashes(session, job), threshold)
            rows = retro_store.content_hash_chunk(session, job, self.chunk)
        hashes = self._hashes
        matched: set[str] = set()
        for row in rows:
            if (row.hash_type, row.value) in hashes.digests:
                matched.add(row.content_id)
            elif row.hash_type in (HashType.PDQ.value, HashType.VPDQ.value):
                if row.quality is not None and row.quality < self.pdq_quality_threshold:
                    continue
                index = hashes.pdq if row.hash_type == HashType.PDQ.value else hashes.frames
                if len(index) and index.match([row.value]):
                    matched.add(row.content_id)
        cursor = rows[-1].id if rows else job.content_last

        def record_progress(session: Session) -> None:
            retro_store.advance(session, job.id, job.content_cursor, cursor, len(matched), self.clock())

        try:
            self.pipeline.redecide(
                sorted(matched), DecisionContext(Source.VOLUNTARY), f"retro:{job.id}", also=record_progress
            )
        except retro_store.StaleJobError:
            log.info("retroactive job %s: another process took this chunk", job.id)
        return True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
