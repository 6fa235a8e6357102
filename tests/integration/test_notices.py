"""Notices on both engines: a reported private message is processed for its report alone, and a
reviewer's decision answers the notices waiting on a case."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from vigil.detect.hashing.digests import digest_bytes
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import Action, DecisionContext
from vigil.domain.hashes import HashType, ListedHash
from vigil.domain.notices import NoticeState
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.intake import notices as notice_desk
from vigil.intake.flaggers import NewFlagger
from vigil.intake.notices import NoticeDesk, NoticeRequest, Notifier, Reporter
from vigil.pipeline.admin import Admin
from vigil.pipeline.retro import RetroMatcher
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.review.cases import CaseDesk, Reviewer, Verdict
from vigil.store import content as content_store
from vigil.store import retro as retro_store
from vigil.store.db import Store
from vigil.store.notices import NoticeScope

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PLATFORM = Notifier("key:platform", Role.PLATFORM, None)
IMAGE = b"bytes of an image later listed as abuse material"


def _item(content_id: str, audience: Audience, data: bytes = b"") -> Content:
    media: tuple[MediaHashes, ...] = ()
    if data:
        digests = digest_bytes(data)
        media = (MediaHashes("m", "image/jpeg", digests.md5, digests.sha256, len(data), (), None),)
    kind = ContentKind.MESSAGE if audience is Audience.PRIVATE_REPORTED else ContentKind.POST
    return Content(content_id, kind, audience, "user-3", NOW, text="hello there", media=media)


def _notice(content: Content, category: Category = Category.CSAM) -> NoticeRequest:
    return NoticeRequest(
        content_id=content.id,
        url=None,
        category=category,
        legal_ground=None,
        explanation="A participant reports this message as abuse material sent to a child.",
        reporter=None if category is Category.CSAM else Reporter("Ana", "ana@example.org"),
        good_faith=True,
        content=content,
    )


def _setup(store: Store) -> tuple[Admin, Pipeline, NoticeDesk]:
    admin = Admin(store, clock=lambda: NOW)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    pipeline = Pipeline(store, clock=lambda: NOW)
    return admin, pipeline, NoticeDesk(pipeline, lambda: NOW)


def _outcome(store: Store, content_id: str) -> str:
    with store.transaction() as session:
        return content_store.current_decisions(session, [content_id])[content_id].decision.outcome


def test_a_reported_private_message_is_never_matched_again_when_a_hash_list_grows(store: Store) -> None:
    admin, pipeline, desk = _setup(store)
    admin.create_bank("late-list", Category.CSAM, "hotline", 31, "test")
    message = _item("dm-1", Audience.PRIVATE_REPORTED, IMAGE)
    notice = desk.receive(_notice(message), PLATFORM)
    pipeline.submit([_item("post-1", Audience.PUBLIC, IMAGE)], DecisionContext(), "platform")

    admin.add_hashes("late-list", [ListedHash(HashType.MD5, digest_bytes(IMAGE).md5)], "test")
    matcher = RetroMatcher(pipeline, lambda: NOW, pdq_quality_threshold=50, chunk=1)
    while matcher.run_once():
        pass

    assert notice.state is NoticeState.RECEIVED
    assert notice.case_id is not None
    assert _outcome(store, "post-1") == "remove"
    assert _outcome(store, "dm-1") == "no_action"
    with store.transaction() as session:
        [job] = retro_store.list_jobs(session, "late-list")
    assert (job.state, job.matched) == (retro_store.JobState.DONE, 1)


def test_a_reviewers_decision_answers_the_notices_waiting_on_its_case(store: Store) -> None:
    _, pipeline, desk = _setup(store)
    post = _item("post-1", Audience.PUBLIC)
    first = desk.receive(_notice(post, Category.HATE_SPEECH), PLATFORM)
    second = desk.receive(_notice(post, Category.HATE_SPEECH), PLATFORM)
    cases = CaseDesk(pipeline, lambda: NOW)
    reviewer = Reviewer("key:reviewer", Role.REVIEWER)
    assert first.case_id is not None
    assert second.case_id == first.case_id

    cases.claim(first.case_id, reviewer)
    decision_id, decision = cases.decide(
        first.case_id, reviewer, Verdict(frozenset({Action.DEMOTE}), "hate-speech-suspected")
    )

    answered = desk.list(NoticeScope(users_only=True), limit=10, offset=0)
    assert [n.id for n in answered] == [second.id, first.id]  # newest first
    assert {(n.state, n.decision_id, n.outcome, n.automated) for n in answered} == {
        (NoticeState.DECIDED, decision_id, "demote", False)
    }
    assert desk.list(NoticeScope(flagger_id="someone"), limit=10, offset=0) == []
    assert decision.source.value == "notice"
    assert decision.source_identity is None


def test_a_notice_and_the_item_it_waits_for_arriving_at_once_never_miss_each_other(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers at once, each on its own connection: a trusted flagger's notice about an item the
    platform has not sent (it will wait), and the platform's item. Whichever commits first, the
    notice ends up taken up by the item's decision, never left waiting for an item that is there."""
    _, pipeline, desk = _setup(store)
    desk.flaggers.register(
        NewFlagger("hotline", "Hotline e.V.", "DE", (Category.HATE_SPEECH,), "BNetzA", "n@hotline.example"),
        "test",
    )
    flagger = Notifier("key:hotline", Role.TRUSTED_FLAGGER, "hotline")
    item = _item("post-race", Audience.PUBLIC)
    asking = threading.Event()
    real_request_content = notice_desk.request_content

    def request_content_slowly(*args: Any) -> str:
        # the notice has found no item and is about to wait: let the item arrive now, while the
        # notice's transaction is still open
        asking.set()
        time.sleep(1.0)
        return real_request_content(*args)

    monkeypatch.setattr(notice_desk, "request_content", request_content_slowly)
    request = replace(_notice(item, Category.HATE_SPEECH), content=None, reporter=None)
    noticed: list[str] = []
    notice_thread = threading.Thread(target=lambda: noticed.append(desk.receive(request, flagger).id))
    notice_thread.start()
    assert asking.wait(10)
    pipeline.submit([item], DecisionContext(), "key:platform")
    notice_thread.join(20)

    [notice_id] = noticed
    notice = desk.get(notice_id, NoticeScope())
    assert notice.state is NoticeState.RECEIVED
    assert notice.case_id is not None  # before a reviewer, not waiting for an item that is there
