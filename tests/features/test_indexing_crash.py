"""Indexing interrupted between its two writes (vector store, warehouse): what a kill -9 leaves must
still give every chunk row its vector, and the next run must repair the rest. Real warehouse, real
Qdrant Edge shard, real MiniLM embeddings (tests/test_crash_safety.py kills the real CLI)."""

from __future__ import annotations

from datetime import datetime, UTC

import pytest
from sqlalchemy import select

from conftest import make_doc
from llm_twin.features.cleaning import content_hash, normalize_for_search
from llm_twin.features.indexing import index_documents
from llm_twin.storage.models import Chunk, Document


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except clause catches it."""


class DiesAfterDelete:
    """The real store; the process dies right after its first delete has been applied."""

    def __init__(self, store):
        self.store = store

    def delete(self, chunk_ids):
        self.store.delete(chunk_ids)
        raise Killed

    def __getattr__(self, name):
        return getattr(self.store, name)


def run_index(sessions, store, embedder):
    return index_documents(sessions, store, embedder, max_chars=300, overlap_chars=60,
                           batch_size=4)


def chunk_ids(sessions) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Chunk.id)))


@pytest.fixture
def indexed(ingest, sessions, store, embedder):
    ingest(make_doc("A starter is flour and water left to ferment. " * 12, kind="article",
                    title="Bread notes", created_at=datetime(2023, 4, 2, tzinfo=UTC)),
           make_doc("Remote teams need written decisions, not meetings.", platform="linkedin"),
           make_doc("Rust's borrow checker taught me to think about ownership.", platform="x"))
    run_index(sessions, store, embedder)
    assert chunk_ids(sessions) == store.all_ids()


def test_a_kill_while_dropping_stale_chunks_leaves_no_chunk_row_without_vector(
        indexed, sessions, store, embedder) -> None:
    """Stale chunk rows go before their vectors: the other order left, until the next run, chunk
    rows whose vectors were gone (hits silently missing from search)."""
    with sessions.begin() as session:
        doc = session.scalars(select(Document).where(Document.kind == "article")).one()
        doc.raw_text = "Bread is overrated; I now bake flatbread on a cast iron pan."
        doc.normalized_text = normalize_for_search(doc.raw_text)
        doc.content_hash = content_hash(doc.platform, doc.kind, doc.normalized_text, doc.title)
    with pytest.raises(Killed):
        run_index(sessions, DiesAfterDelete(store), embedder)
    assert chunk_ids(sessions) <= store.all_ids()

    report = run_index(sessions, store, embedder)
    assert report.documents_indexed == 1
    assert chunk_ids(sessions) == store.all_ids()
    with sessions() as session:
        texts = list(session.scalars(select(Chunk.text).join(Document)
                                     .where(Document.kind == "article")))
    assert len(texts) == 1 and "flatbread" in texts[0]


def test_chunk_rows_whose_vectors_are_lost_are_reembedded(indexed, sessions, store,
                                                          embedder) -> None:
    """A chunk row without its vector (a write the store lost) was never repaired: the document
    looked indexed. Now its rows are dropped and the document re-embedded."""
    with sessions() as session:
        lost = set(session.scalars(select(Chunk.id).join(Document)
                                   .where(Document.platform == "linkedin")))
    store.delete(sorted(lost))
    report = run_index(sessions, store, embedder)
    assert report.documents_indexed == 1 and report.chunks_added == len(lost) == 1
    assert chunk_ids(sessions) == store.all_ids()
    assert not lost & store.all_ids()
