"""Evidence on both engines: sealed at rest, opened only with its key and by the roles allowed,
gone when its retention period ends, still readable across a key rotation, and every read, deletion
and rotation in the audit chain."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.review_fixtures import ABUSE
from vigil.domain.audit import AuditEvent
from vigil.domain.content import Audience, Content, ContentKind, MediaHashes
from vigil.domain.decisions import Action, DecisionContext
from vigil.domain.hashes import HashType, ListedHash
from vigil.domain.roles import Role
from vigil.domain.signals import Signal
from vigil.domain.taxonomy import Category
from vigil.enforce.evidence import (
    EvidenceDeletedError,
    EvidenceForbiddenError,
    EvidenceIntegrityError,
    EvidenceVault,
    InlineMedia,
    KeyRing,
    evidence_hooks,
)
from vigil.pipeline.accountability import decision_hooks
from vigil.pipeline.admin import Admin
from vigil.pipeline.service import Outcome, Pipeline
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store import audit as audit_store
from vigil.store.db import Store
from vigil.store.tables import Evidence


def ring(*ids: str) -> KeyRing:
    """A key ring of the named keys (the same id always gives the same key in one test run)."""
    return KeyRing.parse(",".join(f"{key_id}:{base64.b64encode(KEYS[key_id]).decode()}" for key_id in ids))


KEYS = {name: os.urandom(32) for name in ("2026-01", "2026-07", "other")}


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Platform:
    """Vigil with the default policies, a bank of known abuse material, and a vault: what a platform
    sends, and what is preserved of it."""

    store: Store
    clock: Clock
    vault: EvidenceVault
    pipeline: Pipeline = field(init=False)

    def __post_init__(self) -> None:
        admin = Admin(self.store, clock=self.clock)
        admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
        admin.create_bank("ncmec", Category.CSAM, "ncmec", 31, "test")
        admin.add_hashes("ncmec", [ListedHash(HashType.MD5, hashlib.md5(ABUSE).hexdigest())], "test")
        self.pipeline = Pipeline(
            self.store, clock=self.clock, after_decision=(*decision_hooks(), *evidence_hooks(self.vault))
        )

    def submit(
        self, content_id: str, data: bytes = ABUSE, media_signals: Sequence[Signal] = (), inline: bool = True
    ) -> Outcome:
        """Send an item with one image, as ``POST /v1/content`` does: the decision first, then, if it
        asks for it, the image's bytes into the vault."""
        media = MediaHashes(
            "m1", "image/jpeg", hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data)
        )
        item = Content(
            content_id,
            ContentKind.POST,
            Audience.PUBLIC,
            "user-7",
            self.clock.now - timedelta(minutes=5),
            text="look at this",
            media=(media,),
            media_signals=tuple(media_signals),
        )
        [outcome] = self.pipeline.submit([item], DecisionContext(), "key:platform")
        if inline and self.vault.enabled and Action.PRESERVE_EVIDENCE in outcome.decision.actions:
            self.vault.preserve_inline(
                [InlineMedia(outcome.decision_id, content_id, "m1", "image/jpeg", data)], "key:platform"
            )
        return outcome


def _rows(store: Store) -> list[Evidence]:
    with store.transaction() as session:
        return list(session.scalars(select(Evidence).order_by(Evidence.kind, Evidence.id)))


def _events(store: Store, action: str) -> list[AuditEvent]:
    with store.transaction() as session:
        return [e for e in audit_store.iter_events(session) if e.action == action]


def _intact(store: Store) -> None:
    with store.transaction() as session:
        verdict = audit_store.verify(session)
    assert verdict.intact, verdict.broken


def test_preserved_evidence_is_sealed_at_rest_and_opens_only_with_its_key(
    store: Store, now: datetime
) -> None:
    clock = Clock(now)
    platform = Platform(store, clock, EvidenceVault(store, ring("2026-01"), clock, 365))

    outcome = platform.submit("abuse-1")

    assert Action.PRESERVE_EVIDENCE in outcome.decision.actions
    media, metadata = _rows(store)
    assert (media.kind, metadata.kind) == ("media", "metadata")
    assert (media.decision_id, metadata.decision_id) == (outcome.decision_id, outcome.decision_id)
    # what the database holds is not the media, nor anything of the decision's snapshot
    assert media.ciphertext is not None
    assert ABUSE not in media.ciphertext
    assert metadata.ciphertext is not None
    assert b"look at this" not in metadata.ciphertext
    assert media.sha256 == hashlib.sha256(ABUSE).hexdigest()
    assert media.expires_at == now + timedelta(days=365)

    stranger = EvidenceVault(store, ring("other"), clock, 365)
    with pytest.raises(EvidenceIntegrityError, match="key '2026-01', which is not configured"):
        stranger.read(media.id, "key:cs", Role.CHILD_SAFETY_REVIEWER)
    opened = platform.vault.read(media.id, "key:cs", Role.CHILD_SAFETY_REVIEWER)
    assert opened.plaintext == ABUSE
    snapshot = json.loads(platform.vault.read(metadata.id, "key:legal", Role.LEGAL).plaintext)
    assert snapshot["decision_id"] == outcome.decision_id
    assert snapshot["content"]["text"] == "look at this"
    assert snapshot["content"]["media"][0]["md5"] == hashlib.md5(ABUSE).hexdigest()
    assert snapshot["decision"]["policies"] == ["csam-known-media@1"]

    reads = _events(store, "evidence.read")
    assert [(e.actor, e.subject_id, e.payload["role"]) for e in reads] == [
        ("key:cs", media.id, "child_safety_reviewer"),
        ("key:legal", metadata.id, "legal"),
    ]
    assert len(_events(store, "evidence.preserved")) == 2
    _intact(store)


