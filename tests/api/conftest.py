"""An app on a fresh SQLite store, with an admin key, driven through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vigil.api.app import create_app
from vigil.config import Settings
from vigil.domain.roles import Role
from vigil.pipeline.admin import Admin
from vigil.policy.loader import DEFAULT_PACK, load_policy_paths
from vigil.store.db import Store


@dataclass
class Api:
    client: TestClient
    store: Store
    admin_key: str

    def key(self, role: Role, bound_to: str | None = None) -> str:
        _, token = Admin(self.store).create_key(role, f"test {role.value}", bound_to, "test")
        return token

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.as_(self.admin_key)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'vigil.db'}",
        webhook_deliver=False,
        retro_matching=False,
        order_watch=False,  # tests that want the order clock's pass call OrderDesk.watch themselves
        max_body_bytes=256 * 1024,
        qa_sample_rate=0.0,  # tests that want QA cases ask for them
    )
    store = Store(settings.database_url)
    store.migrate()
    admin = Admin(store)
    admin.apply_policies(load_policy_paths([DEFAULT_PACK]), "test")
    _, admin_key = admin.create_key(Role.ADMIN, "test admin", None, "test")
    with TestClient(create_app(settings, store)) as client:
        yield Api(client, store, admin_key)
    store.dispose()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The SQLite file the CLI uses in this test (run from the test's own directory)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIGIL_DATABASE_URL", f"sqlite:///{tmp_path / 'vigil.db'}")
    return tmp_path / "vigil.db"
