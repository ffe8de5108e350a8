"""The Qdrant server store, run twice: on qdrant-client's local mode (":memory:", always) and on a
real Qdrant server when QDRANT_URL is set (e.g. `docker run -p 6333:6333 qdrant/qdrant`)."""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from qdrant_client import QdrantClient, models

from llm_twin.storage.qdrant_edge_store import QdrantEdgeStore
from llm_twin.storage.qdrant_server_store import (PAYLOAD_INDEXES, QdrantServerStore,
                                                  wipe_collection)
from llm_twin.storage.vector_store import IndexedChunk, SearchFilters, VectorStoreError

QDRANT_URL = os.environ.get("QDRANT_URL")
QDRANT_API_KEY = os.environ.get("QDRANT_API_KEY")
DIM = 8
MODEL = "test-model"

OpenStore = Callable[..., QdrantServerStore]


def axis(i: int, dim: int = DIM) -> list[float]:
    vec = [0.0] * dim
    vec[i % dim] = 1.0
    return vec


def utc(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=timezone.utc)


def chunk(i: int, text: str, *, platform: str = "blog", kind: str = "post", is_owner: bool = True,
          source_id: int = 1, created: datetime | None = None, chunk_id: str | None = None,
          vector: list[float] | None = None) -> IndexedChunk:
    """A chunk with the payload the indexer writes (booleans as 0/1, created_ts as a float)."""
    payload = {"document_id": i, "source_id": source_id, "position": 0, "platform": platform,
               "kind": kind, "is_owner": int(is_owner), "title": None, "url": None,
               "created_at": created.isoformat() if created else None,
               "created_ts": created.timestamp() if created else None}
    return IndexedChunk(chunk_id or str(uuid.uuid4()), vector or axis(i), text, payload)


class Target:
    """Where a test's stores live: one client and one collection, shared by every open."""

    def __init__(self, kind: str):
        self.kind = kind
        self.collection = f"twin_test_{uuid.uuid4().hex[:12]}"
        self.url = QDRANT_URL if kind == "server" else None
        self.client = QdrantClient(url=QDRANT_URL, api_key=QDRANT_API_KEY) if kind == "server" \
            else QdrantClient(":memory:")

    def open(self, *, model: str = MODEL, dimension: int = DIM) -> QdrantServerStore:
        return QdrantServerStore(self.url, collection=self.collection, embedding_model=model,
                                 dimension=dimension, client=self.client)

    def wipe(self) -> None:
        wipe_collection(self.url, self.collection, QDRANT_API_KEY, client=self.client)


@pytest.fixture(params=["memory", pytest.param("server", marks=pytest.mark.skipif(
    not QDRANT_URL, reason="set QDRANT_URL (and QDRANT_API_KEY if needed) to test a real server"))])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    place = Target(request.param)
    yield place
    place.wipe()
    place.client.close()


@pytest.fixture
def open_store(target: Target) -> Iterator[OpenStore]:
    opened: list[QdrantServerStore] = []

    def _open(**kwargs) -> QdrantServerStore:
        store = target.open(**kwargs)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def corpus() -> dict[str, IndexedChunk]:
    return {
        "li-2021": chunk(0, "hiring engineers remote teams", platform="linkedin", source_id=1,
                         created=utc(2021, 6)),
        "li-2023": chunk(1, "leadership lessons from failure", platform="linkedin", source_id=1,
                         created=utc(2023, 3)),
        "x-2022": chunk(2, "rust borrow checker tips", platform="x", kind="thread", source_id=2,
                        created=utc(2022, 1)),
        "x-guest": chunk(3, "guest reply about rust", platform="x", is_owner=False, source_id=2,
                         created=utc(2022, 7)),
        "blog-2024": chunk(4, "sourdough bread baking at home", kind="article", source_id=3,
                           created=utc(2024, 9)),
        "undated": chunk(5, "notes without a date", kind="article", source_id=3),
    }


def names(hits, corpus) -> set[str]:
    by_id = {c.chunk_id: name for name, c in corpus.items()}
    return {by_id[h.chunk_id] for h in hits}


def test_upsert_search_count(open_store: OpenStore, corpus) -> None:
    store = open_store()
    assert store.count() == 0
    assert store.search(axis(0), "anything", limit=5) == []
    store.upsert(list(corpus.values()))
    store.upsert([])  # no-op
    assert store.count() == len(corpus)

    hits = store.search(axis(4), "sourdough bread", limit=3)
    assert 1 <= len(hits) <= 3
    top = hits[0]
    assert top.chunk_id == corpus["blog-2024"].chunk_id
    assert top.payload["kind"] == "article" and top.payload["source_id"] == 3
    assert top.payload["created_at"] == utc(2024, 9).isoformat()
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_sparse_side_finds_words_the_dense_vector_misses(open_store: OpenStore, corpus) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    hits = store.search(axis(0), "borrow checker", limit=2)
    assert names(hits, corpus) == {"li-2021", "x-2022"}
    assert store.search(axis(2), "borrow checker", limit=1)[0].chunk_id == corpus["x-2022"].chunk_id


