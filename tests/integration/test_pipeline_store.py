"""Submitting content through the pipeline: decisions, idempotency, outbox events and audit records.

Everything runs through the real pipeline (bank match -> default policies -> store) on each engine.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from vigil.domain.audit import AuditEvent
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import Action, AutomatedDecision, Decision, DecisionContext, PolicyRef
from vigil.domain.enforcement import ENFORCEMENT_EVENT, DeliveryState
from vigil.domain.hashes import HashType, ListedHash
from vigil.domain.signals import Signal, SignalKind
from vigil.domain.taxonomy import Category
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Outcome, Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store import audit as audit_store
from vigil.store import banks as bank_store
from vigil.store import content as content_store
from vigil.store import outbox as outbox_store
from vigil.store import policies as policy_store
from vigil.store.db import Store
from vigil.store.tables import OutboxEvent

TERROR_MD5 = hashlib.md5(b"known propaganda video").hexdigest()
INNOCENT_MD5 = hashlib.md5(b"holiday photo").hexdigest()
ACTOR = "platform:test"

Count = Callable[[str], int]


def decision_events(session: Session) -> list[AuditEvent]:
    """The audit chain's records of decisions (statements of reasons have their own)."""
    return [e for e in audit_store.list_events(session) if e.action == "decision.created"]


def decisions_audited(store: Store) -> int:
    with store.transaction() as session:
        return len(decision_events(session))


def media(md5: str, media_id: str = "m1") -> MediaHashes:
    return MediaHashes(media_id, "video/mp4", md5, None, 1024)


def post(content_id: str, now: datetime, *attachments: MediaHashes, text: str = "") -> Content:
    return Content(
        id=content_id,
        kind=ContentKind.POST,
        audience=Audience.PUBLIC,
        author_id="author-1",
        created_at=now,
        channel_id="channel-1",
        country="DE",
        reach=1500,
        language="de",
        text=text,
        media=attachments,
    )


@pytest.fixture
def pipeline(store: Store, now: datetime) -> Pipeline:
    """The default policy pack in force and a terrorism bank holding one known MD5."""
    with store.transaction() as session:
        policy_store.apply_policies(session, load_policy_paths([DEFAULT_PACK]), "admin", now)
        bank_store.create_bank(session, "gifct-test", Category.TERRORISM, "gifct", 31, now)
        bank_store.add_hashes(session, "gifct-test", [ListedHash(HashType.MD5, TERROR_MD5)], now)
    return Pipeline(store, clock=lambda: now)


def test_media_in_a_terrorism_bank_is_removed_under_the_terrorism_policy(
    store: Store, pipeline: Pipeline, now: datetime, count_rows: Count
) -> None:
    (outcome,) = pipeline.submit([post("post-1", now, media(TERROR_MD5))], DecisionContext(), ACTOR)

    assert not outcome.duplicate
    decision = outcome.decision
    assert decision.outcome == "remove"
    assert decision.category is Category.TERRORISM
    assert PolicyRef("terrorism-known-media", 1) in decision.policies
    assert "terrorism-known-media@1" in [str(p) for p in decision.policies]
    assert Action.PRESERVE_EVIDENCE in decision.actions
    (signal,) = outcome.signals
    assert (signal.kind, signal.bank, signal.bank_version, signal.media_id) == (
        SignalKind.HASH_MATCH,
        "gifct-test",
        2,
        "m1",
    )
    with store.transaction() as session:
        stored = content_store.get_decision(session, outcome.decision_id)
        (event_id,) = outbox_store.events_for_decision(session, outcome.decision_id)
        (audit_event,) = decision_events(session)
    assert stored is not None
    # what comes back from the JSON columns is exactly what was decided, on every engine
    assert stored.decision == decision
    assert stored.signals == outcome.signals
    assert (stored.content_id, stored.created_at) == ("post-1", now)
    assert (audit_event.actor, audit_event.action, audit_event.subject_id) == (
        ACTOR,
        "decision.created",
        "post-1",
    )
    assert audit_event.payload["decision_id"] == outcome.decision_id
    assert audit_event.payload["enforcement_event"] == event_id
    assert count_rows("content_items") == 1
    assert count_rows("content_hashes") == 1


