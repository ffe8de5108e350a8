"""The warehouse on a real PostgreSQL server (started by `make test` when the binaries exist)."""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text

from llm_twin.ingest.base import ImportedDocument, ImportResult
from llm_twin.ingest.pipeline import store_import
from llm_twin.storage.models import Chunk, Document, Source
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory

POSTGRES_URL = os.environ.get("TWIN_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="no PostgreSQL server: set "
                                "TWIN_TEST_POSTGRES_URL (make test starts one when PostgreSQL is installed)")


@pytest.fixture
def sessions():
    engine = create_warehouse_engine(POSTGRES_URL)
    with engine.begin() as connection:
        for table in ("chunks", "documents", "sources"):
            connection.execute(text(f"TRUNCATE {table} RESTART IDENTITY CASCADE"))
    yield session_factory(engine)
    engine.dispose()


def _result(*texts: str) -> ImportResult:
    when = datetime(2024, 5, 14, 8, 0, tzinfo=timezone.utc)
    return ImportResult("x-archive", [ImportedDocument("x", "post", "maya", True, t, created_at=when,
                                                       external_id=str(10**18 + i),
                                                       metadata={"emoji": "🚲"})
                                      for i, t in enumerate(texts)], owner="Maya")


def test_store_dedupe_and_types_round_trip(sessions, tmp_path):
    first = store_import(tmp_path, "hash-1", _result("Boring is a feature. 🐘", "Line one\nline two"), sessions)
    second = store_import(tmp_path, "hash-2", _result("Boring is a feature. 🐘", "A new post"), sessions)
    assert (first.new_documents, second.new_documents, second.duplicates) == (2, 1, 1)
    with sessions() as session:
        doc = session.scalars(select(Document).where(Document.raw_text.like("Line one%"))).one()
        assert doc.raw_text == "Line one\nline two" and doc.normalized_text == "Line one line two"
        assert doc.created_at == datetime(2024, 5, 14, 8, 0, tzinfo=timezone.utc)
        assert doc.extra == {"emoji": "🚲"} and doc.external_id == str(10**18 + 1)


def test_deleting_a_source_cascades_to_documents_and_chunks(sessions, tmp_path):
    report = store_import(tmp_path, "hash-1", _result("One", "Two"), sessions)
    with sessions.begin() as session:
        doc = session.scalars(select(Document)).first()
        session.add(Chunk(id="c1", document_id=doc.id, position=0, text="One",
                          document_hash=doc.content_hash, embedding_model="m"))
    with sessions.begin() as session:
        session.delete(session.get(Source, report.source_id))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0
        assert session.scalar(select(func.count()).select_from(Chunk)) == 0
