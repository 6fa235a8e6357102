"""Evidence: what a decision asked to preserve, encrypted at rest, read only by the roles allowed to,
and deleted when its retention period ends.

Two kinds of item are kept. ``metadata`` is written by the decision itself, in its own transaction:
the content as Vigil saw it (text, media hashes, signals) and the decision. ``media`` is the bytes of
an attachment, which Vigil otherwise never keeps: sent inline with the content (preserved right after
the decision's transaction) or uploaded by the platform afterwards (``POST /v1/evidence``).

Each item is sealed with AES-256-GCM under the first configured key (``VIGIL_EVIDENCE_KEYS``), with
a random 96-bit nonce, and with the item's id, kind and key id as associated data: a ciphertext moved
to another row, relabelled as another kind or attributed to another key fails to open. Older keys
stay configured to open what they sealed until ``vigil evidence rotate`` has re-sealed it under the
current one. The plaintext exists only in memory, for the caller that asked; no key material and no
plaintext ever reaches a log, an error message or the audit chain.

Who may open what (administrators and auditors never do; the platform only uploads):

================================  ==============================================================
child-safety evidence             ``child_safety_reviewer``, ``senior_reviewer``, ``legal``,
(content ever decided as csam or  ``senior_legal``
grooming), media and metadata
other evidence                    the above and ``reviewer``
listing (no plaintext)            the roles that may open it, and ``auditor`` (oversight)
================================  ==============================================================
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from vigil.config import Settings
from vigil.domain.audit import canonical_json
from vigil.domain.decisions import Action, decision_to_json
from vigil.domain.errors import ErrorKind, NotFoundError, VigilError
from vigil.domain.events import AuditAction
from vigil.domain.ids import iso, new_id
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.store import content as content_store
from vigil.store import evidence as evidence_store
from vigil.store.audit import AuditLog
from vigil.store.content import NewDecision, StoredDecision
from vigil.store.db import Store
from vigil.store.evidence import EvidenceInfo, NewEvidence
from vigil.store.tables import Evidence

log = logging.getLogger(__name__)

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, GCM's native nonce size
KEYS_SETTING = "VIGIL_EVIDENCE_KEYS"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_AAD_PREFIX = b"vigil-evidence/1"
RETENTION_ACTOR = "vigil:retention"

CHILD_SAFETY_CATEGORIES: tuple[Category, ...] = (Category.CSAM, Category.GROOMING)
CHILD_SAFETY_READERS = frozenset(
    {Role.CHILD_SAFETY_REVIEWER, Role.SENIOR_REVIEWER, Role.LEGAL, Role.SENIOR_LEGAL}
)
EVIDENCE_READERS = CHILD_SAFETY_READERS | {Role.REVIEWER}
EVIDENCE_LISTERS = EVIDENCE_READERS | {Role.AUDITOR}


class EvidenceKind(StrEnum):
    MEDIA = "media"
    METADATA = "metadata"


class EvidenceKeyError(ValueError):
    """The configured keys cannot be used; the message names the key by position and id, never its bytes."""


class EvidenceError(VigilError):
    """An evidence operation that was refused or could not be done."""


class EvidenceOffError(EvidenceError):
    """No keys are configured, so nothing can be sealed or opened."""

    kind = ErrorKind.UNAVAILABLE
    code = "evidence_off"


class EvidenceNotFoundError(EvidenceError, NotFoundError):
    def answer(self) -> str:
        return f"{self.message.removeprefix('no ')} not found"  # "decision 'd1' not found"


class EvidenceForbiddenError(EvidenceError):
    """The caller's role may not open this item."""

    kind = ErrorKind.FORBIDDEN
    code = "forbidden"


class EvidenceDeletedError(EvidenceError):
    """The item's retention period ended and its ciphertext was deleted."""

    kind = ErrorKind.GONE
    code = "evidence_deleted"


