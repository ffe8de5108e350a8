"""A vector store on a Qdrant server (or any `QdrantClient`), for when the index should live outside
the process: shared by several machines, or larger than a laptop wants to hold.

It mirrors the embedded `QdrantEdgeStore` point for point: the same named vectors (cosine "dense",
BM25 "bm25" with IDF), the same BM25 tokenizer run client-side, the same payload (booleans as 0/1)
and the same filters, fused server-side with reciprocal rank fusion at the same k, so a query ranks
alike on either store. The embedding model is recorded in the collection's metadata; opening the
collection with another model is refused.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import qdrant_edge as qe
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ApiException, ResponseHandlingException

from llm_twin.storage.qdrant_edge_store import DENSE, RRF_K, SPARSE, _storable, _utc_timestamp
from llm_twin.storage.vector_store import (EmbeddingModelMismatch, IndexedChunk, SearchFilters,
                                           SearchHit, VectorStoreError)

UPSERT_BATCH = 256  # keeps each request well under the server's default 32 MiB body limit
SCROLL_PAGE = 1024
PAYLOAD_INDEXES = {
    "platform": models.PayloadSchemaType.KEYWORD,
    "kind": models.PayloadSchemaType.KEYWORD,
    "is_owner": models.PayloadSchemaType.INTEGER,
    "source_id": models.PayloadSchemaType.INTEGER,
    "created_ts": models.PayloadSchemaType.FLOAT,
    "audience": models.PayloadSchemaType.KEYWORD,
}


class QdrantServerStore:
    def __init__(self, url: str | None, *, collection: str = "llm_twin", embedding_model: str,
                 dimension: int, api_key: str | None = None, client: QdrantClient | None = None):
        if url is None and client is None:
            raise ValueError("QdrantServerStore needs a server url or a QdrantClient")
        self.url = url
        self.collection = collection
        self.embedding_model = embedding_model
        self.dimension = dimension
        self._owns_client = client is None
        self._client: QdrantClient | None = client or QdrantClient(url=url, api_key=api_key)
        self._bm25 = qe.Bm25(qe.Bm25Config(language="english"))
        try:
            self._open_collection()
        except VectorStoreError:
            self.close()
            raise

    @property
    def client(self) -> QdrantClient:
        if self._client is None:
            raise RuntimeError(f"The vector store at {self.where} is used after close().")
        return self._client

    @property
    def where(self) -> str:
        return f"{self.url or 'the given Qdrant client'} (collection {self.collection!r})"

    @contextmanager
    def _server_call(self) -> Iterator[None]:
        """Turns the client's connection and HTTP errors into one clear VectorStoreError."""
        try:
            yield
        except ResponseHandlingException as error:
            raise VectorStoreError(f"Cannot reach the Qdrant server at {self.where}: {error}. "
                                   "Is it running, and are the url and api key right?") from error
        except ApiException as error:
            raise VectorStoreError(f"The Qdrant server at {self.where} refused the request: "
                                   f"{error}") from error

    # -- opening -------------------------------------------------------------------------
    def _open_collection(self) -> None:
        with self._server_call():
            created = not self.client.collection_exists(self.collection)
            if created:
                self._create_collection()
            meta = self.client.get_collection(self.collection).config.metadata or {}
        if created and not meta:
            raise VectorStoreError(
                f"The Qdrant server at {self.where} did not keep the collection's metadata, where "
                "the embedding model is recorded; it is too old for this client: upgrade the server.")
        self._check_meta(meta)

    def _create_collection(self) -> None:
        meta = {"embedding_model": self.embedding_model, "dimension": self.dimension}
        try:
            self.client.create_collection(
                self.collection,
                vectors_config={DENSE: models.VectorParams(size=self.dimension,
                                                           distance=models.Distance.COSINE)},
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                metadata=meta)
        except (ApiException, ValueError):
            # Another process may have created it between our check and our create.
            if not self.client.collection_exists(self.collection):
                raise
            return
        with warnings.catch_warnings():
            # Local mode (":memory:" or a path) ignores payload indexes and says so; a server uses them.
            warnings.filterwarnings("ignore", message="Payload indexes have no effect")
            for field, schema in PAYLOAD_INDEXES.items():
                self.client.create_payload_index(self.collection, field, schema)

    def _check_meta(self, meta: dict[str, Any]) -> None:
        if meta.get("embedding_model") == self.embedding_model and \
                meta.get("dimension") == self.dimension:
            return
        raise EmbeddingModelMismatch(
            f"The vector store at {self.where} was built with embedding model "
            f"{meta.get('embedding_model')!r} ({meta.get('dimension')}-d), but the "
            f"configured model is {self.embedding_model!r} ({self.dimension}-d). "
            "Run `twin index --rebuild` to re-embed everything with the new model.",
            built_with=meta.get("embedding_model"))

    # -- writing -------------------------------------------------------------------------
    def upsert(self, chunks: list[IndexedChunk]) -> None:
        for start in range(0, len(chunks), UPSERT_BATCH):
            points = [models.PointStruct(
                id=c.chunk_id,
                vector={DENSE: c.dense, SPARSE: _sparse(self._bm25.embed_document(c.sparse_text))},
                payload=_storable(c.payload)) for c in chunks[start:start + UPSERT_BATCH]]
            with self._server_call():
                self.client.upsert(self.collection, points=points, wait=True)

    def delete(self, chunk_ids: list[str]) -> None:
        if chunk_ids:
            with self._server_call():
                self.client.delete(self.collection, wait=True,
                                   points_selector=models.PointIdsList(points=list(chunk_ids)))

    def delete_source(self, source_id: int) -> None:
        condition = models.FieldCondition(key="source_id", match=models.MatchValue(value=source_id))
        with self._server_call():
            self.client.delete(self.collection, wait=True, points_selector=models.FilterSelector(
                filter=models.Filter(must=[condition])))

    # -- reading -------------------------------------------------------------------------
    def search(self, dense: list[float], sparse_text: str, *, limit: int,
               filters: SearchFilters | None = None) -> list[SearchHit]:
        qfilter = _to_filter(filters)
        depth = max(limit * 4, 20)
        prefetches = [models.Prefetch(query=dense, using=DENSE, limit=depth, filter=qfilter)]
        sparse = self._bm25.embed_query(sparse_text)
        if sparse.indices:
            prefetches.append(models.Prefetch(query=_sparse(sparse), using=SPARSE, limit=depth,
                                              filter=qfilter))
        # RrfQuery rather than FusionQuery(Fusion.RRF): only it takes k, and the server's default
        # k (2) would rank differently from the embedded store's 60.
        with self._server_call():
            points = self.client.query_points(
                self.collection, prefetch=prefetches, query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                query_filter=qfilter, limit=limit, with_payload=True).points
        return [SearchHit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    def search_each(self, dense: list[float], sparse_text: str, *, limit: int,
                    filters: SearchFilters | None = None) -> dict[str, list[SearchHit]]:
        """The dense and the BM25 rankings on their own, as fed into the fusion (for --explain)."""
        queries: dict[str, tuple[Any, str]] = {"dense": (dense, DENSE)}
        sparse = self._bm25.embed_query(sparse_text)
        if sparse.indices:
            queries["sparse"] = (_sparse(sparse), SPARSE)
        rankings: dict[str, list[SearchHit]] = {}
        for name, (query, using) in queries.items():
            with self._server_call():
                points = self.client.query_points(self.collection, query=query, using=using,
                                                  query_filter=_to_filter(filters), limit=limit).points
            rankings[name] = [SearchHit(str(p.id), float(p.score)) for p in points]
        return rankings

    def vectors(self, chunk_ids: list[str]) -> dict[str, list[float]]:
        if not chunk_ids:
            return {}
        records = self.client.retrieve(self.collection, ids=list(chunk_ids), with_payload=False,
                                       with_vectors=[DENSE])
        # DENSE is a single dense vector (the collection's config), never sparse or a multivector.
        return {str(r.id): list(cast("list[float]", r.vector[DENSE])) for r in records
                if isinstance(r.vector, dict) and DENSE in r.vector}

    def optimize(self) -> None:
        """The server optimises in the background; nothing to do."""

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = None
        while True:
            with self._server_call():
                records, offset = self.client.scroll(self.collection, offset=offset,
                                                     limit=SCROLL_PAGE, with_payload=False,
                                                     with_vectors=False)
            ids.update(str(r.id) for r in records)
            if offset is None:
                return ids

    def count(self) -> int:
        with self._server_call():
            return int(self.client.count(self.collection, exact=True).count)

    def close(self) -> None:
        """Closes the client this store opened; a client handed in stays the caller's to close."""
        if self._client is not None and self._owns_client:
            self._client.close()
        self._client = None

    def __enter__(self) -> QdrantServerStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sparse(vector: qe.SparseVector) -> models.SparseVector:
    return models.SparseVector(indices=list(vector.indices), values=list(vector.values))


def _to_filter(filters: SearchFilters | None) -> models.Filter | None:
    """The same conditions as the embedded store's filter (booleans matched as the stored 0/1)."""
    if filters is None:
        return None
    must: list[models.Condition] = []
    for key in ("platform", "kind", "is_owner", "source_id"):
        value = getattr(filters, key)
        if value is not None:
            value = int(value) if isinstance(value, bool) else value
            must.append(models.FieldCondition(key=key, match=models.MatchValue(value=value)))
    if filters.since or filters.until:
        must.append(models.FieldCondition(key="created_ts", range=models.Range(
            gte=_utc_timestamp(filters.since) if filters.since else None,
            lte=_utc_timestamp(filters.until) if filters.until else None)))
    must_not: list[models.Condition] = [models.FieldCondition(
        key="kind", match=models.MatchAny(any=list(filters.exclude_kinds)))] \
        if filters.exclude_kinds else []
    if filters.barred_audiences():
        must_not.append(models.FieldCondition(
            key="audience", match=models.MatchAny(any=filters.barred_audiences())))
    return models.Filter(must=must, must_not=must_not) if must or must_not else None


def wipe_collection(url: str | None, collection: str, api_key: str | None = None, *,
                    client: QdrantClient | None = None) -> None:
    """Drop the collection entirely (used by `twin index --rebuild`); a missing one is no error."""
    owned = client is None
    client = client or QdrantClient(url=url, api_key=api_key)
    try:
        if client.collection_exists(collection):
            client.delete_collection(collection)
    except ApiException as error:
        raise VectorStoreError(f"The Qdrant server at {url} failed while dropping collection "
                               f"{collection!r}: {error}") from error
    finally:
        if owned:
            client.close()