def test_the_enforcement_event_names_the_decision_and_only_platform_actions(
    store: Store, pipeline: Pipeline, now: datetime
) -> None:
    (outcome,) = pipeline.submit([post("post-1", now, media(TERROR_MD5))], DecisionContext(), ACTOR)

    with store.transaction() as session:
        (event_id,) = outbox_store.events_for_decision(session, outcome.decision_id)
        event = session.get(OutboxEvent, event_id)
        assert event is not None
    body = json.loads(event.payload)
    assert body["type"] == ENFORCEMENT_EVENT
    assert body["decision_id"] == outcome.decision_id
    assert body["subject"] == {"type": "content", "id": "post-1"}
    assert body["actions"] == ["remove"]  # evidence preservation is Vigil's duty, not the platform's
    assert body["policies"] == ["terrorism-known-media@1"]


def test_resubmitting_the_same_id_returns_the_first_decision_and_acts_only_once(
    store: Store, pipeline: Pipeline, now: datetime, count_rows: Count
) -> None:
    (first,) = pipeline.submit([post("post-1", now, media(TERROR_MD5))], DecisionContext(), ACTOR)

    # even resubmitted with different media, the stored decision stands
    (again,) = pipeline.submit([post("post-1", now, media(INNOCENT_MD5))], DecisionContext(), ACTOR)

    assert again.duplicate
    assert again.decision_id == first.decision_id
    assert again.decision == first.decision
    assert again.signals == first.signals
    assert count_rows("decisions") == 1
    assert count_rows("content_items") == 1
    assert count_rows("outbox_events") == 1
    assert decisions_audited(store) == 1


def test_resubmitting_with_a_fresh_pipeline_still_finds_the_stored_decision(
    store: Store, pipeline: Pipeline, now: datetime, count_rows: Count
) -> None:
    (first,) = pipeline.submit([post("post-1", now, media(TERROR_MD5))], DecisionContext(), ACTOR)

    (again,) = Pipeline(store, clock=lambda: now).submit(
        [post("post-1", now, media(TERROR_MD5))], DecisionContext(), ACTOR
    )

    assert (again.duplicate, again.decision_id) == (True, first.decision_id)
    assert count_rows("outbox_events") == 1


def test_a_batch_naming_the_same_id_twice_stores_it_once(
    store: Store, pipeline: Pipeline, now: datetime, count_rows: Count
) -> None:
    item = post("post-1", now, media(TERROR_MD5))

    first, second, other = pipeline.submit(
        [item, item, post("post-2", now, media(INNOCENT_MD5))], DecisionContext(), ACTOR
    )

    assert (first.duplicate, second.duplicate, other.duplicate) == (False, True, False)
    assert second.decision_id == first.decision_id
    assert other.decision_id != first.decision_id
    assert (first.decision.outcome, other.decision.outcome) == ("remove", "no_action")
    assert count_rows("content_items") == 2
    assert count_rows("decisions") == 2
    assert count_rows("outbox_events") == 1
    assert decisions_audited(store) == 2


def test_content_matching_nothing_gets_no_action_and_no_enforcement_event(
    store: Store, pipeline: Pipeline, now: datetime, count_rows: Count
) -> None:
    with store.transaction() as session:
        outbox_store.create_endpoint(session, "https://platform.example/hooks", "main", now)

    (outcome,) = pipeline.submit(
        [post("post-1", now, media(INNOCENT_MD5), text="a day at the beach")], DecisionContext(), ACTOR
    )

    assert outcome.decision.outcome == "no_action"
    assert outcome.decision.actions == frozenset()
    assert outcome.decision.category is None
    assert outcome.signals == ()
    with store.transaction() as session:
        assert outbox_store.events_for_decision(session, outcome.decision_id) == []
        (audit_event,) = decision_events(session)
    assert audit_event.payload["enforcement_event"] is None
    assert count_rows("outbox_events") == 0
    assert count_rows("webhook_deliveries") == 0
    assert count_rows("decisions") == 1


def test_a_delivery_is_queued_for_each_active_webhook_endpoint(
    store: Store, pipeline: Pipeline, now: datetime
) -> None:
    with store.transaction() as session:
        one, _ = outbox_store.create_endpoint(session, "https://a.example/hooks", "a", now)
        two, _ = outbox_store.create_endpoint(session, "https://b.example/hooks", "b", now)
        retired, _ = outbox_store.create_endpoint(session, "https://old.example/hooks", "old", now)
    with store.transaction() as session:
        outbox_store.deactivate_endpoint(session, retired.id, now)

    (outcome,) = pipeline.submit([post("post-1", now, media(TERROR_MD5))], DecisionContext(), ACTOR)

    with store.transaction() as session:
        (event_id,) = outbox_store.events_for_decision(session, outcome.decision_id)
        deliveries = outbox_store.list_deliveries(session, event_id=event_id)
    assert sorted(d.endpoint_id for d in deliveries) == sorted([one.id, two.id])
    for delivery in deliveries:
        assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
            DeliveryState.PENDING,
            0,
            now,
        )
        assert delivery.event_type == ENFORCEMENT_EVENT


