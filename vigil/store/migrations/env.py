"""Alembic environment: runs against the engine Vigil hands over, or VIGIL_DATABASE_URL."""

from __future__ import annotations

from alembic import context

from vigil.config import Settings
from vigil.store.db import create_store_engine
from vigil.store.tables import Base

config = context.config
engine = config.attributes.get("engine") or create_store_engine(Settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
