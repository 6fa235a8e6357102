"""Helpers for the store tests, which all run once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from vigil.store.db import Store


@pytest.fixture
def count_rows(store: Store) -> Callable[[str], int]:
    """How many rows a table holds, read in a transaction of its own."""

    def count(table: str) -> int:
        with store.transaction() as session:
            return int(session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())

    return count