def test_upsert_replaces_a_point_with_the_same_id(open_store: OpenStore, corpus) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    old = corpus["blog-2024"]
    store.upsert([chunk(7, "completely new words", chunk_id=old.chunk_id, platform="medium")])
    assert store.count() == len(corpus)
    hits = store.search(axis(7), "completely new words", limit=1,
                        filters=SearchFilters(platform="medium"))
    assert [h.chunk_id for h in hits] == [old.chunk_id]


@pytest.mark.parametrize("filters, expected", [
    (SearchFilters(), {"li-2021", "li-2023", "x-2022", "x-guest", "blog-2024", "undated"}),
    (SearchFilters(platform="linkedin"), {"li-2021", "li-2023"}),
    (SearchFilters(platform="mastodon"), set()),
    (SearchFilters(kind="article"), {"blog-2024", "undated"}),
    (SearchFilters(kind="thread"), {"x-2022"}),
    (SearchFilters(is_owner=True), {"li-2021", "li-2023", "x-2022", "blog-2024", "undated"}),
    (SearchFilters(is_owner=False), {"x-guest"}),
    (SearchFilters(source_id=2), {"x-2022", "x-guest"}),
    (SearchFilters(source_id=99), set()),
    (SearchFilters(since=utc(2022, 6)), {"li-2023", "x-guest", "blog-2024"}),
    (SearchFilters(until=utc(2022, 6)), {"li-2021", "x-2022"}),
    (SearchFilters(since=utc(2022, 1), until=utc(2022, 1)), {"x-2022"}),  # bounds are inclusive
    (SearchFilters(since=datetime(2022, 1, 1), until=datetime(2022, 1, 1)), {"x-2022"}),  # naive = UTC
    (SearchFilters(platform="x", is_owner=True), {"x-2022"}),
    (SearchFilters(kind="post", is_owner=False, source_id=2), {"x-guest"}),
])
def test_each_filter_field(open_store: OpenStore, corpus, filters, expected) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    hits = store.search(axis(0), "rust lessons bread notes", limit=20, filters=filters)
    assert names(hits, corpus) == expected
    each = store.search_each(axis(0), "rust lessons bread notes", limit=20, filters=filters)
    assert names(each["dense"], corpus) == expected  # the dense side ranks every point it may see


def test_filters_hold_even_when_the_best_match_is_excluded(open_store: OpenStore, corpus) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    hits = store.search(axis(3), "guest reply about rust", limit=1, filters=SearchFilters(is_owner=True))
    assert len(hits) == 1 and hits[0].chunk_id != corpus["x-guest"].chunk_id
    assert hits[0].payload["is_owner"] == 1


def test_boolean_payload_values_are_stored_filterable(open_store: OpenStore) -> None:
    store = open_store()
    mine = IndexedChunk(str(uuid.uuid4()), axis(0), "mine", {"is_owner": True, "source_id": 1})
    theirs = IndexedChunk(str(uuid.uuid4()), axis(1), "theirs", {"is_owner": False, "source_id": 1})
    store.upsert([mine, theirs])
    assert [h.chunk_id for h in store.search(axis(1), "x", limit=5,
                                             filters=SearchFilters(is_owner=True))] == [mine.chunk_id]
    assert [h.chunk_id for h in store.search(axis(0), "x", limit=5,
                                             filters=SearchFilters(is_owner=False))] == [theirs.chunk_id]


def test_delete_and_delete_source(open_store: OpenStore, corpus) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    store.delete([corpus["li-2021"].chunk_id, str(uuid.uuid4())])  # unknown ids are ignored
    store.delete([])
    assert store.count() == 5
    assert corpus["li-2021"].chunk_id not in store.all_ids()

    store.delete_source(2)
    assert store.count() == 3
    remaining = store.search(axis(2), "rust borrow checker guest", limit=20)
    assert names(remaining, corpus) == {"li-2023", "blog-2024", "undated"}
    store.delete_source(42)  # nothing to delete: no error
    assert store.count() == 3


def test_all_ids_pages_through_every_point(open_store: OpenStore) -> None:
    store = open_store()
    items = [chunk(i, f"text {i}", source_id=i % 3) for i in range(2100)]  # > 2 scroll pages
    store.upsert(items)  # > several upsert batches
    assert store.count() == 2100
    assert store.all_ids() == {c.chunk_id for c in items}


def test_search_each_gives_both_rankings(open_store: OpenStore, corpus) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    rankings = store.search_each(axis(4), "rust borrow", limit=3)
    assert set(rankings) == {"dense", "sparse"}
    assert rankings["dense"][0].chunk_id == corpus["blog-2024"].chunk_id
    assert names(rankings["sparse"], corpus) == {"x-2022", "x-guest"}
    # "borrow" occurs once in the corpus, "rust" twice: IDF must put x-2022 first.
    assert rankings["sparse"][0].chunk_id == corpus["x-2022"].chunk_id
    assert rankings["sparse"][0].score > rankings["sparse"][1].score
    # Words the tokenizer drops entirely leave only the dense ranking.
    assert set(store.search_each(axis(0), "the and of", limit=3)) == {"dense"}


