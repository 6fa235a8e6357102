"""Administrative changes: each is one store write and its audit event, in one transaction.

The CLI and the HTTP API both call these, so a change made either way is recorded the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.detect.hashing.banks import ParsedFile, RefusedRow
from vigil.domain.events import AuditAction
from vigil.domain.hashes import ListedHash
from vigil.domain.ids import utcnow
from vigil.domain.roles import Role
from vigil.domain.taxonomy import Category
from vigil.policy.loader import PolicyDefinition
from vigil.store import banks as bank_store
from vigil.store import console_sessions
from vigil.store import keys as key_store
from vigil.store import outbox as outbox_store
from vigil.store import policies as policy_store
from vigil.store import retro as retro_store
from vigil.store.audit import AuditLog
from vigil.store.db import Store
from vigil.store.locks import LockSpace, lock


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What became of each row of an imported file."""

    accepted: int
    refused: list[RefusedRow]
    imported: bool  # False when refused rows stopped the whole file
    added: int
    duplicates: int
    version: int


class Admin:
    """Audited administrative operations on one store."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    def _audit(
        self,
        session: Session,
        actor: str,
        action: AuditAction,
        subject_type: str,
        subject_id: str,
        payload: dict[str, Any],
    ) -> None:
        AuditLog(session).append(actor, action, subject_type, subject_id, payload, self.clock())

    def apply_policies(
        self, definitions: Sequence[PolicyDefinition], actor: str
    ) -> list[policy_store.ApplyResult]:
        with self.store.transaction() as session:
            results = policy_store.apply_policies(session, definitions, actor, self.clock())
            audit = AuditLog(session)
            for result in results:
                if result.changed:
                    audit.append(
                        actor,
                        AuditAction.POLICY_APPLIED,
                        "policy",
                        result.id,
                        {"version": result.version},
                        self.clock(),
                    )
        return results

    def create_bank(
        self, name: str, category: Category, source: str, threshold: int, actor: str
    ) -> bank_store.BankInfo:
        with self.store.transaction() as session:
            bank = bank_store.create_bank(session, name, category, source, threshold, self.clock())
            self._audit(
                session,
                actor,
                AuditAction.BANK_CREATED,
                "bank",
                name,
                {"category": category.value, "source": source, "threshold": threshold},
            )
        return bank

    def add_hashes(self, name: str, hashes: Sequence[ListedHash], actor: str) -> bank_store.AddReport:
        with self.store.transaction() as session:
            # bank hashes are numbered by an autoincrement id as they are inserted; one writer of bank
            # hashes at a time (only they take this lock) makes them commit in that order too, so a
            # process that has seen hash N has seen every hash below it: the pipeline's indexes take
            # in only the hashes above the highest id they hold (``_Snapshot._reload_banks``)
            lock(session, LockSpace.BANK_HASHES)
            report = bank_store.add_hashes(session, name, hashes, self.clock())
            if report.new_ids is not None:
                # content seen before these hashes existed is matched against them in the background
                job = retro_store.create_job(session, report.bank_id, *report.new_ids, self.clock())
                self._audit(
                    session,
                    actor,
                    AuditAction.BANK_HASHES_ADDED,
                    "bank",
                    name,
                    {
                        "added": report.added,
                        "duplicates": report.duplicates,
                        "version": report.version,
                        "retro_job": job,
                    },
                )
        return report

    def import_hashes(self, name: str, parsed: ParsedFile, partial: bool, actor: str) -> ImportReport:
        """Add a parsed file's accepted rows: all of them, or none if any row was refused (unless ``partial``)."""
        if parsed.refused and not partial:
            with self.store.transaction() as session:
                version = bank_store.get_bank(session, name).version
            return ImportReport(
                len(parsed.accepted), parsed.refused, imported=False, added=0, duplicates=0, version=version
            )
        report = self.add_hashes(name, [row.hash for row in parsed.accepted], actor)
        return ImportReport(
            len(parsed.accepted),
            parsed.refused,
            imported=True,
            added=report.added,
            duplicates=report.duplicates,
            version=report.version,
        )

    def set_bank_enabled(self, name: str, enabled: bool, actor: str) -> bank_store.BankInfo:
        with self.store.transaction() as session:
            bank = bank_store.set_enabled(session, name, enabled, self.clock())
            self._audit(
                session,
                actor,
                AuditAction.BANK_ENABLED if enabled else AuditAction.BANK_DISABLED,
                "bank",
                name,
                {"version": bank.version},
            )
        return bank

    def create_key(
        self, role: Role, label: str, bound_to: str | None, actor: str
    ) -> tuple[key_store.KeyInfo, str]:
        with self.store.transaction() as session:
            info, token = key_store.create_key(session, role, label, bound_to, self.clock())
            self._audit(
                session,
                actor,
                AuditAction.KEY_CREATED,
                "api_key",
                info.id,
                {"role": role.value, "label": label, "bound_to": bound_to},
            )
        return info, token

    def revoke_key(self, key_id: str, actor: str) -> key_store.KeyInfo | None:
        with self.store.transaction() as session:
            info = key_store.revoke_key(session, key_id, self.clock())
            if info is not None:
                console_sessions.end_sessions_of_key(session, key_id)  # signed out of every console
                self._audit(session, actor, AuditAction.KEY_REVOKED, "api_key", key_id, {})
        return info

    def rotate_key(self, key_id: str, actor: str) -> tuple[key_store.KeyInfo, str] | None:
        """Replace a key by a new one of the same role and binding; the old one stops working at once."""
        with self.store.transaction() as session:
            old = key_store.get_key(session, key_id)
            if old is None or not old.active:
                return None
            key_store.revoke_key(session, key_id, self.clock())
            console_sessions.end_sessions_of_key(session, key_id)
            info, token = key_store.create_key(session, old.role, old.label, old.bound_to, self.clock())
            self._audit(session, actor, AuditAction.KEY_ROTATED, "api_key", key_id, {"replaced_by": info.id})
        return info, token

    def create_webhook(self, url: str, description: str, actor: str) -> tuple[outbox_store.EndpointInfo, str]:
        with self.store.transaction() as session:
            endpoint, secret = outbox_store.create_endpoint(session, url, description, self.clock())
            self._audit(session, actor, AuditAction.WEBHOOK_CREATED, "webhook", endpoint.id, {"url": url})
        return endpoint, secret

    def deactivate_webhook(self, endpoint_id: str, actor: str) -> outbox_store.EndpointInfo | None:
        with self.store.transaction() as session:
            endpoint = outbox_store.deactivate_endpoint(session, endpoint_id, self.clock())
            if endpoint is not None:
                self._audit(session, actor, AuditAction.WEBHOOK_DEACTIVATED, "webhook", endpoint_id, {})
        return endpoint

    def retry_delivery(self, delivery_id: int, actor: str) -> bool:
        with self.store.transaction() as session:
            revived = outbox_store.retry_delivery(session, delivery_id, self.clock())
            if revived:
                self._audit(
                    session,
                    actor,
                    AuditAction.WEBHOOK_DELIVERY_RETRIED,
                    "webhook_delivery",
                    str(delivery_id),
                    {},
                )
        return revived
