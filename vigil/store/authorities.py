"""Registered public authorities (DSA Art. 9, 10; TCO Regulation): the repository.

It takes and returns records; checking keys and competence and auditing every change is the
registry's (:mod:`vigil.intake.authorities`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.domain.orders import OrderType
from vigil.store.tables import Authority


@dataclass(frozen=True, slots=True)
class AuthorityInfo:
    id: str
    name: str
    country: str
    competence: frozenset[OrderType]
    contact_email: str
    contact_phone: str
    public_key: str
    active: bool
    created_at: datetime
    updated_at: datetime


def info(row: Authority) -> AuthorityInfo:
    return AuthorityInfo(
        row.id,
        row.name,
        row.country,
        frozenset(OrderType(t) for t in row.competence),
        row.contact_email,
        row.contact_phone,
        row.public_key,
        row.active,
        row.created_at,
        row.updated_at,
    )


def authority_row(session: Session, authority_id: str) -> Authority | None:
    return session.get(Authority, authority_id)


def get_authority(session: Session, authority_id: str) -> AuthorityInfo | None:
    row = authority_row(session, authority_id)
    return info(row) if row is not None else None


def add_authority(session: Session, row: Authority) -> AuthorityInfo:
    session.add(row)
    session.flush()
    return info(row)


def list_authorities(session: Session) -> list[AuthorityInfo]:
    """Every registered authority, by country and id."""
    return [info(r) for r in session.scalars(select(Authority).order_by(Authority.country, Authority.id))]