def test_ranks_like_the_embedded_edge_store(open_store: OpenStore, tmp_path: Path) -> None:
    """Same points, same queries: same fused scores (RRF k=60) and the same top hit."""
    rng = random.Random(7)  # random dense vectors, so no ties make the order engine-dependent
    texts = ["rust borrow checker tips and rust tricks", "hiring rust engineers for remote teams",
             "leadership lessons from failure", "sourdough bread baking at home",
             "notes on baking and leadership", "checker board games with friends"]
    items = [chunk(i, text, vector=[rng.uniform(-1, 1) for _ in range(DIM)])
             for i, text in enumerate(texts)]
    server = open_store()
    server.upsert(items)
    with QdrantEdgeStore(tmp_path / "edge", embedding_model=MODEL, dimension=DIM) as edge:
        edge.upsert(items)
        for query_text in ["rust borrow checker", "leadership baking", "bread", "zzz unknown"]:
            dense = [rng.uniform(-1, 1) for _ in range(DIM)]
            ours = server.search(dense, query_text, limit=len(items))
            theirs = edge.search(dense, query_text, limit=len(items))
            assert ours[0].chunk_id == theirs[0].chunk_id, query_text
            assert {h.chunk_id: h.score for h in ours} == \
                pytest.approx({h.chunk_id: h.score for h in theirs}), query_text
            ours_each = server.search_each(dense, query_text, limit=len(items))
            theirs_each = edge.search_each(dense, query_text, limit=len(items))
            assert ours_each.keys() == theirs_each.keys()
            for side in ours_each:
                assert {h.chunk_id: h.score for h in ours_each[side]} == \
                    pytest.approx({h.chunk_id: h.score for h in theirs_each[side]}, rel=1e-4)


def test_reopen_keeps_points_and_records_the_model(open_store: OpenStore, target: Target,
                                                   corpus) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    store.close()
    store.close()  # closing twice is harmless
    again = open_store()
    assert again.count() == len(corpus)
    assert target.client.get_collection(target.collection).config.metadata == \
        {"embedding_model": MODEL, "dimension": DIM}


@pytest.mark.parametrize("model, dimension", [("another-model", DIM), (MODEL, DIM * 2)])
def test_opening_with_another_model_or_dimension_is_refused(open_store: OpenStore, target: Target,
                                                            model: str, dimension: int) -> None:
    store = open_store()
    store.upsert([chunk(0, "built with the first model")])
    store.close()
    with pytest.raises(VectorStoreError, match="twin index --rebuild") as caught:
        target.open(model=model, dimension=dimension)
    assert MODEL in str(caught.value) and target.collection in str(caught.value)
    assert open_store().count() == 1  # the data is untouched


def test_a_collection_without_model_metadata_is_refused(target: Target) -> None:
    target.client.create_collection(target.collection, vectors_config={
        "dense": models.VectorParams(size=DIM, distance=models.Distance.COSINE)})
    with pytest.raises(VectorStoreError, match="twin index --rebuild"):
        target.open()


def test_wipe_collection_allows_a_rebuild_with_another_model(open_store: OpenStore,
                                                             target: Target) -> None:
    store = open_store()
    store.upsert([chunk(0, "old")])
    store.close()
    target.wipe()
    target.wipe()  # already gone: no error
    rebuilt = open_store(model="another-model", dimension=4)
    assert rebuilt.count() == 0
    rebuilt.upsert([chunk(0, "new", vector=axis(0, 4))])
    assert rebuilt.count() == 1


def test_payload_fields_are_indexed_on_a_server(open_store: OpenStore, target: Target) -> None:
    if target.kind == "memory":
        pytest.skip("qdrant-client local mode ignores payload indexes (no payload_schema to check)")
    open_store()
    schema = target.client.get_collection(target.collection).payload_schema
    assert set(PAYLOAD_INDEXES) <= set(schema)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.filterwarnings("ignore:Failed to obtain server version")
def test_an_unreachable_server_names_its_url() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(VectorStoreError, match="Cannot reach the Qdrant server") as caught:
        QdrantServerStore(url, embedding_model=MODEL, dimension=DIM)
    assert url in str(caught.value)
    with pytest.raises(VectorStoreError, match="127.0.0.1"):
        wipe_collection(url, "llm_twin")


def test_a_url_or_a_client_is_required() -> None:
    with pytest.raises(ValueError):
        QdrantServerStore(None, embedding_model=MODEL, dimension=DIM)


def test_excluded_kinds_never_come_back(open_store: OpenStore) -> None:
    store = open_store()
    store.upsert([chunk(0, "see you at the talk", kind="message"), chunk(1, "see you at the talk")])
    hits = store.search(axis(0), "see you", limit=5, filters=SearchFilters(exclude_kinds=("message",)))
    assert [hit.payload["kind"] for hit in hits] == ["post"]
