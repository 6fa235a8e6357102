"""Policy versions: applying a policy keeps every earlier version; one version per policy is in force."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.domain.decisions import PolicyMode
from vigil.policy.loader import PolicyDefinition, parse_policies
from vigil.store.records import from_row
from vigil.store.tables import PolicyVersion


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    id: str
    version: int
    mode: PolicyMode
    active: bool
    source: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class ApplyResult:
    id: str
    version: int
    changed: bool  # False when the same text was already in force


def _stored(row: PolicyVersion) -> StoredPolicy:
    # the row's own id numbers the version rows; a policy is known by its policy_id
    return from_row(StoredPolicy, row, id=row.policy_id)


def apply_policies(
    session: Session, definitions: Sequence[PolicyDefinition], actor: str, now: datetime
) -> list[ApplyResult]:
    """Put ``definitions`` in force; an unchanged policy keeps its version, a changed one gets the next."""
    results: list[ApplyResult] = []
    for definition in definitions:
        current = session.scalar(
            select(PolicyVersion).where(
                PolicyVersion.policy_id == definition.id, PolicyVersion.active.is_(True)
            )
        )
        if current is not None and current.digest == definition.digest:
            results.append(ApplyResult(definition.id, current.version, changed=False))
            continue
        latest = session.scalar(
            select(func.max(PolicyVersion.version)).where(PolicyVersion.policy_id == definition.id)
        )
        if current is not None:
            current.active = False
        version = (latest or 0) + 1
        session.add(
            PolicyVersion(
                policy_id=definition.id,
                version=version,
                mode=definition.mode.value,
                source=definition.source,
                digest=definition.digest,
                active=True,
                created_at=now,
                created_by=actor,
            )
        )
        session.flush()
        results.append(ApplyResult(definition.id, version, changed=True))
    return results


def active_policies(session: Session) -> list[tuple[PolicyDefinition, int]]:
    """The policies in force with their versions, parsed from the stored text."""
    rows = session.scalars(
        select(PolicyVersion).where(PolicyVersion.active.is_(True)).order_by(PolicyVersion.policy_id)
    ).all()
    return [(parse_policies(r.source, file=f"{r.policy_id}@{r.version}")[0], r.version) for r in rows]


def active_fingerprint(session: Session) -> tuple[tuple[str, int], ...]:
    """Changes whenever a policy version is applied: a cheap staleness check."""
    rows = session.execute(
        select(PolicyVersion.policy_id, PolicyVersion.version)
        .where(PolicyVersion.active.is_(True))
        .order_by(PolicyVersion.policy_id)
    )
    return tuple((policy_id, version) for policy_id, version in rows)


def list_policies(session: Session) -> list[StoredPolicy]:
    """The versions in force."""
    return [
        _stored(r)
        for r in session.scalars(
            select(PolicyVersion).where(PolicyVersion.active.is_(True)).order_by(PolicyVersion.policy_id)
        )
    ]


def policy_history(session: Session, policy_id: str) -> list[StoredPolicy]:
    """Every version of one policy, oldest first (empty if there is no such policy)."""
    return [
        _stored(r)
        for r in session.scalars(
            select(PolicyVersion).where(PolicyVersion.policy_id == policy_id).order_by(PolicyVersion.version)
        )
    ]
