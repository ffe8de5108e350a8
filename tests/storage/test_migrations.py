"""Warehouse schema revisions (Alembic): a workspace made by release 0.1.0 (the last one before
revisions, recorded in tests/fixtures/workspace_v1/twin.sql) upgrades keeping every row; a second
open changes nothing; a database from a newer release is refused; SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from llm_twin.cli.app import app
from llm_twin.errors import WorkspaceError
from llm_twin.storage import warehouse
from llm_twin.storage.models import Base, Document, TrainingRun
from llm_twin.storage.warehouse import (create_warehouse_engine, session_factory, warehouse_engine,
                                        warehouse_revision)

DUMP = Path(__file__).parents[1] / "fixtures" / "workspace_v1" / "twin.sql"
TABLES = ("sources", "documents", "chunks", "training_runs", "generations")
HEAD = warehouse._scripts()[0]
POSTGRES_URL = os.environ.get("TWIN_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="no PostgreSQL server: set "
                                    "TWIN_TEST_POSTGRES_URL (make test starts one when PostgreSQL "
                                    "is installed)")


def _release_0_1_workspace(folder: Path) -> Path:
    database = folder / "twin.db"
    with sqlite3.connect(database) as connection:
        connection.executescript(DUMP.read_text(encoding="utf-8"))
    return database


def _rows(database: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(database) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in TABLES}


def _schema(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()


def _version(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchall()


def _schema_differences(engine) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_the_fixture_is_a_release_0_1_workspace(tmp_path):
    database = _release_0_1_workspace(tmp_path)
    rows = _rows(database)
    assert {table: len(found) for table, found in rows.items()} == {
        "sources": 2, "documents": 5, "chunks": 5, "training_runs": 1, "generations": 1}
    assert not any(name == "alembic_version" for _, name, _ in _schema(database))


def test_a_release_0_1_workspace_upgrades_keeping_every_row(tmp_path, caplog):
    database = _release_0_1_workspace(tmp_path)
    before = _rows(database)
    with caplog.at_level(logging.WARNING, logger="llm_twin.storage.warehouse"):
        engine = create_warehouse_engine(f"sqlite:///{database}")
    assert [record.getMessage() for record in caplog.records] == [
        f"Upgrading the workspace database from the schema from before numbered revisions to {HEAD}…"]
    assert _version(database) == [(HEAD,)]
    after = _rows(database)
    changed = ("documents", "training_runs", "sources")
    assert {table: rows for table, rows in after.items() if table not in changed} == {
        table: rows for table, rows in before.items() if table not in changed}
    # Revision 0004 appends the sources' `timezone`, unknown (NULL: shown in UTC) for old ones.
    assert [row[:-1] for row in after["sources"]] == before["sources"]
    assert [row[-1] for row in after["sources"]] == [None, None]
    # Revision 0003 appends `lineage` and `exports` to runs, unknown (NULL) for old ones.
    assert [row[:-2] for row in after["training_runs"]] == before["training_runs"]
    assert [row[-2:] for row in after["training_runs"]] == [(None, None)]
    # Revision 0002 appends `audience`, filled from each row's kind and metadata.
    assert [row[:-1] for row in after["documents"]] == before["documents"]
    assert [row[-1] for row in after["documents"]] == ["public"] * 4 + ["private"]
    assert _schema_differences(engine) == []
    with session_factory(engine)() as session:
        copy = session.scalars(select(Document).where(Document.platform == "linkedin",
                                                      Document.kind == "post")).one()
        assert copy.crosspost_of_id == 1 and copy.extra == {} and copy.audience == "public"
        run = session.get(TrainingRun, "sft-20260101-120000")
        assert run is not None and run.metrics == {"steps": 40, "eval_loss": 2.1} and run.is_active
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()


def test_a_second_open_changes_nothing(tmp_path, caplog):
    database = _release_0_1_workspace(tmp_path)
    create_warehouse_engine(f"sqlite:///{database}").dispose()
    schema, rows = _schema(database), _rows(database)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="llm_twin.storage.warehouse"):
        create_warehouse_engine(f"sqlite:///{database}").dispose()
    assert caplog.records == []
    assert (_schema(database), _rows(database), _version(database)) == (schema, rows, [(HEAD,)])


def test_a_new_database_is_created_at_the_newest_revision_matching_the_models(tmp_path, caplog):
    with caplog.at_level(logging.DEBUG, logger="llm_twin.storage.warehouse"):
        engine = create_warehouse_engine(f"sqlite:///{tmp_path / 'twin.db'}")
    assert caplog.records == []  # nothing to announce for a new workspace
    assert warehouse_revision(engine).state == "current"
    assert _schema_differences(engine) == []
    engine.dispose()


def test_a_database_from_a_newer_release_is_refused_unchanged(tmp_path):
    database = _release_0_1_workspace(tmp_path)
    create_warehouse_engine(f"sqlite:///{database}").dispose()
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0999'")
    schema, rows = _schema(database), _rows(database)
    with pytest.raises(WorkspaceError, match=r"revision 0999.*newer release.*Upgrade LLM Twin"):
        create_warehouse_engine(f"sqlite:///{database}")
    assert (_schema(database), _rows(database), _version(database)) == (schema, rows, [("0999",)])


def test_an_older_unversioned_schema_gains_missing_columns_and_tables(tmp_path):
    """A database the additive upgrade used to handle: documents without crosspost_key and no
    generations table (both came after the first release). The additive upgrade added columns but
    not their indexes; the baseline gets those too, so the result matches the models."""
    database = _release_0_1_workspace(tmp_path)
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE generations")
        connection.execute("DROP INDEX ix_documents_crosspost_key")
        connection.execute("ALTER TABLE documents DROP COLUMN crosspost_key")
    engine = create_warehouse_engine(f"sqlite:///{database}")
    assert _version(database) == [(HEAD,)]
    assert _schema_differences(engine) == []
    with session_factory(engine)() as session:
        documents = session.scalars(select(Document).order_by(Document.id)).all()
    assert len(documents) == 5 and all(document.crosspost_key is None for document in documents)
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM generations").fetchone() == (0,)
    engine.dispose()


TEST_REVISION = "0900"
REVISION_0002 = f'''"""A test revision: documents gain a summary column, the table copied (batch mode)."""
import sqlalchemy as sa
from alembic import op

revision = "{TEST_REVISION}"
down_revision = "{HEAD}"


def upgrade():
    with op.batch_alter_table("documents", recreate="always") as batch:
        batch.add_column(sa.Column("summary", sa.Text()))
'''


@pytest.fixture
def with_revision_0002(tmp_path, monkeypatch):
    """This release's migrations plus a revision 0002 that copies the documents table."""
    folder = tmp_path / "migrations"
    shutil.copytree(warehouse.MIGRATIONS_FOLDER, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "versions" / "v0900_test.py").write_text(REVISION_0002)
    monkeypatch.setattr(warehouse, "MIGRATIONS_FOLDER", folder)
    warehouse._scripts.cache_clear()
    yield
    monkeypatch.undo()
    warehouse._scripts.cache_clear()


