"""Helpers for the store tests, which all run once on SQLite and once on PostgreSQL, and for the
end-to-end tests, which start `vigil serve`."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.integration.live import VIGIL, Vigil
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


# --- docs that run (tests/integration/docs_runner.py) -------------------------------------------------


@pytest.fixture
def tour_env(tmp_path: Path) -> dict[str, str]:
    """The defaults `make run` runs on (no VIGIL_ setting of the caller's leaks in), with a database of
    this test's own, and no random QA case, so the audit chain's length is exact."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")},
        "VIGIL_DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}",
        "VIGIL_QA_SAMPLE_RATE": "0",
    }


@pytest.fixture
def admin_key(tmp_path: Path, tour_env: dict[str, str]) -> str:
    """The admin key `vigil init` printed."""
    init = subprocess.run(
        [*VIGIL, "init", "--json"], cwd=tmp_path, env=tour_env, capture_output=True, check=True
    )
    return str(json.loads(init.stdout)["admin_key"])


@pytest.fixture
def server(tmp_path: Path, tour_env: dict[str, str], admin_key: str) -> Iterator[Vigil]:
    """`vigil serve` on the database `vigil init` created for `admin_key`."""
    vigil = Vigil(tmp_path, tour_env)
    vigil.start()
    yield vigil
    assert vigil.process is not None
    vigil.process.terminate()
    vigil.process.wait(timeout=10)
