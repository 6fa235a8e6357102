"""Helpers for the store tests, which all run once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.integration.live import Vigil
from vigil.store.db import Store


@pytest.fixture
def count_rows(store: Store) -> Callable[[str], int]:
    """How many rows a table holds, read in a transaction of its own."""

    def count(table: str) -> int:
        with store.transaction() as session:
            return int(session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())

    return count


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VIGIL_DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}",
        "VIGIL_WEBHOOK_BACKOFF_BASE_SECONDS": "0.2",
        "VIGIL_WEBHOOK_BACKOFF_CAP_SECONDS": "0.5",
        "VIGIL_WEBHOOK_MAX_ATTEMPTS": "1000",
        "VIGIL_WEBHOOK_POLL_SECONDS": "0.1",
        "VIGIL_QA_SAMPLE_RATE": "0",  # no random QA cases: the test counts what happens
    }


@pytest.fixture
def vigil(tmp_path: Path, env: dict[str, str]) -> Iterator[Vigil]:
    server = Vigil(tmp_path, env)
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=10)
