"""Migrations build exactly the schema the code expects, on every engine, and can be re-run."""

from __future__ import annotations

from datetime import datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from vigil.domain.taxonomy import Category
from vigil.store import banks as bank_store
from vigil.store.db import Store, alembic_config
from vigil.store.tables import Base


def _schema_diff(store: Store) -> list[object]:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_migrating_an_empty_database_builds_exactly_the_schema_of_the_models(unmigrated_store: Store) -> None:
    assert inspect(unmigrated_store.engine).get_table_names() == []

    unmigrated_store.migrate()

    assert set(inspect(unmigrated_store.engine).get_table_names()) == set(Base.metadata.tables) | {
        "alembic_version"
    }
    assert _schema_diff(unmigrated_store) == []


def test_migrate_records_the_newest_revision(unmigrated_store: Store) -> None:
    head = ScriptDirectory.from_config(alembic_config(unmigrated_store.engine)).get_current_head()
    assert head is not None
    assert _current_revision(unmigrated_store) is None

    unmigrated_store.migrate()

    assert _current_revision(unmigrated_store) == head


def test_migrating_again_changes_nothing_and_keeps_the_data(store: Store, now: datetime) -> None:
    with store.transaction() as session:
        bank_store.create_bank(session, "kept", Category.SPAM, "test", 31, now)
    revision = _current_revision(store)

    store.migrate()
    store.migrate()

    assert _current_revision(store) == revision
    assert _schema_diff(store) == []
    with store.transaction() as session:
        assert [b.name for b in bank_store.list_banks(session)] == ["kept"]