def test_without_an_endpoint_the_event_is_kept_but_no_delivery_is_queued(
    store: Store, pipeline: Pipeline, now: datetime, count_rows: Count
) -> None:
    (outcome,) = pipeline.submit([post("post-1", now, media(TERROR_MD5))], DecisionContext(), ACTOR)

    with store.transaction() as session:
        assert len(outbox_store.events_for_decision(session, outcome.decision_id)) == 1
    assert count_rows("webhook_deliveries") == 0


def test_a_bank_filled_after_the_first_submission_is_used_for_the_next(
    store: Store, pipeline: Pipeline, now: datetime
) -> None:
    (before,) = pipeline.submit([post("post-1", now, media(INNOCENT_MD5))], DecisionContext(), ACTOR)
    with store.transaction() as session:
        bank_store.add_hashes(session, "gifct-test", [ListedHash(HashType.MD5, INNOCENT_MD5)], now)

    (after,) = pipeline.submit([post("post-2", now, media(INNOCENT_MD5))], DecisionContext(), ACTOR)

    assert (before.decision.outcome, after.decision.outcome) == ("no_action", "remove")
    assert after.signals[0].bank_version == 3


def test_a_disabled_bank_no_longer_matches(store: Store, pipeline: Pipeline, now: datetime) -> None:
    with store.transaction() as session:
        bank_store.set_enabled(session, "gifct-test", False, now)

    (outcome,) = pipeline.submit([post("post-1", now, media(TERROR_MD5))], DecisionContext(), ACTOR)

    assert outcome.decision.outcome == "no_action"


def test_every_decision_is_audited_in_an_intact_chain(
    store: Store, pipeline: Pipeline, now: datetime
) -> None:
    pipeline.submit(
        [post(f"post-{i}", now, media(TERROR_MD5 if i % 2 else INNOCENT_MD5)) for i in range(6)],
        DecisionContext(),
        ACTOR,
    )
    pipeline.submit([post("post-9", now, media(TERROR_MD5))], DecisionContext(), ACTOR)

    with store.transaction() as session:
        verdict = audit_store.verify(session)
        subjects = [e.subject_id for e in decision_events(session)]
        statements = [e for e in audit_store.list_events(session) if e.action == "statement.issued"]
    assert verdict.intact
    assert verdict.events_checked == 7 + len(statements)  # a statement of reasons per removal
    assert len(statements) == 4
    assert subjects == [*(f"post-{i}" for i in range(6)), "post-9"]


def test_concurrent_submissions_of_the_same_id_record_one_decision(
    store: Store, pipeline: Pipeline, now: datetime, count_rows: Count
) -> None:
    start = threading.Barrier(4)
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def submitter() -> None:
        try:
            start.wait()
            outcomes.extend(
                pipeline.submit([post("post-1", now, media(TERROR_MD5))], DecisionContext(), ACTOR)
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submitter) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len({o.decision_id for o in outcomes}) == 1
    assert sorted(o.duplicate for o in outcomes) == [False, True, True, True]
    assert count_rows("decisions") == 1
    assert count_rows("outbox_events") == 1
    assert decisions_audited(store) == 1


def test_hashes_added_while_serving_are_matched_without_a_full_rebuild(
    store: Store, pipeline: Pipeline, now: datetime
) -> None:
    late_md5 = hashlib.md5(b"late file").hexdigest()
    first = pipeline.submit([post("before", now, media(late_md5))], DecisionContext(), ACTOR)
    index_before = pipeline._snapshot.index_of("pdq")

    Admin(store, clock=lambda: now).add_hashes(
        "gifct-test", [ListedHash(HashType.MD5, late_md5), ListedHash(HashType.PDQ, "ab" * 32)], "admin"
    )
    after = pipeline.submit([post("after", now, media(late_md5))], DecisionContext(), ACTOR)

    assert first[0].decision.outcome == "no_action"
    assert after[0].decision.outcome == "remove"
    assert pipeline._snapshot.index_of("pdq") is index_before  # the same index, grown in place
    assert len(index_before) == 1


