"""Opening the warehouse and the queries the pipeline needs."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from llm_twin.errors import WorkspaceError
from llm_twin.storage.models import Chunk, Document, Source

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)


def create_warehouse_engine(database_url: str) -> Engine:
    """An engine with the schema in place at the newest revision: a new database is created, an
    older one upgraded (one line logged), one made by a newer release refused (WorkspaceError)."""
    engine = warehouse_engine(database_url)
    try:
        migrate_warehouse(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def warehouse_engine(database_url: str) -> Engine:
    """An engine, the schema untouched. SQLite gets WAL and enforced foreign keys."""
    is_sqlite = database_url.startswith("sqlite")
    engine = create_engine(database_url, connect_args={"timeout": 30} if is_sqlite else {})
    if is_sqlite:
        event.listen(engine, "connect", _configure_sqlite)
    return engine


@dataclass(frozen=True)
class WarehouseRevision:
    """Where a database stands: its Alembic revision (None: no revision table) against this
    release's newest one."""

    current: str | None
    head: str
    # "new" (no tables yet), "unversioned" (made before revisions), "behind", "current" or "unknown"
    # (a revision this release does not know: made by a newer release)
    state: str

    def describe(self) -> str:
        return {"new": "a new database (no tables yet)",
                "unversioned": "the schema from before numbered revisions"}.get(
            self.state, str(self.current))


@dataclass(frozen=True)
class Migration:
    before: WarehouseRevision
    after: str

    @property
    def changed(self) -> bool:
        return self.before.current != self.after


def warehouse_revision(engine: Engine) -> WarehouseRevision:
    """The database's revision, read without changing anything."""
    with engine.connect() as connection:
        return _revision(connection)


def migrate_warehouse(engine: Engine, announce: bool = True) -> Migration:
    """Bring the database to this release's newest revision (Alembic, `storage/migrations/`).

    A database made before revisions existed gets the baseline's missing tables and nullable
    columns, is stamped 0001 and then upgraded. The check reads without locking; an upgrade runs
    in one transaction holding the database's write lock (SQLite) or an advisory lock (PostgreSQL),
    so a second process opening the same workspace waits and then finds it current. `announce`
    logs one line ("Upgrading the workspace database from X to Y…") when an existing database
    changes.
    """
    before = warehouse_revision(engine)
    _refuse_unknown(before)
    if before.state == "current":
        return Migration(before, before.head)
    with _migration_transaction(engine) as connection:
        before = _revision(connection)  # another process may have upgraded it meanwhile
        _refuse_unknown(before)
        if before.state == "current":
            return Migration(before, before.head)
        if announce and before.state != "new":
            logger.warning("Upgrading the workspace database from %s to %s…", before.describe(),
                           before.head)
        from alembic import command

        config = _alembic_config(connection)
        if before.state == "unversioned":
            from llm_twin.storage.migrations.baseline import baseline_metadata

            baseline = baseline_metadata()
            baseline.create_all(connection, checkfirst=True)
            add_missing_columns(connection, baseline)
            command.stamp(config, _BASELINE)
        command.upgrade(config, "head")
        copied_tables = before.state != "new" and (before.current or _BASELINE) != before.head
        if connection.dialect.name == "sqlite" and copied_tables:
            # Revisions after the baseline may copy tables (batch mode) with foreign keys off.
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise WorkspaceError(f"Upgrading the workspace database left {len(broken)} rows "
                                     f"pointing at missing rows (first: {tuple(broken[0])}); nothing "
                                     "was changed. Please report this.")
    return Migration(before, before.head)


_BASELINE = "0001"
MIGRATIONS_FOLDER = Path(__file__).parent / "migrations"  # env.py and versions/
_OUR_TABLES = ("sources", "documents", "chunks", "training_runs", "generations")
_PG_LOCK = 0x7477696E  # "twin": the advisory lock key migrations hold on PostgreSQL


