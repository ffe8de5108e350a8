"""Hybrid retrieval over a small real corpus: MiniLM + BM25 in Qdrant Edge, text from SQLite."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from conftest import make_doc, make_result, store_result
from llm_twin.features.indexing import index_documents
from llm_twin.inference.hits import RetrievedChunk
from llm_twin.inference.retrieval import Retriever
from llm_twin.storage.models import Chunk, Document, Source
from llm_twin.storage.qdrant_edge_store import QdrantEdgeStore
from llm_twin.storage.vector_store import SearchFilters
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory

DOCS = {
    "sourdough": make_doc("My sourdough starter finally doubled overnight. Flour, water, patience, "
                          "and a warm kitchen.", platform="instagram",
                          created_at=datetime(2021, 3, 1, tzinfo=timezone.utc)),
    "rust": make_doc("The Rust borrow checker rejected my code three times before I understood "
                     "lifetimes and ownership.", platform="x",
                     created_at=datetime(2022, 5, 10, tzinfo=timezone.utc)),
    "hiring": make_doc("Hiring lesson: we stopped doing whiteboard interviews and started paying "
                       "candidates for a small take-home project.", platform="linkedin",
                       created_at=datetime(2023, 1, 20, tzinfo=timezone.utc)),
    "marathon": make_doc("Ran my first marathon in Berlin. Hit the wall at kilometre 32, "
                         "finished anyway.", platform="x",
                         created_at=datetime(2023, 9, 24, tzinfo=timezone.utc)),
    "garden": make_doc("Tomatoes need six hours of sun and deep, infrequent watering. My balcony "
                       "garden produced two kilos this summer.", platform="blog", kind="article",
                       title="Balcony tomatoes",
                       created_at=datetime(2024, 8, 15, tzinfo=timezone.utc)),
    "guest-rust": make_doc("As a guest: Rust lifetimes and the borrow checker confuse everyone at "
                           "first.", platform="x", is_owner=False, author="Sam",
                           created_at=datetime(2022, 6, 1, tzinfo=timezone.utc)),
    "pricing": make_doc("We raised our SaaS prices by 30 percent and churn did not move. Customers "
                        "pay for outcomes.", platform="linkedin",
                        created_at=datetime(2024, 2, 2, tzinfo=timezone.utc)),
    "jazz": make_doc("Learning jazz piano at forty: voicings, ii-V-I progressions and a lot of "
                     "wrong notes.", platform="blog", kind="article", title="Late to jazz",
                     created_at=datetime(2020, 11, 5, tzinfo=timezone.utc)),
}


def build(sessions, store, embedder, folder: Path):
    report = store_result(make_result(*DOCS.values()), sessions, folder)
    assert report.new_documents == len(DOCS)
    index_documents(sessions, store, embedder, max_chars=1000, overlap_chars=150)
    with sessions() as session:
        ids = {d.raw_text: d.id for d in session.scalars(select(Document))}
    doc_ids = {name: ids[doc.raw_text] for name, doc in DOCS.items()}
    return Retriever(store, embedder, sessions), doc_ids, report.source_id


@pytest.fixture(scope="module")
def shared(tmp_path_factory, embedder):
    """One indexed corpus for the read-only tests (indexing per test would cost ~1 s each)."""
    root = tmp_path_factory.mktemp("retrieval")
    engine = create_warehouse_engine(f"sqlite:///{root / 'twin.db'}")
    store = QdrantEdgeStore(root / "vectors", embedding_model=embedder.model_id,
                            dimension=embedder.dimension)
    try:
        yield build(session_factory(engine), store, embedder, root / "exports")
    finally:
        store.close()
        engine.dispose()


@pytest.fixture
def indexed(sessions, store, embedder, tmp_path: Path):
    """A private indexed corpus, for tests that change the warehouse."""
    return build(sessions, store, embedder, tmp_path / "exports")


def names(results: list[RetrievedChunk], doc_ids: dict[str, int]) -> list[str]:
    by_id = {v: k for k, v in doc_ids.items()}
    return [by_id[r.document_id] for r in results]


@pytest.mark.parametrize("query, expected", [
    ("baking bread with a fermented starter", "sourdough"),
    ("memory safety and ownership in systems programming", "rust"),
    ("how should we interview engineering candidates", "hiring"),
    ("endurance running race", "marathon"),
    ("growing vegetables in containers", "garden"),
    ("increasing subscription prices without losing customers", "pricing"),
    ("practising chords on the piano", "jazz"),
])
def test_relevant_document_ranks_first(shared, query: str, expected: str) -> None:
    retriever, doc_ids, _ = shared
    results = retriever.search(query, k=3)
    assert names(results, doc_ids)[0] == expected, [r.label for r in results]


def test_results_are_hydrated_from_the_warehouse(indexed, tmp_path: Path) -> None:
    retriever, doc_ids, source_id = indexed
    results = retriever.search("tomatoes on my balcony", k=4)
    assert len(results) == 4
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    top = results[0]
    assert top.document_id == doc_ids["garden"]
    assert top.text == DOCS["garden"].raw_text
    assert (top.platform, top.kind, top.title, top.source_id) == ("blog", "article",
                                                                 "Balcony tomatoes", source_id)
    assert top.created_at == datetime(2024, 8, 15, tzinfo=timezone.utc)
    assert top.source_path.startswith(str((tmp_path / "exports").resolve()))
    assert top.label == "blog 2024-08-15 · Balcony tomatoes"
    assert len({r.chunk_id for r in results}) == 4


def test_k_limits_and_zero_returns_nothing(shared) -> None:
    retriever, _, _ = shared
    assert len(retriever.search("anything at all", k=2)) == 2
    assert len(retriever.search("anything at all", k=50)) == len(DOCS)
    assert retriever.search("anything at all", k=0) == []


@pytest.mark.parametrize("filters, allowed", [
    (SearchFilters(platform="x"), {"rust", "marathon", "guest-rust"}),
    (SearchFilters(platform="linkedin"), {"hiring", "pricing"}),
    (SearchFilters(kind="article"), {"garden", "jazz"}),
    (SearchFilters(is_owner=True), set(DOCS) - {"guest-rust"}),
    (SearchFilters(is_owner=False), {"guest-rust"}),
    (SearchFilters(platform="x", is_owner=True), {"rust", "marathon"}),
    (SearchFilters(since=datetime(2023, 1, 1, tzinfo=timezone.utc)),
     {"hiring", "marathon", "garden", "pricing"}),
    (SearchFilters(until=datetime(2021, 12, 31, tzinfo=timezone.utc)), {"sourdough", "jazz"}),
])
def test_filters_are_honoured(shared, filters: SearchFilters, allowed: set[str]) -> None:
    retriever, doc_ids, _ = shared
    # The query is about Rust: unfiltered, the Rust posts would win.
    results = retriever.search("rust borrow checker lifetimes", k=len(DOCS), filters=filters)
    assert set(names(results, doc_ids)) == allowed


def test_filters_select_the_owner_version_over_a_closer_guest_text(shared) -> None:
    retriever, doc_ids, _ = shared
    unfiltered = names(retriever.search("rust lifetimes borrow checker confuse", k=2), doc_ids)
    assert set(unfiltered) == {"rust", "guest-rust"}
    owned = names(retriever.search("rust lifetimes borrow checker confuse", k=1,
                                   filters=SearchFilters(is_owner=True)), doc_ids)
    assert owned == ["rust"]


def test_source_filter(indexed, ingest, sessions, store, embedder) -> None:
    retriever, _, first_source = indexed
    later = ingest(make_doc("Another post about the Rust borrow checker, from a later export."))
    index_documents(sessions, store, embedder)
    only_later = retriever.search("rust borrow checker", k=10,
                                  filters=SearchFilters(source_id=later.source_id))
    assert [r.source_id for r in only_later] == [later.source_id]
    only_first = retriever.search("rust borrow checker", k=10,
                                  filters=SearchFilters(source_id=first_source))
    assert len(only_first) == len(DOCS)


def test_hits_whose_chunk_rows_were_deleted_are_not_returned(indexed, sessions) -> None:
    retriever, doc_ids, _ = indexed
    assert names(retriever.search("endurance running race", k=1), doc_ids) == ["marathon"]
    with sessions.begin() as session:
        session.execute(delete(Chunk).where(Chunk.document_id == doc_ids["marathon"]))
    results = retriever.search("endurance running race", k=len(DOCS))
    assert "marathon" not in names(results, doc_ids)
    assert len(results) == len(DOCS) - 1  # the others are still all there


def test_a_forgotten_source_is_never_surfaced_before_reindexing(indexed, sessions) -> None:
    retriever, _, source_id = indexed
    with sessions.begin() as session:
        session.delete(session.get(Source, source_id))
    assert retriever.search("sourdough starter", k=5) == []


def test_label_for_untitled_and_undated_text() -> None:
    first_line = "First line of a post that is rather long and keeps going on and on"
    chunk = RetrievedChunk("id", 1.0, first_line + "\nsecond line", 1, 1, "x", "post", None, None,
                           None, "/p")
    assert chunk.label == "x undated · " + first_line[:60]


def test_explain_gives_the_fused_rank_and_each_methods_rank(shared):
    retriever, doc_ids, _ = shared
    hits = retriever.explain("Rust borrow checker lifetimes", retriever.search(
        "Rust borrow checker lifetimes", k=3))
    assert [hit.fused_rank for hit in hits] == [1, 2, 3]
    top = hits[0]
    assert names([top], doc_ids) in (["rust"], ["guest-rust"])
    assert set(top.ranks) == {"dense", "sparse"}
    assert top.ranks["sparse"][0] <= 2 and top.ranks["dense"][0] <= 2  # both methods agree


def test_explain_respects_filters(shared):
    retriever, doc_ids, _ = shared
    filters = SearchFilters(platform="x")
    hits = retriever.explain("marathon", retriever.search("marathon", k=2, filters=filters),
                             filters=filters)
    assert names(hits, doc_ids)[0] == "marathon"
    assert hits[0].ranks["dense"][0] == 1


@pytest.mark.parametrize("query, expected", [
    ("baking bread with a fermented starter", "sourdough"),
    ("how should we interview engineering candidates", "hiring"),
    ("increasing subscription prices without losing customers", "pricing"),
])
def test_query_rewrites_are_searched_and_fused(shared, query, expected):
    retriever, doc_ids, _ = shared
    expanded = Retriever(retriever.store, retriever.embedder, retriever.sessions, expansions=3)
    results = expanded.search(query, k=4)
    assert names(results, doc_ids)[0] == expected
    assert len({r.document_id for r in results}) == len(results)


def test_rewrites_keep_the_filters(shared):
    retriever, doc_ids, _ = shared
    expanded = Retriever(retriever.store, retriever.embedder, retriever.sessions, expansions=3)
    results = expanded.search("running a race", k=5, filters=SearchFilters(platform="x"))
    assert results and {r.platform for r in results} == {"x"}


def test_mmr_rerank_uses_stored_vectors_and_keeps_the_best_first(shared):
    from llm_twin.inference.rerank import MmrReranker

    retriever, doc_ids, _ = shared
    reranked = Retriever(retriever.store, retriever.embedder, retriever.sessions,
                         reranker=MmrReranker(retriever.embedder))
    results = reranked.search("baking bread with a fermented starter", k=3)
    assert names(results, doc_ids)[0] == "sourdough"
    assert [r.ranks["mmr"][0] for r in results] == [1, 2, 3]
    assert all(r.vector is not None and len(r.vector) == 384 for r in results)