def test_a_later_revision_upgrades_a_stamped_database_without_cascading_deletes(tmp_path, caplog,
                                                                               with_revision_0002):
    """From the fixture: stamped 0001, then 0002 copies `documents`, which chunks reference with
    ON DELETE CASCADE; with foreign keys enforced during the copy every chunk would go."""
    database = _release_0_1_workspace(tmp_path)
    before = _rows(database)
    engine = create_warehouse_engine(f"sqlite:///{database}")
    assert [record.getMessage() for record in caplog.records] == [
        "Upgrading the workspace database from the schema from before numbered revisions to "
        f"{TEST_REVISION}…"]
    assert _version(database) == [(TEST_REVISION,)]
    after = _rows(database)
    assert after["chunks"] == before["chunks"] and after["generations"] == before["generations"]
    # audience (revision 0002), then summary: NULL, last
    assert [row[:-2] for row in after["documents"]] == before["documents"]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on
    engine.dispose()
    (tmp_path / "at_0001").mkdir()
    database = _release_0_1_workspace(tmp_path / "at_0001")
    with sqlite3.connect(database) as connection:  # what this release's first open leaves
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('0001')")
    caplog.clear()
    create_warehouse_engine(f"sqlite:///{database}").dispose()
    assert [record.getMessage() for record in caplog.records] == [
        f"Upgrading the workspace database from 0001 to {TEST_REVISION}…"]
    assert _version(database) == [(TEST_REVISION,)]
    assert _rows(database)["chunks"] == before["chunks"]


def test_a_failed_upgrade_rolls_back_to_the_old_schema(tmp_path, monkeypatch):
    """The upgrade is one transaction: a failure half-way (here after the missing table was
    created) leaves the database as it was, and the next open upgrades it."""
    database = _release_0_1_workspace(tmp_path)
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE generations")
    schema, = [_schema(database)]

    def fail(*_args):
        raise RuntimeError("power cut")

    monkeypatch.setattr(warehouse, "add_missing_columns", fail)
    with pytest.raises(RuntimeError, match="power cut"):
        create_warehouse_engine(f"sqlite:///{database}")
    assert _schema(database) == schema
    monkeypatch.undo()
    create_warehouse_engine(f"sqlite:///{database}").dispose()
    assert _version(database) == [(HEAD,)]


def test_ctrl_c_in_the_middle_of_an_upgrade_is_a_keyboard_interrupt_and_nothing_changes(
        tmp_path, monkeypatch):
    """CI: Ctrl-C during the first open's migration ended `twin ingest` with a PendingRollbackError
    traceback (exit 1). A KeyboardInterrupt inside a driver call invalidates SQLAlchemy's
    connection, and the ROLLBACK that followed raised. The interrupt must come out, so the CLI
    says "Interrupted" with exit code 130, and the old schema must stay."""
    database = _release_0_1_workspace(tmp_path)
    schema = _schema(database)

    def interrupted(connection, *_args):
        connection.invalidate()  # what SQLAlchemy does when a driver call is interrupted
        raise KeyboardInterrupt

    monkeypatch.setattr(warehouse, "add_missing_columns", interrupted)
    with pytest.raises(KeyboardInterrupt):
        create_warehouse_engine(f"sqlite:///{database}")
    assert _schema(database) == schema
    monkeypatch.undo()
    create_warehouse_engine(f"sqlite:///{database}").dispose()
    assert _version(database) == [(HEAD,)]


