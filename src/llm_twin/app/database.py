"""`twin db`: the workspace database's schema revision, and upgrading it on request.

Every command upgrades the database when it opens it (`storage/warehouse.create_warehouse_engine`);
these use cases look without changing anything, or upgrade and say from what to what.
"""

from __future__ import annotations

from llm_twin.app.workspace import Workspace
from llm_twin.storage.warehouse import (Migration, WarehouseRevision, migrate_warehouse, warehouse_engine,
                                       warehouse_revision)


def database_revision(ws: Workspace) -> WarehouseRevision:
    """The database's revision against this release's newest, read without changing anything."""
    engine = warehouse_engine(ws.settings.resolved_database_url)
    try:
        return warehouse_revision(engine)
    finally:
        engine.dispose()


def upgrade_database(ws: Workspace) -> Migration:
    """Bring the database to the newest revision (a new one is created); a database made by a
    newer release is refused (WorkspaceError)."""
    engine = warehouse_engine(ws.settings.resolved_database_url)
    try:
        return migrate_warehouse(engine, announce=False)
    finally:
        engine.dispose()