def test_a_tampered_or_swapped_ciphertext_does_not_open(store: Store, now: datetime) -> None:
    clock = Clock(now)
    platform = Platform(store, clock, EvidenceVault(store, ring("2026-01"), clock, 365))
    platform.submit("abuse-1")
    platform.submit("abuse-2")  # the same image posted again: same plaintext, its own ciphertext
    first, second = (r for r in _rows(store) if r.kind == "media")
    assert first.ciphertext is not None
    assert second.ciphertext is not None

    with store.transaction() as session:
        # the two media rows exchange their sealed bytes
        for row, other in ((first, second), (second, first)):
            session.execute(
                update(Evidence)
                .where(Evidence.id == row.id)
                .values(nonce=other.nonce, ciphertext=other.ciphertext)
            )
    for row in (first, second):
        with pytest.raises(EvidenceIntegrityError, match="altered or belong to another row"):
            platform.vault.read(row.id, "key:cs", Role.CHILD_SAFETY_REVIEWER)

    flipped = bytearray(first.ciphertext)
    flipped[len(flipped) // 2] ^= 0x01
    with store.transaction() as session:
        session.execute(
            update(Evidence)
            .where(Evidence.id == first.id)
            .values(nonce=first.nonce, ciphertext=bytes(flipped))
        )
    with pytest.raises(EvidenceIntegrityError):
        platform.vault.read(first.id, "key:cs", Role.CHILD_SAFETY_REVIEWER)
    assert _events(store, "evidence.read") == []  # nothing was handed out, so nothing was read


def test_child_safety_evidence_is_refused_to_every_other_role(store: Store, now: datetime) -> None:
    clock = Clock(now)
    platform = Platform(store, clock, EvidenceVault(store, ring("2026-01"), clock, 365))
    platform.submit("abuse-1")
    media = next(r for r in _rows(store) if r.kind == "media")

    for role in (
        Role.REVIEWER,
        Role.ADMIN,
        Role.AUDITOR,
        Role.PLATFORM,
        Role.TRUSTED_FLAGGER,
        Role.AUTHORITY,
    ):
        with pytest.raises(EvidenceForbiddenError, match=f"the {role.value} role may not open child-safety"):
            platform.vault.read(media.id, f"key:{role.value}", role)
    assert _events(store, "evidence.read") == []


def test_evidence_is_deleted_when_its_retention_period_ends(store: Store, now: datetime) -> None:
    clock = Clock(now)
    platform = Platform(store, clock, EvidenceVault(store, ring("2026-01"), clock, 365))
    platform.submit("abuse-1")
    media = next(r for r in _rows(store) if r.kind == "media")

    clock.advance(timedelta(days=365) - timedelta(seconds=1))
    assert platform.vault.purge_expired() == 0
    assert platform.vault.read(media.id, "key:cs", Role.CHILD_SAFETY_REVIEWER).plaintext == ABUSE
    clock.advance(timedelta(seconds=1))
    assert platform.vault.purge_expired() == 2
    assert platform.vault.purge_expired() == 0

    rows = _rows(store)
    assert [(r.ciphertext, r.deleted_at) for r in rows] == [(None, clock.now), (None, clock.now)]
    with pytest.raises(EvidenceDeletedError, match="deleted when its retention period ended"):
        platform.vault.read(media.id, "key:cs", Role.CHILD_SAFETY_REVIEWER)
    deletions = _events(store, "evidence.deleted")
    assert sorted(e.subject_id for e in deletions) == sorted(r.id for r in rows)
    assert {e.actor for e in deletions} == {"vigil:retention"}
    _intact(store)


def test_evidence_stays_readable_through_a_key_rotation(store: Store, now: datetime) -> None:
    clock = Clock(now)
    platform = Platform(store, clock, EvidenceVault(store, ring("2026-01"), clock, 365))
    platform.submit("abuse-1")
    media = next(r for r in _rows(store) if r.kind == "media")
    # a new key goes first; the old one stays until everything is re-sealed
    both = EvidenceVault(store, ring("2026-07", "2026-01"), clock, 365)
    assert both.read(media.id, "key:cs", Role.CHILD_SAFETY_REVIEWER).plaintext == ABUSE

    assert both.rotate("cli") == 2
    assert both.rotate("cli") == 0

    assert {r.key_id for r in _rows(store)} == {"2026-07"}
    new_only = EvidenceVault(store, ring("2026-07"), clock, 365)
    assert new_only.read(media.id, "key:cs", Role.CHILD_SAFETY_REVIEWER).plaintext == ABUSE
    with pytest.raises(EvidenceIntegrityError):
        platform.vault.read(media.id, "key:cs", Role.CHILD_SAFETY_REVIEWER)  # the old key alone
    rotations = _events(store, "evidence.rotated")
    assert {(e.actor, e.payload["from_key"], e.payload["to_key"]) for e in rotations} == {
        ("cli", "2026-01", "2026-07")
    }
    assert len(rotations) == 2
    _intact(store)


def test_without_keys_nothing_is_preserved(store: Store, now: datetime) -> None:
    clock = Clock(now)
    platform = Platform(store, clock, EvidenceVault(store, None, clock, 365))

    outcome = platform.submit("abuse-1")

    assert Action.PRESERVE_EVIDENCE in outcome.decision.actions
    assert _rows(store) == []
    assert _events(store, "evidence.preserved") == []
