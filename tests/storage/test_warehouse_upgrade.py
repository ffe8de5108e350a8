"""A workspace made by an older version, before schema revisions (no alembic_version table), gains
the columns added since, keeping its data. Revisions: tests/storage/test_migrations.py."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, select

from llm_twin.errors import WorkspaceError
from llm_twin.storage.migrations.baseline import baseline_metadata
from llm_twin.storage.models import Document, Source
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory


def test_new_nullable_columns_are_added_to_an_old_database(tmp_path):
    database = tmp_path / "twin.db"
    engine = create_engine(f"sqlite:///{database}")  # the first release's schema, frozen
    baseline_metadata().create_all(engine)
    engine.dispose()
    with sqlite3.connect(database) as connection:  # less a column added after it
        connection.execute("DROP INDEX ix_documents_crosspost_key")
        connection.execute("ALTER TABLE documents DROP COLUMN crosspost_key")
        connection.execute("INSERT INTO sources (format_name, path, file_hash, imported_at, "
                           "document_count, skipped) VALUES ('x-archive', 'p', 'h', "
                           "'2024-01-01 00:00:00', 1, '{}')")
        connection.execute("INSERT INTO documents (id, source_id, platform, kind, author, is_owner, "
                           "raw_text, normalized_text, content_hash, metadata) VALUES "
                           "(1, 1, 'x', 'post', 'me', 1, 'old post', 'old post', 'c', '{}')")
    sessions = session_factory(create_warehouse_engine(f"sqlite:///{database}"))
    with sessions() as session:
        document = session.scalars(select(Document)).one()
        source = session.scalars(select(Source)).one()
    assert document.raw_text == "old post" and document.crosspost_key is None
    assert document.audience == "public" and source.timezone is None  # revisions 0002, 0004


def test_a_missing_required_column_is_a_clear_error(tmp_path):
    database = tmp_path / "twin.db"
    create_warehouse_engine(f"sqlite:///{database}").dispose()
    with sqlite3.connect(database) as connection:  # an unversioned database lacking a column
        connection.execute("DROP TABLE alembic_version")
        connection.execute("ALTER TABLE chunks DROP COLUMN embedding_model")
    with pytest.raises(WorkspaceError, match="embedding_model"):
        create_warehouse_engine(f"sqlite:///{database}")
