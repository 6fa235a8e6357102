"""Retroactive matching: a hash list that arrives today finds yesterday's uploads, and resumes after a crash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.images import photo_like
from vigil.detect.hashing.digests import digest_bytes
from vigil.detect.hashing.pdq import pdq_dihedral, pdq_hash
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import DecisionContext
from vigil.domain.hashes import HashType, ListedHash, VideoFrame, format_vpdq
from vigil.domain.taxonomy import Category
from vigil.pipeline.admin import Admin
from vigil.pipeline.retro import RetroMatcher
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store import content as content_store
from vigil.store import retro as retro_store
from vigil.store.db import Store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _post(content_id: str, data: bytes, pdq: tuple[str, ...] = (), quality: int | None = None) -> Content:
    digests = digest_bytes(data)
    media = MediaHashes("m", "image/jpeg", digests.md5, digests.sha256, len(data), pdq, quality)
    return Content(content_id, ContentKind.POST, Audience.PUBLIC, "u", NOW, media=(media,))


def _setup(store: Store) -> tuple[Admin, Pipeline]:
    admin = Admin(store, clock=lambda: NOW)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    admin.create_bank("late-list", Category.CSAM, "hotline", 31, "test")
    return admin, Pipeline(store, clock=lambda: NOW)


def _run_to_end(matcher: RetroMatcher) -> None:
    for _ in range(1000):
        if not matcher.run_once():
            return
    raise AssertionError("retroactive job did not finish")


def _outcome(store: Store, content_id: str) -> str:
    with store.transaction() as session:
        return content_store.current_decisions(session, [content_id])[content_id].decision.outcome


def test_content_seen_before_a_hash_arrived_is_decided_again_when_it_does(store: Store) -> None:
    admin, pipeline = _setup(store)
    image = photo_like(seed=3, size=256)
    hashes = pdq_dihedral(image)
    seen = [
        _post("old-exact", b"known abuse file"),
        _post("old-near", b"re-encoded copy", tuple(h.value for h in hashes), hashes[0].quality),
        _post("old-clean", b"holiday photo"),
    ]
    assert [o.decision.outcome for o in pipeline.submit(seen, DecisionContext(), "platform")] == [
        "no_action"
    ] * 3
    near = format(int(hashes[0].value, 16) ^ 0xFF, "064x")  # 8 bits away from what was seen

    report = admin.add_hashes(
        "late-list",
        [ListedHash(HashType.MD5, digest_bytes(b"known abuse file").md5), ListedHash(HashType.PDQ, near)],
        "test",
    )
    _run_to_end(RetroMatcher(pipeline, lambda: NOW, pdq_quality_threshold=50, chunk=2))

    assert report.added == 2
    assert [_outcome(store, c.id) for c in seen] == ["remove", "remove", "no_action"]
    with store.transaction() as session:
        [job] = retro_store.list_jobs(session, "late-list")
    assert (job.state, job.progress, job.matched) == (retro_store.JobState.DONE, 1.0, 2)


def test_a_job_interrupted_midway_resumes_where_it_stopped_and_decides_each_item_once(
    store: Store, count_rows: Callable[[str], int]
) -> None:
    admin, pipeline = _setup(store)
    items = [_post(f"post-{n}", b"banned file" if n % 2 else f"file {n}".encode()) for n in range(8)]
    pipeline.submit(items, DecisionContext(), "platform")
    decisions_before = count_rows("decisions")
    admin.add_hashes("late-list", [ListedHash(HashType.MD5, digest_bytes(b"banned file").md5)], "test")

    first = RetroMatcher(pipeline, lambda: NOW, pdq_quality_threshold=50, chunk=5)
    assert first.run_once()  # one chunk, then the process "dies"
    with store.transaction() as session:
        [job] = retro_store.list_jobs(session, "late-list")
    assert job.state is retro_store.JobState.RUNNING
    assert 0 < job.progress < 1

    _run_to_end(
        RetroMatcher(Pipeline(store, clock=lambda: NOW), lambda: NOW, pdq_quality_threshold=50, chunk=5)
    )

    assert count_rows("decisions") == decisions_before + 4
    assert [_outcome(store, i.id) for i in items] == ["no_action", "remove"] * 4
    assert count_rows("outbox_events") == 4 + 0  # one enforcement each, none repeated


def test_a_bank_change_with_no_content_seen_queues_no_job(store: Store) -> None:
    admin, _ = _setup(store)
    admin.add_hashes("late-list", [ListedHash(HashType.MD5, "0" * 32)], "test")
    with store.transaction() as session:
        assert retro_store.list_jobs(session) == []


def test_a_video_seen_before_its_hash_arrived_is_found_by_its_frames(store: Store) -> None:
    admin, pipeline = _setup(store)
    frames = tuple(
        VideoFrame(pdq_hash(photo_like(seed=second, size=128)).value, 100, float(second))
        for second in range(6)
    )
    other = tuple(VideoFrame(f.pdq[::-1], 100, f.timestamp) for f in frames)
    seen = [
        Content(
            "old-video",
            ContentKind.POST,
            Audience.PUBLIC,
            "u",
            NOW,
            media=(MediaHashes("v", None, None, None, None, vpdq=frames),),
        ),
        Content(
            "old-other",
            ContentKind.POST,
            Audience.PUBLIC,
            "u",
            NOW,
            media=(MediaHashes("v", None, None, None, None, vpdq=other),),
        ),
    ]
    pipeline.submit(seen, DecisionContext(), "platform")

    # the bank's copy is a clip: the last four seconds, slightly different frames
    clip = tuple(VideoFrame(format(int(f.pdq, 16) ^ 0b111, "064x"), 100, f.timestamp - 2) for f in frames[2:])
    admin.add_hashes("late-list", [ListedHash(HashType.VPDQ, format_vpdq(clip))], "test")
    _run_to_end(RetroMatcher(pipeline, lambda: NOW, pdq_quality_threshold=50, chunk=3))

    # four of the six seen frames match: 67% < 80%, so the whole video is not the banked one...
    assert [_outcome(store, c.id) for c in seen] == ["no_action", "no_action"]
    # ...until the bank holds all of it
    admin.add_hashes("late-list", [ListedHash(HashType.VPDQ, format_vpdq(frames))], "test")
    _run_to_end(RetroMatcher(pipeline, lambda: NOW, pdq_quality_threshold=50, chunk=3))
    assert [_outcome(store, c.id) for c in seen] == ["remove", "no_action"]


def test_a_job_is_claimed_by_one_process_until_its_chunk_is_recorded_or_its_claim_runs_out(
    store: Store,
) -> None:
    admin, pipeline = _setup(store)
    pipeline.submit([_post("old", b"known abuse file")], DecisionContext(), "platform")
    admin.add_hashes("late-list", [ListedHash(HashType.MD5, digest_bytes(b"known abuse file").md5)], "test")
    lease = timedelta(seconds=30)
    with store.transaction() as session:
        claimed = retro_store.claim_next_job(session, NOW, lease)
    assert claimed is not None
    with store.transaction() as session:  # another process, meanwhile: nothing to take
        assert retro_store.claim_next_job(session, NOW + timedelta(seconds=29), lease) is None
    with store.transaction() as session:  # the first died: its claim runs out, the job is taken over
        again = retro_store.claim_next_job(session, NOW + timedelta(seconds=30), lease)
    assert again is not None
    assert again.id == claimed.id
    with store.transaction() as session:
        retro_store.advance(session, again.id, again.content_cursor, 1, 0, NOW)
    with store.transaction() as session:  # recording a chunk ends the claim
        assert retro_store.claim_next_job(session, NOW + timedelta(seconds=31), lease) is not None
