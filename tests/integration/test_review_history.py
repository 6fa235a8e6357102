"""The record a reviewer sees: the author's and the channel's other decisions, on both engines."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta

from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import AutomatedDecision, Decision, DecisionContext
from vigil.domain.hashes import HashType, ListedHash
from vigil.domain.taxonomy import Category
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.review.history import subject_history
from vigil.store.db import Store

KNOWN = hashlib.md5(b"known propaganda").hexdigest()


def _post(content_id: str, author: str, channel: str | None, now: datetime, known: bool) -> Content:
    md5 = KNOWN if known else hashlib.md5(content_id.encode()).hexdigest()
    return Content(
        content_id,
        ContentKind.POST,
        Audience.PUBLIC,
        author,
        now,
        channel_id=channel,
        media=(MediaHashes("m", None, md5, None, 10),),
    )


def test_the_record_counts_items_restricted_now_and_lists_the_latest_decisions(
    store: Store, now: datetime
) -> None:
    admin = Admin(store, clock=lambda: now)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    admin.create_bank("gifct", Category.TERRORISM, "gifct", 31, "test")
    admin.add_hashes("gifct", [ListedHash(HashType.MD5, KNOWN)], "test")
    times = iter(now + timedelta(minutes=i) for i in range(100))
    pipeline = Pipeline(store, clock=lambda: next(times))
    posts = [
        _post("p1", "alice", "ch-1", now, known=True),
        _post("p2", "alice", "ch-1", now, known=True),
        _post("p3", "alice", None, now, known=False),
        _post("p4", "bob", "ch-1", now, known=True),
        _post("under-review", "alice", "ch-1", now, known=False),
    ]
    outcomes = pipeline.submit(posts, DecisionContext(), "platform")
    # a reviewer later lifts p2's removal: it no longer counts against alice
    lifted = replace(
        Decision.no_action(outcomes[1].decision.subject, outcomes[1].decision.source, True),
        automated_decision=AutomatedDecision.NOT_AUTOMATED,
    )
    with store.transaction() as session:
        pipeline.record_reviewed(session, posts[1], lifted, outcomes[1].signals, "key:reviewer", next(times))

    with store.transaction() as session:
        history = subject_history(session, "under-review")

    assert history.author is not None
    assert history.channel is not None
    assert history.author.strikes == 5  # p1's removal (terrorism-known-media); p2's was lifted
    assert (history.author.id, history.author.items_decided, history.author.items_restricted) == (
        "alice",
        3,
        1,
    )
    assert [(d.content_id, d.outcome, d.by_a_person) for d in history.author.latest] == [
        ("p2", "no_action", True),
        ("p3", "no_action", False),
        ("p2", "remove", False),
        ("p1", "remove", False),
    ]
    assert (history.channel.id, history.channel.items_decided, history.channel.items_restricted) == (
        "ch-1",
        3,
        2,
    )
