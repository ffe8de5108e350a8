"""Alembic's environment for the warehouse: run by `storage/warehouse.migrate_warehouse` with the
connection (already in a transaction) in `config.attributes["connection"]`."""

from __future__ import annotations

from alembic import context

from llm_twin.storage.models import Base


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("The warehouse migrations run through llm_twin.storage.warehouse "
                           "(or `twin db upgrade`), which passes the open connection.")
    context.configure(connection=connection, target_metadata=Base.metadata,
                      # SQLite alters a table by copying it; batch mode does the copy.
                      render_as_batch=connection.dialect.name == "sqlite",
                      transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
