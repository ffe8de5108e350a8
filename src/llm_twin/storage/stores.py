"""Which vector store a workspace uses: the embedded Qdrant Edge shard in the workspace, or a
Qdrant server when `vector_store_url` is set. The only place that tells the two apart.

`dimension` is passed as a callable where the embedded store can answer without it: the embedding
model then loads only when a Qdrant server has to be opened to find out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from llm_twin.config import TwinSettings
from llm_twin.storage.qdrant_edge_store import META_FILE, QdrantEdgeStore, wipe_store
from llm_twin.storage.vector_store import EmbeddingModelMismatch, VectorStore


def open_vector_store(settings: TwinSettings, embedding_model: str, dimension: int) -> VectorStore:
    """The store for vectors of `embedding_model`; one built with another model is refused."""
    if settings.vector_store_url:
        from llm_twin.storage.qdrant_server_store import QdrantServerStore

        return QdrantServerStore(settings.vector_store_url,
                                 collection=settings.vector_store_collection,
                                 embedding_model=embedding_model, dimension=dimension,
                                 api_key=settings.vector_store_api_key)
    return QdrantEdgeStore(settings.resolved_vector_store_path, embedding_model=embedding_model,
                           dimension=dimension)


def wipe_vector_store(settings: TwinSettings) -> None:
    """Drop every vector (`twin index --rebuild`); the store must be closed."""
    if settings.vector_store_url:
        from llm_twin.storage.qdrant_server_store import wipe_collection

        wipe_collection(settings.vector_store_url, settings.vector_store_collection,
                        settings.vector_store_api_key)
    else:
        wipe_store(settings.resolved_vector_store_path)


def built_embedding_model(settings: TwinSettings, dimension: Callable[[], int]) -> str | None:
    """The embedding model the store was built with; None when it was never built."""
    if settings.vector_store_url:
        try:
            open_vector_store(settings, settings.embedding_model, dimension()).close()
            return settings.embedding_model
        except EmbeddingModelMismatch as mismatch:
            return mismatch.built_with or "another model"
    meta = _edge_meta(settings)
    return meta.get("embedding_model") if meta is not None else None


@contextmanager
def built_vector_store(settings: TwinSettings,
                       dimension: Callable[[], int]) -> Iterator[VectorStore | None]:
    """The store as built, whatever its embedding model; None when it was never built. A Qdrant
    server keeps the model id itself, so it is opened with the configured one."""
    if settings.vector_store_url:
        store = open_vector_store(settings, settings.embedding_model, dimension())
    elif (meta := _edge_meta(settings)) is None:
        yield None
        return
    else:
        store = QdrantEdgeStore(settings.resolved_vector_store_path,
                                embedding_model=meta["embedding_model"],
                                dimension=meta["dimension"])
    try:
        yield store
    finally:
        store.close()


def _edge_meta(settings: TwinSettings) -> dict | None:
    meta_path = settings.resolved_vector_store_path / META_FILE
    if not meta_path.exists():
        return None
    return json.loads(meta_path.read_text(encoding="utf-8"))
