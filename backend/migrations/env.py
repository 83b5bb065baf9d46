"""Alembic environment: runs migrations on the engine handed in by backend.db.migrate."""

from __future__ import annotations

import geoalchemy2.alembic_helpers  # noqa: F401  (registers the geospatial operations)
from alembic import context

from backend.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
