"""Policy versions: applying a policy keeps every earlier version; one version per policy is in force.

Several API processes may change one policy at the same moment. Two guards keep exactly one version
in force, numbered without gaps or duplicates: the change takes a row lock on the policy's version in
force before it reads it (``SELECT ... FOR UPDATE``; SQLite's writers queue for the whole database
anyway), and the database refuses a second version in force (the partial unique index
``uq_policy_versions_one_in_force``) or a version number taken twice. A change that loses the race
is refused as :class:`PolicyChangeConflict` (HTTP 409, ``policy_conflict``) and leaves nothing
behind; the caller applies it again on top of the winner's version. Only changes of the same policy
wait for each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.domain.decisions import PolicyMode
from vigil.domain.errors import ErrorKind, VigilError
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


class PolicyChangeConflict(VigilError):
    """Another change of the same policy was put in force while this one was being applied."""

    kind = ErrorKind.CONFLICT
    code = "policy_conflict"

    def __init__(self, policy_id: str, detail: str) -> None:
        super().__init__(
            f"policy {policy_id!r} was changed by another request at the same time ({detail}); "
            "nothing of this request was applied: look at the version in force and apply again"
        )
        self.policy_id = policy_id


def _in_force(session: Session, policy_id: str, lock: bool) -> PolicyVersion | None:
    query = select(PolicyVersion).where(PolicyVersion.policy_id == policy_id, PolicyVersion.active.is_(True))
    return session.scalar(query.with_for_update() if lock else query)


def apply_policies(
    session: Session, definitions: Sequence[PolicyDefinition], actor: str, now: datetime
) -> list[ApplyResult]:
    """Put ``definitions`` in force; an unchanged policy keeps its version, a changed one gets the next.

    Raises :class:`PolicyChangeConflict` when another transaction changes one of these policies
    first; the caller's transaction must then be rolled back (the ``Store.transaction`` does).
    """
    # policies are locked in the order of their ids, so two requests over the same policies never
    # wait for each other crosswise (a deadlock); results come back in the order given
    order = sorted(range(len(definitions)), key=lambda i: definitions[i].id)
    results: dict[int, ApplyResult] = {}
    for i in order:
        results[i] = _apply_one(session, definitions[i], actor, now)
    return [results[i] for i in range(len(definitions))]


def _apply_one(session: Session, definition: PolicyDefinition, actor: str, now: datetime) -> ApplyResult:
    current = _in_force(session, definition.id, lock=True)
    latest = session.scalar(
        select(func.max(PolicyVersion.version)).where(PolicyVersion.policy_id == definition.id)
    )
    if current is None and latest is not None:
        # the version in force was replaced while this request waited for its lock
        winner = _in_force(session, definition.id, lock=False)
        if winner is not None and winner.digest == definition.digest:
            return ApplyResult(definition.id, winner.version, changed=False)
        if winner is not None:
            raise PolicyChangeConflict(definition.id, f"version {winner.version} is now in force")
    if current is not None and current.digest == definition.digest:
        return ApplyResult(definition.id, current.version, changed=False)
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
    try:
        session.flush()
    except IntegrityError:
        # the first version of a new policy, or a version put in force between our reads: the
        # database refused a second version in force, or the same version number twice
        raise PolicyChangeConflict(definition.id, f"version {version} was taken") from None
    return ApplyResult(definition.id, version, changed=True)


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