def test_two_processes_opening_a_new_workspace_at_once_both_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    outcomes: list[object] = []

    def open_it():
        try:
            create_warehouse_engine(url).dispose()
            outcomes.append("ok")
        except Exception as error:  # reported below
            outcomes.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["ok"] * 4
    assert _version(tmp_path / "twin.db") == [(HEAD,)]


def test_twin_db_current_and_upgrade(tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    database = _release_0_1_workspace(workspace)
    runner = CliRunner()

    def twin(*args: str, expect: int = 0) -> str:
        result = runner.invoke(app, ["--workspace", str(workspace), "db", *args], env={"COLUMNS": "200"})
        assert result.exit_code == expect, result.output
        return result.output

    assert "before numbered revisions" in twin("current")
    assert _rows(database)["sources"] and "alembic_version" not in {n for _, n, _ in _schema(database)}
    assert twin("upgrade").strip() == (f"Upgraded the workspace database from the schema from before "
                                       f"numbered revisions to {HEAD}.")
    assert twin("current").strip() == f"{HEAD} (the newest)"
    assert "already at the newest revision" in twin("upgrade")
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0999'")
    assert "unknown to this release" in twin("current")
    assert "newer release" in twin("upgrade", expect=2)


@pytest.fixture
def postgres_url():
    """A database of its own on the test server, dropped afterwards."""
    name = f"twin_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@needs_postgres
def test_postgres_new_database_at_the_newest_revision_and_a_second_open(postgres_url, caplog):
    engine = create_warehouse_engine(postgres_url)
    assert warehouse_revision(engine).current == HEAD
    assert _schema_differences(engine) == []
    engine.dispose()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="llm_twin.storage.warehouse"):
        create_warehouse_engine(postgres_url).dispose()
    assert caplog.records == []


@needs_postgres
def test_postgres_unversioned_database_upgrades_keeping_rows(postgres_url):
    from llm_twin.storage.migrations.baseline import baseline_metadata

    old = warehouse_engine(postgres_url)
    baseline = baseline_metadata()
    baseline.tables["documents"]._columns.remove(baseline.tables["documents"].c.crosspost_key)  # older
    for index in list(baseline.tables["documents"].indexes):
        if index.name == "ix_documents_crosspost_key":
            baseline.tables["documents"].indexes.remove(index)
    baseline.create_all(old)
    with old.begin() as connection:
        connection.execute(text("INSERT INTO sources (format_name, path, file_hash, imported_at, "
                                "document_count, skipped) VALUES ('x-archive', 'p', 'h', now(), 1, '{}')"))
        connection.execute(text("INSERT INTO documents (source_id, platform, kind, author, is_owner, "
                                "raw_text, normalized_text, content_hash, metadata) VALUES "
                                "(1, 'x', 'post', 'me', true, 'old post', 'old post', 'c', '{}')"))
    old.dispose()
    engine = create_warehouse_engine(postgres_url)
    assert warehouse_revision(engine).current == HEAD
    assert _schema_differences(engine) == []
    with session_factory(engine)() as session:
        document = session.scalars(select(Document)).one()
    assert document.raw_text == "old post" and document.crosspost_key is None
    engine.dispose()


@needs_postgres
def test_postgres_database_from_a_newer_release_is_refused(postgres_url):
    create_warehouse_engine(postgres_url).dispose()
    engine = warehouse_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    with pytest.raises(WorkspaceError, match="newer release"):
        create_warehouse_engine(postgres_url)


def test_revision_0002_fills_audience_from_kind_and_metadata(tmp_path):
    """Rows stored before `audience` existed get it from what their importer recorded: Mastodon
    visibility, a draft flag, WordPress's private status; a chat message is private."""
    database = _release_0_1_workspace(tmp_path)
    extras = {1: '{"visibility": "direct"}', 2: '{"visibility": "followers-only"}',
              3: '{"draft": true}', 4: '{"visibility": "MEMBER_NETWORK"}'}
    with sqlite3.connect(database) as connection:
        for row_id, extra in extras.items():
            connection.execute("UPDATE documents SET metadata = ? WHERE id = ?", (extra, row_id))
    engine = create_warehouse_engine(f"sqlite:///{database}")
    with session_factory(engine)() as session:
        audiences = dict(session.execute(select(Document.id, Document.audience)).tuples().all())
    assert audiences == {1: "direct", 2: "followers", 3: "draft", 4: "public", 5: "private"}
    engine.dispose()