class EvidenceRefusedError(EvidenceError):
    """Media that cannot be kept for this decision; ``code`` says why, for machines."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


class EvidenceIntegrityError(EvidenceError):
    """The ciphertext does not open: the key is not configured, or the row was altered or swapped."""

    kind = ErrorKind.BROKEN
    code = "evidence_unreadable"


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


def _associated_data(evidence_id: str, kind: str, key_id: str) -> bytes:
    # NUL cannot occur in any of the three (generated ids, an enumerated kind, checked key ids)
    return b"\x00".join((_AAD_PREFIX, evidence_id.encode(), kind.encode(), key_id.encode()))


class KeyRing:
    """The configured evidence keys: the first seals, every one opens what it sealed."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise EvidenceKeyError(f"{KEYS_SETTING}: no keys given")
        self._ciphers: dict[str, AESGCM] = {}
        for position, (key_id, key) in enumerate(keys, start=1):
            if not _KEY_ID.match(key_id):
                raise EvidenceKeyError(
                    f"{KEYS_SETTING}: key {position}: the id must be 1 to 64 letters, digits, '_', '.' or '-'"
                )
            if key_id in self._ciphers:
                raise EvidenceKeyError(f"{KEYS_SETTING}: key {position}: the id {key_id!r} is used twice")
            if len(key) != KEY_BYTES:
                raise EvidenceKeyError(
                    f"{KEYS_SETTING}: key {position} ({key_id!r}) is {len(key)} bytes; "
                    f"it must be {KEY_BYTES} random bytes, base64-encoded"
                )
            self._ciphers[key_id] = AESGCM(key)
        self.current_id = keys[0][0]

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """Keys written as ``id:base64(32 bytes)``, separated by commas, the current one first."""
        keys: list[tuple[str, bytes]] = []
        for position, entry in enumerate(text.split(","), start=1):
            key_id, sep, encoded = entry.strip().partition(":")
            if not sep or not key_id or not encoded:
                raise EvidenceKeyError(
                    f"{KEYS_SETTING}: key {position} is not written as 'id:base64', e.g. "
                    "'2026-01:' followed by 32 random bytes in base64"
                )
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise EvidenceKeyError(
                    f"{KEYS_SETTING}: key {position} ({key_id!r}) is not valid base64"
                ) from None
            keys.append((key_id, key))
        return cls(keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing | None:
        """The key ring ``settings`` configure, or None when none is (evidence preservation off)."""
        text = settings.evidence_keys
        if text is None or not text.strip():
            return None
        return cls.parse(text)

    def seal(self, evidence_id: str, kind: str, plaintext: bytes) -> Sealed:
        """Encrypt ``plaintext`` for the row ``evidence_id`` of ``kind`` under the current key."""
        nonce = os.urandom(NONCE_BYTES)
        aad = _associated_data(evidence_id, kind, self.current_id)
        return Sealed(self.current_id, nonce, self._ciphers[self.current_id].encrypt(nonce, plaintext, aad))

    def open(self, evidence_id: str, kind: str, sealed: Sealed) -> bytes:
        """Decrypt what :meth:`seal` produced for this very row; raises EvidenceIntegrityError otherwise."""
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise EvidenceIntegrityError(
                f"evidence {evidence_id} was sealed under key {sealed.key_id!r}, which is not configured"
            )
        try:
            return cipher.decrypt(
                sealed.nonce, sealed.ciphertext, _associated_data(evidence_id, kind, sealed.key_id)
            )
        except InvalidTag:
            raise EvidenceIntegrityError(
                f"evidence {evidence_id} does not decrypt: "
                "its stored bytes were altered or belong to another row"
            ) from None

    def __repr__(self) -> str:
        return f"KeyRing(current={self.current_id!r}, keys={list(self._ciphers)!r})"


@dataclass(frozen=True, slots=True)
class InlineMedia:
    """Media bytes that arrived with the content, for the decision that asks to keep them."""

    decision_id: str
    content_id: str
    media_id: str
    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Opened:
    """An opened item: its plaintext, in memory only, and what is known of it."""

    info: EvidenceInfo
    plaintext: bytes


def may_open(role: Role, child_safety: bool) -> bool:
    """Whether ``role`` may open an item (see the module's table)."""
    return role in (CHILD_SAFETY_READERS if child_safety else EVIDENCE_READERS)


class EvidenceVault:
    """Seals, opens, deletes and re-seals evidence; every one of these is in the audit chain.

    Without keys the vault is off: nothing is sealed or opened, but expired items are still deleted
    (a key taken out of the configuration must not keep ciphertext alive past its time).
    """

    def __init__(
        self, store: Store, keys: KeyRing | None, clock: Callable[[], datetime], retention_days: int
    ) -> None:
        self.store = store
        self.keys = keys
        self.clock = clock
        self.retention = timedelta(days=retention_days)

    @property
    def enabled(self) -> bool:
        return self.keys is not None

    def _keys(self) -> KeyRing:
        if self.keys is None:
            raise EvidenceOffError(f"evidence preservation is off: set {KEYS_SETTING} to keep evidence")
        return self.keys

    def preserve(
        self,
        session: Session,
        *,
        decision_id: str | None,
        content_id: str | None,
        kind: EvidenceKind,
        plaintext: bytes,
        actor: str,
        now: datetime,
        media_id: str = "",
        mime_type: str = "",
    ) -> EvidenceInfo:
        """Seal ``plaintext`` and store it in the caller's transaction, until now + the retention period."""
        keys = self._keys()
        evidence_id = new_id("ev")
        sealed = keys.seal(evidence_id, kind.value, plaintext)
        digest = hashlib.sha256(plaintext).hexdigest()
        stored = evidence_store.insert(
            session,
            NewEvidence(
                evidence_id,
                decision_id,
                content_id,
                media_id,
                kind.value,
                mime_type,
                sealed.key_id,
                sealed.nonce,
                sealed.ciphertext,
                digest,
                len(plaintext),
            ),
            now,
            now + self.retention,
        )
        AuditLog(session).append(
            actor=actor,
            action=AuditAction.EVIDENCE_PRESERVED,
            subject_type="evidence",
            subject_id=evidence_id,
            payload={
                "kind": kind.value,
                "decision_id": decision_id,
                "content_id": content_id,
                "media_id": media_id,
                "sha256": digest,
                "size_bytes": len(plaintext),
                "key_id": sealed.key_id,
                "expires_at": iso(stored.expires_at),
            },
            at=now,
        )
        return stored

    def preserve_inline(self, media: Sequence[InlineMedia], actor: str) -> list[EvidenceInfo]:
        """Keep media that arrived inline with content whose decision asks to preserve evidence, in
        one transaction of its own right after the decision's (the pipeline never holds the bytes)."""
        now = self.clock()
        with self.store.transaction() as session:
            return [
                self.preserve(
                    session,
                    decision_id=m.decision_id,
                    content_id=m.content_id,
                    kind=EvidenceKind.MEDIA,
                    plaintext=m.data,
                    actor=actor,
                    now=now,
                    media_id=m.media_id,
                    mime_type=m.mime_type,
                )
                for m in media
            ]

    def preserve_upload(
        self, decision_id: str, media_id: str, mime_type: str, data: bytes, actor: str
    ) -> tuple[EvidenceInfo, bool]:
        """Keep media the platform sends for a decision that asked to preserve evidence; returns the
        item and whether it is new (the same media sent again is kept once)."""
        self._keys()
        now = self.clock()
        with self.store.transaction() as session:
            stored = content_store.get_decision(session, decision_id)
            if stored is None:
                raise EvidenceNotFoundError(f"no decision {decision_id!r}")
            if Action.PRESERVE_EVIDENCE not in stored.decision.actions or stored.content_id is None:
                raise EvidenceRefusedError(
                    "not_preserved", f"decision {decision_id} does not ask to preserve evidence"
                )
            [content] = content_store.load_contents(session, [stored.content_id])
            known = next((m for m in content.media if m.media_id == media_id), None)
            if known is None:
                listed = ", ".join(repr(m.media_id) for m in content.media) or "none"
                raise EvidenceRefusedError(
                    "unknown_media", f"content {content.id} has no media {media_id!r} (its media: {listed})"
                )
            digests = {
                "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 (the platform's hash, not security)
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for name, recorded in (("md5", known.md5), ("sha256", known.sha256)):
                if recorded is not None and recorded != digests[name]:
                    raise EvidenceRefusedError(
                        "hash_mismatch",
                        f"the data's {name} is not the {name} recorded for media {media_id!r} "
                        f"of content {content.id}",
                    )
            existing = evidence_store.live_media(session, decision_id, media_id, digests["sha256"])
            if existing is not None:
                return existing, False
            return (
                self.preserve(
                    session,
                    decision_id=decision_id,
                    content_id=content.id,
                    kind=EvidenceKind.MEDIA,
                    plaintext=data,
                    actor=actor,
                    now=now,
                    media_id=media_id,
                    mime_type=mime_type,
                ),
                True,
            )

    def list_for_decision(self, decision_id: str, role: Role) -> list[tuple[EvidenceInfo, bool]]:
        """What is kept for a decision (never its plaintext), each with whether ``role`` may open it.
        Child-safety evidence is listed only to the roles that may open it, and to auditors."""
        with self.store.transaction() as session:
            stored = content_store.get_decision(session, decision_id)
            if stored is None:
                raise EvidenceNotFoundError(f"no decision {decision_id!r}")
            items = evidence_store.of_decision(session, decision_id)
            child_safety = self.is_child_safety(session, items)
            sensitive = stored.decision.category in CHILD_SAFETY_CATEGORIES or any(child_safety.values())
            if sensitive and role is not Role.AUDITOR and role not in CHILD_SAFETY_READERS:
                raise EvidenceForbiddenError(
                    f"the {role.value} role may not see the child-safety evidence of decision {decision_id}"
                )
        return [(item, may_open(role, child_safety[item.id])) for item in items]

    def is_child_safety(self, session: Session, items: Sequence[EvidenceInfo]) -> dict[str, bool]:
        """For each item, whether it is child-safety evidence (its content was ever decided as such)."""
        contents, decisions = evidence_store.touching_categories(
            session,
            {i.content_id for i in items if i.content_id is not None},
            {i.decision_id for i in items if i.decision_id is not None},
            CHILD_SAFETY_CATEGORIES,
        )
        return {i.id: i.content_id in contents or i.decision_id in decisions for i in items}

    def read(self, evidence_id: str, actor: str, role: Role) -> Opened:
        """Open one item for ``actor`` of ``role``; the read is in the audit chain before the plaintext
        is handed out (the transaction commits first)."""
        with self.store.transaction() as session:
            row = self._row(session, evidence_id)
            item = evidence_store.info(row)
            child_safety = self.is_child_safety(session, [item])[item.id]
            if not may_open(role, child_safety):
                raise EvidenceForbiddenError(
                    f"the {role.value} role may not open "
                    f"{'child-safety ' if child_safety else ''}evidence {evidence_id}"
                )
            plaintext = self._open(row)
            self._audit_read(session, item, actor, {"role": role.value})
        return Opened(item, plaintext)

    def read_for_report(self, evidence_id: str, actor: str, report_id: str) -> Opened:
        """Open one item to send it to a child-protection hotline (the system's own read, audited)."""
        with self.store.transaction() as session:
            row = self._row(session, evidence_id)
            item = evidence_store.info(row)
            plaintext = self._open(row)
            self._audit_read(session, item, actor, {"purpose": "hotline_report", "hotline_report": report_id})
        return Opened(item, plaintext)

    def _row(self, session: Session, evidence_id: str) -> Evidence:
        row = evidence_store.row(session, evidence_id)
        if row is None:
            raise EvidenceNotFoundError(f"no evidence {evidence_id!r}")
        return row

    def _open(self, row: Evidence) -> bytes:
        if row.ciphertext is None:
            raise EvidenceDeletedError(f"evidence {row.id} was deleted when its retention period ended")
        plaintext = self._keys().open(row.id, row.kind, Sealed(row.key_id, row.nonce, row.ciphertext))
        if hashlib.sha256(plaintext).hexdigest() != row.sha256:
            # the key opened it, so this is not tampering from outside: a bug, and worth refusing
            raise EvidenceIntegrityError(f"evidence {row.id} does not match its recorded SHA-256")
        return plaintext

    def _audit_read(self, session: Session, item: EvidenceInfo, actor: str, extra: dict[str, Any]) -> None:
        AuditLog(session).append(
            actor=actor,
            action=AuditAction.EVIDENCE_READ,
            subject_type="evidence",
            subject_id=item.id,
            payload={
                "kind": item.kind,
                "decision_id": item.decision_id,
                "content_id": item.content_id,
                "sha256": item.sha256,
                **extra,
            },
            at=self.clock(),
        )

    def purge_expired(self, now: datetime | None = None, batch: int = 500) -> int:
        """Delete the ciphertext of every item whose retention period has ended; returns how many.

        The row stays (what was kept, for whom, and when it went are facts the audit chain refers to);
        its ciphertext is gone for good.
        """
        now = now or self.clock()
        deleted = 0
        while True:
            with self.store.transaction() as session:
                rows = evidence_store.expired(session, now, batch)
                audit = AuditLog(session)
                for row in rows:
                    row.ciphertext, row.deleted_at = None, now
                    audit.append(
                        actor=RETENTION_ACTOR,
                        action=AuditAction.EVIDENCE_DELETED,
                        subject_type="evidence",
                        subject_id=row.id,
                        payload={
                            "kind": row.kind,
                            "decision_id": row.decision_id,
                            "content_id": row.content_id,
                            "expires_at": iso(row.expires_at),
                            "reason": "retention period ended",
                        },
                        at=now,
                    )
            deleted += len(rows)
            if len(rows) < batch:
                return deleted

    def purge_step(self) -> bool:
        """One pass of the retention loop inside ``vigil serve``; True when it deleted something."""
        return self.purge_expired() > 0

    def rotate(self, actor: str, batch: int = 200) -> int:
        """Re-seal every live item under the current key; returns how many were re-sealed.

        Run it after putting a new key first in ``VIGIL_EVIDENCE_KEYS``; once it has run, the older
        keys can be removed. Each batch is one transaction, so a stopped rotation is simply resumed.
        """
        keys = self._keys()
        rotated = 0
        while True:
            now = self.clock()
            with self.store.transaction() as session:
                rows = evidence_store.sealed_under_other_keys(session, keys.current_id, batch)
                audit = AuditLog(session)
                for row in rows:
                    previous = row.key_id
                    sealed = keys.seal(row.id, row.kind, self._open(row))
                    row.key_id, row.nonce, row.ciphertext = sealed.key_id, sealed.nonce, sealed.ciphertext
                    audit.append(
                        actor=actor,
                        action=AuditAction.EVIDENCE_ROTATED,
                        subject_type="evidence",
                        subject_id=row.id,
                        payload={"from_key": previous, "to_key": sealed.key_id},
                        at=now,
                    )
            rotated += len(rows)
            if len(rows) < batch:
                return rotated


def metadata_snapshot(new: NewDecision, previous: StoredDecision | None, actor: str, now: datetime) -> bytes:
    """The ``metadata`` evidence of a decision: the content as Vigil saw it (its media only as hashes)
    and the decision with its signals, as canonical JSON."""
    content = new.content
    return canonical_json(
        {
            "decision_id": new.id,
            "decided_at": iso(now),
            "decided_by": actor,
            "replaces_decision": previous.id if previous is not None else None,
            "content": {
                **content.to_activation(),
                "created_at": iso(content.created_at),
                "media": [
                    {
                        "media_id": m.media_id,
                        "mime_type": m.mime_type,
                        "md5": m.md5,
                        "sha256": m.sha256,
                        "size_bytes": m.size_bytes,
                        "pdq": list(m.pdq[:1]),
                        "pdq_quality": m.pdq_quality,
                        "video_frames": len(m.vpdq),
                    }
                    for m in content.media
                ],
            },
            "decision": decision_to_json(new.decision),
            "signals": [s.to_activation() for s in new.signals],
        }
    ).encode()


class PreserveEvidence:
    """The decision hook that keeps a decision's ``metadata`` evidence, sealed, in the decision's own
    transaction, whenever the decision asks to preserve evidence."""

    def __init__(self, vault: EvidenceVault) -> None:
        self.vault = vault

    def __call__(
        self, session: Session, new: NewDecision, previous: StoredDecision | None, actor: str, now: datetime
    ) -> None:
        if Action.PRESERVE_EVIDENCE not in new.decision.actions:
            return
        self.vault.preserve(
            session,
            decision_id=new.id,
            content_id=new.content.id,
            kind=EvidenceKind.METADATA,
            plaintext=metadata_snapshot(new, previous, actor, now),
            actor=actor,
            now=now,
            mime_type="application/json",
        )


def evidence_hooks(vault: EvidenceVault) -> tuple[PreserveEvidence, ...]:
    """The decision hooks a pipeline needs for ``vault``: none when evidence preservation is off."""
    if not vault.enabled:
        return ()
    return (PreserveEvidence(vault),)


def evidence_vault(settings: Settings, store: Store, clock: Callable[[], datetime]) -> EvidenceVault:
    """The vault ``settings`` configure; raises EvidenceKeyError for malformed keys. Without keys the
    vault is off (``vigil serve`` warns on its console; the log says so at info level)."""
    keys = KeyRing.from_settings(settings)
    if keys is None:
        log.info("evidence preservation is off: %s is not set, so no evidence is kept", KEYS_SETTING)
    return EvidenceVault(store, keys, clock, settings.evidence_retention_days)
