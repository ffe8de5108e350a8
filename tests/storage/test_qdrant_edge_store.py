"""The embedded Qdrant Edge store on a real shard in tmp_path (small hand-made vectors)."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from llm_twin.storage.qdrant_edge_store import META_FILE, QdrantEdgeStore, wipe_store
from llm_twin.storage.vector_store import IndexedChunk, SearchFilters, VectorStoreError

DIM = 8
MODEL = "test-model"


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


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "vectors"


@pytest.fixture
def open_store(path: Path):
    opened: list[QdrantEdgeStore] = []

    def _open(*, model: str = MODEL, dimension: int = DIM) -> QdrantEdgeStore:
        store = QdrantEdgeStore(path, embedding_model=model, dimension=dimension)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def corpus() -> dict[str, IndexedChunk]:
    items = {
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
    return items


def names(hits, corpus) -> set[str]:
    by_id = {c.chunk_id: name for name, c in corpus.items()}
    return {by_id[h.chunk_id] for h in hits}


def test_upsert_search_count(open_store, corpus) -> None:
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


def test_sparse_side_finds_words_the_dense_vector_misses(open_store, corpus) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    # The dense query points at li-2021; the words only occur in x-2022. Both must be fused in.
    hits = store.search(axis(0), "borrow checker", limit=2)
    assert names(hits, corpus) == {"li-2021", "x-2022"}
    # Agreement of both sides wins outright.
    assert store.search(axis(2), "borrow checker", limit=1)[0].chunk_id == corpus["x-2022"].chunk_id


def test_upsert_replaces_a_point_with_the_same_id(open_store, corpus) -> None:
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
    (SearchFilters(platform="x"), {"x-2022", "x-guest"}),
    (SearchFilters(platform="mastodon"), set()),
    (SearchFilters(kind="article"), {"blog-2024", "undated"}),
    (SearchFilters(kind="thread"), {"x-2022"}),
    (SearchFilters(is_owner=True), {"li-2021", "li-2023", "x-2022", "blog-2024", "undated"}),
    (SearchFilters(is_owner=False), {"x-guest"}),
    (SearchFilters(source_id=2), {"x-2022", "x-guest"}),
    (SearchFilters(source_id=99), set()),
    (SearchFilters(since=utc(2022, 6)), {"li-2023", "x-guest", "blog-2024"}),
    (SearchFilters(until=utc(2022, 6)), {"li-2021", "x-2022"}),
    (SearchFilters(since=utc(2022), until=utc(2023, 12)), {"li-2023", "x-2022", "x-guest"}),
    (SearchFilters(since=utc(2022, 1), until=utc(2022, 1)), {"x-2022"}),  # bounds are inclusive
    (SearchFilters(platform="x", is_owner=True), {"x-2022"}),
    (SearchFilters(platform="linkedin", since=utc(2022)), {"li-2023"}),
    (SearchFilters(kind="post", is_owner=False, source_id=2), {"x-guest"}),
])
def test_each_filter_field(open_store, corpus, filters, expected) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    hits = store.search(axis(0), "rust lessons bread notes", limit=20, filters=filters)
    assert names(hits, corpus) == expected


def test_filters_hold_even_when_the_best_match_is_excluded(open_store, corpus) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    hits = store.search(axis(3), "guest reply about rust", limit=1, filters=SearchFilters(is_owner=True))
    assert len(hits) == 1 and hits[0].chunk_id != corpus["x-guest"].chunk_id
    assert hits[0].payload["is_owner"] == 1


def test_boolean_payload_values_are_filterable(open_store) -> None:
    """A payload carrying a real bool must match is_owner=True/False like the 0/1 the indexer writes."""
    store = open_store()
    mine = IndexedChunk(str(uuid.uuid4()), axis(0), "mine", {"is_owner": True, "source_id": 1})
    theirs = IndexedChunk(str(uuid.uuid4()), axis(1), "theirs", {"is_owner": False, "source_id": 1})
    store.upsert([mine, theirs])
    assert [h.chunk_id for h in store.search(axis(1), "x", limit=5,
                                             filters=SearchFilters(is_owner=True))] == [mine.chunk_id]
    assert [h.chunk_id for h in store.search(axis(0), "x", limit=5,
                                             filters=SearchFilters(is_owner=False))] == [theirs.chunk_id]


def test_naive_since_until_mean_utc(open_store, corpus) -> None:
    """The project treats naive datetimes as UTC; the range filter must not use the machine's zone."""
    store = open_store()
    store.upsert([corpus["x-2022"]])  # created 2022-01-01T00:00Z
    original_tz = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"  # UTC+9: a local reading would shift the bound by 9 h
    time.tzset()
    try:
        assert store.search(axis(2), "rust", limit=5, filters=SearchFilters(
            since=datetime(2022, 1, 1), until=datetime(2022, 1, 1)))
        assert not store.search(axis(2), "rust", limit=5, filters=SearchFilters(
            since=datetime(2022, 1, 1, 0, 0, 1)))
    finally:
        if original_tz is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = original_tz
        time.tzset()


