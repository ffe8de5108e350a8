"""Incremental indexing: real warehouse, real Qdrant Edge shard, real MiniLM embeddings."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from conftest import make_doc
from llm_twin.features.cleaning import content_hash, normalize_for_search
from llm_twin.features.indexing import index_documents
from llm_twin.inference.retrieval import Retriever
from llm_twin.storage.models import Chunk, Document, Source
from llm_twin.storage.vector_store import IndexedChunk, SearchFilters

MAX_CHARS = 300

LONG_ARTICLE = "\n\n".join([
    "# Sourdough at home",
    "A starter is flour and water left to ferment. Feed it daily and keep it warm.",
    "Autolyse the dough for an hour before adding salt. The gluten develops on its own.",
    "Stretch and fold every thirty minutes during bulk fermentation. Watch the dough, not the clock.",
    "## Baking",
    "Preheat a Dutch oven to 250 degrees. Bake covered for twenty minutes, then uncovered.",
    "Let the loaf cool fully before slicing, or the crumb turns gummy.",
])


class RenamedEmbedder:
    """The real model under another name, as if the configured embedding model had changed."""

    def __init__(self, inner, model_id: str):
        self.inner = inner
        self.model_id = model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts, *, batch_size: int = 64, on_batch=None):
        return self.inner.embed(texts, batch_size=batch_size, on_batch=on_batch)


def chunk_rows(sessions: sessionmaker[Session]) -> list[Chunk]:
    with sessions() as session:
        return list(session.scalars(select(Chunk).order_by(Chunk.document_id, Chunk.position)))


def run_index(sessions, store, embedder, **kwargs):
    return index_documents(sessions, store, embedder, max_chars=MAX_CHARS, overlap_chars=60,
                           batch_size=4, **kwargs)


@pytest.fixture
def corpus(ingest):
    first = ingest(
        make_doc(LONG_ARTICLE, kind="article", title="Bread notes",
                 created_at=datetime(2023, 4, 2, tzinfo=timezone.utc)),
        make_doc("Remote teams need written decisions, not meetings.", platform="linkedin"),
        make_doc("Rust's borrow checker taught me to think about ownership.", platform="x"),
    )
    second = ingest(
        make_doc("1/ Ten lessons from running marathons.\n\n2/ Pace yourself early.\n\n"
                 "3/ Hydrate before you are thirsty.", platform="x", kind="thread",
                 metadata={"posts": ["1/ Ten lessons from running marathons.",
                                     "2/ Pace yourself early.",
                                     "3/ Hydrate before you are thirsty."]}),
        make_doc("A reply from a friend about gardening tomatoes.", platform="x", is_owner=False),
    )
    return first, second


def test_index_creates_chunk_rows_and_points(corpus, sessions, store, embedder) -> None:
    progress: list[tuple[int, int]] = []
    report = run_index(sessions, store, embedder, on_progress=lambda d, t: progress.append((d, t)))
    rows = chunk_rows(sessions)
    assert report.documents_indexed == 5
    assert report.chunks_added == len(rows) > 5  # the long article needed several chunks
    assert (report.chunks_removed, report.orphans_removed) == (0, 0)
    assert report.seconds_total >= report.seconds_embedding > 0
    assert progress and progress[-1] == (len(rows), len(rows))
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)

    assert store.count() == len(rows)
    assert store.all_ids() == {r.id for r in rows}
    with sessions() as session:
        docs = {d.id: d for d in session.scalars(select(Document))}
    for row in rows:
        doc = docs[row.document_id]
        assert row.embedding_model == embedder.model_id
        assert row.document_hash == doc.content_hash
        assert len(row.text) <= MAX_CHARS or doc.kind in ("post", "message")
        assert row.indexed_at.tzinfo is not None
    article_rows = [r for r in rows if docs[r.document_id].kind == "article"]
    assert [r.position for r in article_rows] == list(range(len(article_rows)))
    thread_rows = [r for r in rows if docs[r.document_id].kind == "thread"]
    assert len(thread_rows) == 1  # a short thread stays whole


def test_payloads_describe_their_document(corpus, sessions, store, embedder) -> None:
    first, second = corpus
    run_index(sessions, store, embedder)
    query = embedder.embed(["baking bread in a dutch oven"])[0].tolist()
    hits = store.search(query, "baking bread dutch oven", limit=3)
    top = hits[0].payload
    assert top["source_id"] == first.source_id
    assert (top["platform"], top["kind"], top["is_owner"], top["title"]) == ("blog", "article", 1,
                                                                            "Bread notes")
    assert top["created_at"] == "2023-04-02T00:00:00+00:00"
    assert top["created_ts"] == datetime(2023, 4, 2, tzinfo=timezone.utc).timestamp()
    guest = store.search(query, "gardening", limit=10, filters=SearchFilters(is_owner=False))
    assert len(guest) == 1 and guest[0].payload["source_id"] == second.source_id


def test_vectors_are_the_real_model_embeddings(corpus, sessions, store, embedder) -> None:
    run_index(sessions, store, embedder)
    with sessions() as session:
        row = session.scalars(select(Chunk).join(Document)
                              .where(Document.platform == "linkedin")).one()
    vector = embedder.embed([normalize_for_search(row.text)])[0]
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    hits = store.search(vector.tolist(), "", limit=1)
    assert hits[0].chunk_id == row.id
    assert hits[0].score > 0


def test_second_run_indexes_nothing(corpus, sessions, store, embedder) -> None:
    run_index(sessions, store, embedder)
    before = {r.id for r in chunk_rows(sessions)}
    report = run_index(sessions, store, embedder)
    assert (report.documents_indexed, report.chunks_added, report.chunks_removed,
            report.orphans_removed) == (0, 0, 0, 0)
    assert {r.id for r in chunk_rows(sessions)} == before == store.all_ids()


def test_new_documents_are_indexed_incrementally(corpus, ingest, sessions, store, embedder) -> None:
    run_index(sessions, store, embedder)
    before = {r.id for r in chunk_rows(sessions)}
    ingest("A brand new note about espresso extraction.")
    report = run_index(sessions, store, embedder)
    assert (report.documents_indexed, report.chunks_added, report.chunks_removed) == (1, 1, 0)
    after = {r.id for r in chunk_rows(sessions)}
    assert before < after and len(after - before) == 1
    assert store.all_ids() == after


def test_edited_document_is_reembedded_alone(corpus, sessions, store, embedder) -> None:
    run_index(sessions, store, embedder)
    rows = chunk_rows(sessions)
    with sessions.begin() as session:
        doc = session.scalars(select(Document).where(Document.kind == "article")).one()
        article_id = doc.id
        doc.raw_text = "Bread is overrated; I now bake flatbread on a cast iron pan."
        doc.normalized_text = normalize_for_search(doc.raw_text)
        doc.content_hash = content_hash(doc.platform, doc.kind, doc.normalized_text, doc.title)
    old_ids = {r.id for r in rows if r.document_id == article_id}
    others = {r.id for r in rows if r.document_id != article_id}

    report = run_index(sessions, store, embedder)
    assert report.documents_indexed == 1
    assert report.chunks_removed == len(old_ids) > 1
    assert report.chunks_added == 1
    new_rows = chunk_rows(sessions)
    new_ids = {r.id for r in new_rows if r.document_id == article_id}
    assert len(new_ids) == 1 and not new_ids & old_ids
    assert {r.id for r in new_rows if r.document_id != article_id} == others  # untouched
    ids_in_store = store.all_ids()
    assert not old_ids & ids_in_store
    assert ids_in_store == new_ids | others

    retriever = Retriever(store, embedder, sessions)
    top = retriever.search("flatbread on cast iron", k=1)[0]
    assert top.chunk_id in new_ids and "flatbread" in top.text


def test_forgotten_source_points_are_removed(corpus, sessions, store, embedder) -> None:
    first, second = corpus
    run_index(sessions, store, embedder)
    with sessions() as session:
        forgotten = set(session.scalars(select(Chunk.id).join(Document)
                                        .where(Document.source_id == second.source_id)))
    assert len(forgotten) == 2
    with sessions.begin() as session:
        session.delete(session.get(Source, second.source_id))
    assert forgotten <= store.all_ids()  # still in the store until the next index run

    report = run_index(sessions, store, embedder)
    assert report.orphans_removed == 2
    assert report.documents_indexed == 0
    assert not forgotten & store.all_ids()
    query = embedder.embed(["running a marathon"])[0].tolist()
    assert all(h.payload["source_id"] != second.source_id
               for h in store.search(query, "marathon running pace", limit=50))
    found = Retriever(store, embedder, sessions).search("marathon lessons pace hydrate", k=10)
    assert found and all(c.source_id == first.source_id for c in found)


def test_points_without_chunk_rows_are_swept(corpus, sessions, store, embedder) -> None:
    """A run that died after writing vectors left points with no row: the next run removes them."""
    run_index(sessions, store, embedder)
    stray = IndexedChunk(str(uuid.uuid4()), embedder.embed(["stray"])[0].tolist(), "stray",
                         {"source_id": 999})
    store.upsert([stray])
    report = run_index(sessions, store, embedder)
    assert report.orphans_removed == 1
    assert stray.chunk_id not in store.all_ids()


def test_changing_embedding_model_reembeds_everything(corpus, sessions, store, embedder) -> None:
    run_index(sessions, store, embedder)
    old_ids = {r.id for r in chunk_rows(sessions)}
    renamed = RenamedEmbedder(embedder, "another-minilm")
    report = run_index(sessions, store, renamed)
    assert report.documents_indexed == 5
    assert report.chunks_removed == len(old_ids)
    assert report.chunks_added == len(old_ids)
    rows = chunk_rows(sessions)
    assert {r.embedding_model for r in rows} == {"another-minilm"}
    assert not {r.id for r in rows} & old_ids
    assert store.all_ids() == {r.id for r in rows}
    assert run_index(sessions, store, renamed).documents_indexed == 0


def test_a_document_with_mixed_models_is_redone_whole(corpus, sessions, store, embedder) -> None:
    run_index(sessions, store, embedder)
    with sessions.begin() as session:
        row = session.scalars(select(Chunk).join(Document).where(Document.kind == "article")
                              .where(Chunk.position == 1)).one()
        row.embedding_model = "stale-model"
        article_id = row.document_id
    count_before = sum(1 for r in chunk_rows(sessions) if r.document_id == article_id)
    report = run_index(sessions, store, embedder)
    assert report.documents_indexed == 1
    assert report.chunks_removed == count_before
    assert {r.embedding_model for r in chunk_rows(sessions)} == {embedder.model_id}
