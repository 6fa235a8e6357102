"""Records read off rows by field name: enums from their stored text, differing fields named at the call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

from vigil.domain.roles import Role
from vigil.store.records import from_row


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    role: Role
    bound_to: str | None
    created_at: datetime


NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_record_takes_each_field_from_the_column_of_the_same_name() -> None:
    row = SimpleNamespace(id="k1", role="reviewer", bound_to=None, created_at=NOW, secret_hash="never read")

    record = from_row(Record, row)

    assert record == Record("k1", Role.REVIEWER, None, NOW)
    assert type(record.role) is Role


def test_a_field_that_differs_from_its_row_is_given_at_the_call() -> None:
    row = SimpleNamespace(id=7, policy_id="spam", role="admin", bound_to="org", created_at=NOW)

    assert from_row(Record, row, id=row.policy_id) == Record("spam", Role.ADMIN, "org", NOW)