def test_signals_read_from_media_at_intake_count_again_when_the_item_is_decided_again(
    store: Store, pipeline: Pipeline, now: datetime
) -> None:
    # an AI-generated, explicit picture: reviewed (possible deepfake); once the person shown
    # reports it to an NCII bank, the re-decision removes it, with the intake signals still counted
    read = (
        Signal("c2pa", SignalKind.PROVENANCE, None, 1.0, label="ai_generated", media_id="m1"),
        Signal("nudity", SignalKind.CLASSIFIER, Category.ADULT_NUDITY, 0.85, label="explicit_nudity"),
    )
    item = replace(post("deepfake-1", now, media(INNOCENT_MD5)), media_signals=read)
    [first] = pipeline.submit([item], DecisionContext(), ACTOR)
    admin = Admin(store, clock=lambda: now)
    admin.create_bank("stopncii", Category.NCII, "stopncii", 31, "test")
    admin.add_hashes("stopncii", [ListedHash(HashType.MD5, INNOCENT_MD5)], "test")

    [again] = pipeline.redecide(["deepfake-1"], DecisionContext(), "retro:test")

    assert first.decision.review_needed is True
    assert first.decision.outcome != "remove"
    assert again.decision.outcome == "remove"
    assert PolicyRef("ncii-synthetic-of-reported-person", 1) in again.decision.policies
    assert set(read) <= set(again.signals)


def test_restrictions_held_for_review_before_acting_are_not_sent_to_the_platform(
    store: Store, pipeline: Pipeline, now: datetime
) -> None:
    denial = Signal(
        "text_classifier", SignalKind.CLASSIFIER, Category.HATE_SPEECH, 0.95, label="holocaust_denial"
    )
    # a signal carried with the item, as intake signals are, so the test does not hang on lexicon tuning
    item = replace(post("denial-1", now), media_signals=(denial,))

    [outcome] = pipeline.submit([item], DecisionContext(), ACTOR)

    assert outcome.decision.outcome == "review"
    assert outcome.decision.held_actions == {Action.GEO_RESTRICT}
    with store.transaction() as session:
        assert outbox_store.events_for_decision(session, outcome.decision_id) == []
        stored = content_store.get_decision(session, outcome.decision_id)
        created, opened = sorted(audit_store.list_events(session), key=lambda e: e.seq)
    assert stored is not None
    assert stored.decision == outcome.decision
    assert (created.payload["review"], created.payload["held_actions"]) == ("before", ["geo_restrict"])
    # a person decides: a case waits in the queue the routing rules chose
    assert (opened.action, opened.payload["reason"], opened.payload["queue"]) == (
        "case.opened",
        "review_before",
        "general",
    )


def test_strikes_suspend_a_repeat_infringer_and_a_lifted_removal_counts_nothing(
    store: Store, now: datetime
) -> None:
    admin = Admin(store, clock=lambda: now)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    admin.create_bank("kits", Category.FRAUD, "internal", 31, "test")
    kits = [hashlib.md5(f"kit {i}".encode()).hexdigest() for i in range(5)]
    admin.add_hashes("kits", [ListedHash(HashType.MD5, k) for k in kits], "test")
    pipeline = Pipeline(store, clock=lambda: now)

    def scam(content_id: str, kit: str) -> Content:
        return replace(post(content_id, now, media(kit)), author_id="scammer", channel_id="deals")

    first = pipeline.submit([scam(f"s{i}", kits[i]) for i in range(3)], DecisionContext(), ACTOR)
    # fraud-scam counts 3 strikes: 9 so far, under the 10 that suspend
    assert [o.decision.strikes for o in first] == [3, 3, 3]
    assert all(Action.SUSPEND_ACCOUNT not in o.decision.actions for o in first)
    lifted = replace(
        Decision.no_action(first[0].decision.subject, first[0].decision.source, True),
        automated_decision=AutomatedDecision.NOT_AUTOMATED,
    )
    with store.transaction() as session:
        pipeline.record_reviewed(session, scam("s0", kits[0]), lifted, first[0].signals, "key:reviewer", now)

    [fourth] = pipeline.submit([scam("s3", kits[3])], DecisionContext(), ACTOR)  # 6 + 3 = 9
    with store.transaction() as session:
        # a reviewer confirming s1's removal replaces its strikes (still 9), it does not add to them
        _, confirmed = pipeline.record_reviewed(
            session, scam("s1", kits[1]), first[1].decision, first[1].signals, "key:reviewer", now
        )
    assert (confirmed.strikes, Action.SUSPEND_ACCOUNT in confirmed.actions) == (3, False)
    [fifth] = pipeline.submit([scam("s4", kits[4])], DecisionContext(), ACTOR)  # 12

    assert Action.SUSPEND_ACCOUNT not in fourth.decision.actions
    assert Action.SUSPEND_ACCOUNT in fifth.decision.actions
    assert Action.BAN_CHANNEL not in fifth.decision.actions  # the channel is at 12 of 20