@cache
def _scripts() -> tuple[str, frozenset[str]]:
    """This release's head revision and every revision it knows."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config(None))
    head = scripts.get_current_head()
    assert head is not None, "the warehouse migrations have no head revision"
    return head, frozenset(script.revision for script in scripts.walk_revisions())


def _alembic_config(connection: Connection | None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_FOLDER))
    config.attributes["connection"] = connection
    return config


def _revision(connection: Connection) -> WarehouseRevision:
    from alembic.runtime.migration import MigrationContext

    head, known = _scripts()
    tables = set(inspect(connection).get_table_names())
    heads = MigrationContext.configure(connection).get_current_heads() if "alembic_version" in tables else ()
    if not heads:
        state = "unversioned" if tables & set(_OUR_TABLES) else "new"
        return WarehouseRevision(None, head, state)
    current = ", ".join(heads)
    if any(revision not in known for revision in heads):
        return WarehouseRevision(current, head, "unknown")
    return WarehouseRevision(current, head, "current" if heads == (head,) else "behind")


def _refuse_unknown(revision: WarehouseRevision) -> None:
    if revision.state == "unknown":
        raise WorkspaceError(f"The workspace database is at revision {revision.current}, which this "
                             f"release of LLM Twin does not know (its newest is {revision.head}): a "
                             "newer release made or upgraded it. Upgrade LLM Twin "
                             "(pip install -U llm-twin) to open it; nothing was changed.")


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole upgrade, holding the lock that makes other openers wait."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            yield connection
        return
    # pysqlite would run DDL outside any transaction: take it over (autocommit at the driver)
    # and hold BEGIN IMMEDIATE ourselves, so a kill mid-upgrade leaves the old schema intact.
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        # Batch mode copies a table to alter it; enforced foreign keys would cascade the drop.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                _quietly(connection, "ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
        finally:
            _quietly(connection, "PRAGMA foreign_keys=ON")


def _quietly(connection: Connection, statement: str) -> None:
    """Run `statement` while another error is on its way out. A Ctrl-C inside a driver call leaves
    SQLAlchemy's connection invalidated, and every statement then raises PendingRollbackError,
    which hid the KeyboardInterrupt behind a traceback. Closing that connection rolls SQLite back
    anyway, so its error is dropped and the first one goes on."""
    try:
        connection.exec_driver_sql(statement)
    except SQLAlchemyError:
        logger.debug("%s after a failed upgrade did not run", statement, exc_info=True)


def add_missing_columns(connection: Connection, metadata: MetaData) -> list[str]:
    """Give a database made before revisions the nullable columns `metadata` has and it lacks (the
    schema grew by columns alone until then), and their indexes (the additive upgrade of earlier
    releases added columns without them). A missing required column is refused."""
    inspector = inspect(connection)
    added = []
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise WorkspaceError(f"The warehouse table {table.name!r} lacks the required "
                                     f"column {column.name!r}; re-create the workspace.")
            kind = column.type.compile(dialect=connection.dialect)
            connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
            added.append(f"{table.name}.{column.name}")
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(connection)
                added.append(str(index.name))
    return added


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@dataclass
class WarehouseSummary:
    sources: int
    documents: int
    owner_documents: int
    by_platform_kind: dict[tuple[str, str], int]
    chunks: int
    embedding_models: list[str]


def summarize(session: Session) -> WarehouseSummary:
    rows = session.execute(select(Document.platform, Document.kind, func.count())
                           .group_by(Document.platform, Document.kind)).all()
    models = session.scalars(select(Chunk.embedding_model).distinct()).all()
    return WarehouseSummary(
        sources=session.scalar(select(func.count()).select_from(Source)) or 0,
        documents=sum(count for _, _, count in rows),
        owner_documents=session.scalar(select(func.count()).select_from(Document)
                                       .where(Document.is_owner)) or 0,
        by_platform_kind={(platform, kind): count for platform, kind, count in rows},
        chunks=session.scalar(select(func.count()).select_from(Chunk)) or 0,
        embedding_models=list(models),
    )


def most_common_owner(session: Session) -> str | None:
    owners = Counter(o for o in session.scalars(select(Source.owner)) if o)
    return owners.most_common(1)[0][0] if owners else None
