"""Engines, transactions and migrations, for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from vigil.config import Settings
from vigil.store.tables import Base

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def upsert_insert(dialect_name: str, table: type[Base], what: str) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` into ``table`` in the dialect's own construct, which has ``on_conflict_do_update``
    (the generic one has not); ``what`` names the rows in the error for any other dialect."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"{what} are kept on SQLite and PostgreSQL, not {dialect_name}")


def create_store_engine(url: str, pool_size: int = 3, max_overflow: int = 1) -> Engine:
    """An engine with Vigil's connection settings for its dialect; ``pool_size`` and ``max_overflow``
    bound a PostgreSQL process's connections (SQLite has one file and no server to share)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def _configure_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, and BEGIN IMMEDIATE so writers queue instead of failing mid-way.

    pysqlite would otherwise open transactions lazily and late, so two writers could both read the
    audit chain's head and then collide; an immediate transaction takes the write lock up front.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


class Store:
    """The database: one engine and the unit of work that every repository runs inside."""

    def __init__(self, url: str, pool_size: int = 3, max_overflow: int = 1) -> None:
        self.url = normalise_url(url)
        self.engine = create_store_engine(self.url, pool_size, max_overflow)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def display_url(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def is_initialised(self) -> bool:
        """Whether Vigil's schema exists here (a missing SQLite file is not created by asking)."""
        parsed = make_url(self.url)
        on_disk = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
        if on_disk and not Path(str(parsed.database)).exists():
            return False
        return inspect(self.engine).has_table("alembic_version")

    def migrate(self) -> None:
        """Create the database if need be and bring the schema to the newest migration."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        command.upgrade(alembic_config(self.engine), "head")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together, or not at all."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store the settings name, with their connection budget."""
        return cls(settings.database_url, settings.database_pool_size, settings.database_max_overflow)

    def dispose(self) -> None:
        self.engine.dispose()
