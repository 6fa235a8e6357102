"""Policy versions in the store: applying, re-applying, changing, and reading back what is in force."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from vigil.domain.decisions import Action, PolicyMode
from vigil.policy.loader import DEFAULT_PACK, PolicyDefinition, load_policy_paths, parse_policies
from vigil.store import policies as policy_store
from vigil.store.db import Store

CHANGED_ID = "terrorism-known-media"


@pytest.fixture(scope="module")
def default_pack() -> list[PolicyDefinition]:
    return load_policy_paths([DEFAULT_PACK])


def changed(definitions: list[PolicyDefinition], policy_id: str) -> PolicyDefinition:
    """The policy ``policy_id`` with a different text: it now also suspends the account."""
    original = next(d for d in definitions if d.id == policy_id)
    assert "actions: [remove, preserve_evidence]" in original.source
    text = original.source.replace(
        "actions: [remove, preserve_evidence]", "actions: [remove, preserve_evidence, suspend_account]"
    )
    (definition,) = parse_policies(text, file="edited.yaml")
    return definition


def test_applying_the_default_pack_puts_every_policy_in_force_at_version_one(
    store: Store, now: datetime, default_pack: list[PolicyDefinition]
) -> None:
    with store.transaction() as session:
        results = policy_store.apply_policies(session, default_pack, "admin:alice", now)

    assert [(r.id, r.version, r.changed) for r in results] == [(d.id, 1, True) for d in default_pack]
    with store.transaction() as session:
        listed = policy_store.list_policies(session)
    assert sorted(p.id for p in listed) == sorted(d.id for d in default_pack)
    by_id = {d.id: d for d in default_pack}
    for stored in listed:
        assert (stored.version, stored.active, stored.created_by, stored.created_at) == (
            1,
            True,
            "admin:alice",
            now,
        )
        assert stored.source == by_id[stored.id].source
        assert stored.mode == by_id[stored.id].mode


def test_reapplying_unchanged_policies_creates_no_new_version(
    store: Store, now: datetime, default_pack: list[PolicyDefinition]
) -> None:
    with store.transaction() as session:
        policy_store.apply_policies(session, default_pack, "admin:alice", now)
    with store.transaction() as session:
        before = policy_store.active_fingerprint(session)

    with store.transaction() as session:
        results = policy_store.apply_policies(session, default_pack, "admin:bob", now + timedelta(days=1))

    assert [(r.id, r.version, r.changed) for r in results] == [(d.id, 1, False) for d in default_pack]
    with store.transaction() as session:
        assert policy_store.active_fingerprint(session) == before
        assert [len(policy_store.policy_history(session, d.id)) for d in default_pack] == [1] * len(
            default_pack
        )
        assert {p.created_by for p in policy_store.list_policies(session)} == {"admin:alice"}


def test_applying_a_changed_policy_makes_version_two_and_keeps_version_one_in_history(
    store: Store, now: datetime, default_pack: list[PolicyDefinition]
) -> None:
    with store.transaction() as session:
        policy_store.apply_policies(session, default_pack, "admin:alice", now)
    edited = changed(default_pack, CHANGED_ID)
    later = now + timedelta(hours=2)

    with store.transaction() as session:
        results = policy_store.apply_policies(
            session, [edited if d.id == CHANGED_ID else d for d in default_pack], "admin:bob", later
        )

    assert {r.id: (r.version, r.changed) for r in results if r.changed} == {CHANGED_ID: (2, True)}
    with store.transaction() as session:
        history = policy_store.policy_history(session, CHANGED_ID)
        in_force = {p.id: p.version for p in policy_store.list_policies(session)}
    assert [(p.version, p.active, p.created_by, p.created_at) for p in history] == [
        (1, False, "admin:alice", now),
        (2, True, "admin:bob", later),
    ]
    original = next(d for d in default_pack if d.id == CHANGED_ID)
    assert history[0].source == original.source
    assert history[1].source == edited.source
    assert in_force[CHANGED_ID] == 2
    assert {v for k, v in in_force.items() if k != CHANGED_ID} == {1}


def test_applying_changes_the_fingerprint_only_when_a_version_is_made(
    store: Store, now: datetime, default_pack: list[PolicyDefinition]
) -> None:
    def fingerprint() -> object:
        with store.transaction() as session:
            return policy_store.active_fingerprint(session)

    empty = fingerprint()
    with store.transaction() as session:
        policy_store.apply_policies(session, default_pack, "admin", now)
    applied = fingerprint()
    with store.transaction() as session:
        policy_store.apply_policies(session, default_pack, "admin", now)
    reapplied = fingerprint()
    with store.transaction() as session:
        policy_store.apply_policies(session, [changed(default_pack, CHANGED_ID)], "admin", now)
    edited = fingerprint()

    assert len({empty, applied, edited}) == 3
    assert reapplied == applied


def test_active_policies_are_read_back_as_parsed_definitions_with_their_versions(
    store: Store, now: datetime, default_pack: list[PolicyDefinition]
) -> None:
    with store.transaction() as session:
        policy_store.apply_policies(session, default_pack, "admin", now)
        policy_store.apply_policies(session, [changed(default_pack, CHANGED_ID)], "admin", now)

    with store.transaction() as session:
        active = policy_store.active_policies(session)

    assert [d.id for d, _ in active] == sorted(d.id for d in default_pack)
    loaded = {d.id: d for d in default_pack}
    for definition, version in active:
        if definition.id == CHANGED_ID:
            assert version == 2
            assert definition.actions == frozenset(
                {Action.REMOVE, Action.PRESERVE_EVIDENCE, Action.SUSPEND_ACCOUNT}
            )
        else:
            assert version == 1
            assert definition == loaded[definition.id]


def test_history_of_an_unknown_policy_is_empty(store: Store) -> None:
    with store.transaction() as session:
        assert policy_store.policy_history(session, "no-such-policy") == []


def test_a_shadow_policy_is_stored_in_shadow_mode(store: Store, now: datetime) -> None:
    (shadow,) = parse_policies(
        """
id: spam-shadow-trial
mode: shadow
when: content.text.contains('buy now')
category: spam
ground:
  type: incompatible_content
  reference: "Terms of service 4.2"
  explanation: "Unsolicited advertising."
actions: [demote]
""",
        file="trial.yaml",
    )

    with store.transaction() as session:
        policy_store.apply_policies(session, [shadow], "admin", now)
    with store.transaction() as session:
        (stored,) = policy_store.list_policies(session)
        ((definition, version),) = policy_store.active_policies(session)

    assert (stored.id, stored.mode, version) == ("spam-shadow-trial", PolicyMode.SHADOW, 1)
    assert definition == shadow