def test_delete_and_delete_source(open_store, corpus) -> None:
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


def test_all_ids_pages_through_every_point(open_store) -> None:
    store = open_store()
    items = [chunk(i, f"text {i}", source_id=i % 3) for i in range(2100)]  # > 2 scroll pages
    for start in range(0, len(items), 700):
        store.upsert(items[start:start + 700])
    assert store.count() == 2100
    assert store.all_ids() == {c.chunk_id for c in items}


def test_reopen_persists_points_and_payloads(open_store, path: Path, corpus) -> None:
    store = open_store()
    store.upsert(list(corpus.values()))
    store.delete([corpus["undated"].chunk_id])
    store.close()
    store.close()  # closing twice is harmless

    again = open_store()
    assert again.count() == 5
    assert again.all_ids() == {c.chunk_id for n, c in corpus.items() if n != "undated"}
    hits = again.search(axis(1), "leadership lessons", limit=1, filters=SearchFilters(platform="linkedin"))
    assert hits[0].chunk_id == corpus["li-2023"].chunk_id
    assert json.loads((path / META_FILE).read_text()) == {"embedding_model": MODEL, "dimension": DIM}


def test_second_open_while_open_is_refused_as_in_use(open_store, path: Path) -> None:
    first = open_store()
    with pytest.raises(VectorStoreError, match="in use") as caught:
        QdrantEdgeStore(path, embedding_model=MODEL, dimension=DIM)
    assert str(path) in str(caught.value)
    first.upsert([chunk(0, "still usable")])
    assert first.count() == 1
    first.close()
    with QdrantEdgeStore(path, embedding_model=MODEL, dimension=DIM) as second:  # free again
        assert second.count() == 1


@pytest.mark.parametrize("model, dimension", [("another-model", DIM), (MODEL, DIM * 2)])
def test_reopening_with_another_model_or_dimension_is_refused(open_store, path: Path,
                                                               model: str, dimension: int) -> None:
    store = open_store()
    store.upsert([chunk(0, "built with the first model")])
    store.close()
    with pytest.raises(VectorStoreError, match="twin index --rebuild") as caught:
        QdrantEdgeStore(path, embedding_model=model, dimension=dimension)
    assert MODEL in str(caught.value)
    # The refusal released the lock: the right model still opens, with its data intact.
    reopened = open_store()
    assert reopened.count() == 1


def test_wipe_store_allows_a_rebuild_with_another_model(open_store, path: Path) -> None:
    store = open_store()
    store.upsert([chunk(0, "old")])
    store.close()
    wipe_store(path)
    wipe_store(path)  # already gone: no error
    rebuilt = open_store(model="another-model", dimension=4)
    assert rebuilt.count() == 0
    rebuilt.upsert([chunk(0, "new", vector=axis(0, 4))])
    assert rebuilt.count() == 1


def test_stored_dense_vectors_can_be_read_back(tmp_path):
    store = QdrantEdgeStore(tmp_path / "v", embedding_model="m", dimension=3)
    try:
        store.upsert([IndexedChunk("11111111-1111-1111-1111-111111111111", [1.0, 0.0, 0.0],
                                   "text", {"platform": "x"})])
        found = store.vectors(["11111111-1111-1111-1111-111111111111",
                               "22222222-2222-2222-2222-222222222222"])
        assert list(found) == ["11111111-1111-1111-1111-111111111111"]
        assert found["11111111-1111-1111-1111-111111111111"] == pytest.approx([1.0, 0.0, 0.0])
        assert store.vectors([]) == {}
    finally:
        store.close()


def test_excluded_kinds_never_come_back(tmp_path):
    store = QdrantEdgeStore(tmp_path / "v", embedding_model="m", dimension=2)
    try:
        store.upsert([IndexedChunk(str(uuid.uuid4()), [1.0, 0.0], "ok see you", {"kind": "message"}),
                      IndexedChunk(str(uuid.uuid4()), [0.9, 0.1], "see you at the talk", {"kind": "post"})])
        hits = store.search([1.0, 0.0], "see you", limit=5,
                            filters=SearchFilters(exclude_kinds=("message",)))
        assert [hit.payload["kind"] for hit in hits] == ["post"]
        each = store.search_each([1.0, 0.0], "see you", limit=5,
                                 filters=SearchFilters(exclude_kinds=("message", "thread")))
        assert all(hit.payload["kind"] == "post" for ranking in each.values() for hit in ranking)
    finally:
        store.close()
