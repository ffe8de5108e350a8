"""The vector store protocol and the value types that cross it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from llm_twin.errors import StoreError
from llm_twin.storage.models import AUDIENCES


class VectorStoreError(StoreError):
    """The vector store cannot be used as asked (busy, unreachable, or another embedding model)."""


class EmbeddingModelMismatch(VectorStoreError):
    """The store holds vectors of another embedding model; `twin index` rebuilds it."""

    def __init__(self, message: str, *, built_with: str | None):
        super().__init__(message)
        self.built_with = built_with


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk ready to store: its dense vector, the text for the sparse (BM25) side, a payload."""

    chunk_id: str
    dense: list[float]
    sparse_text: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class SearchFilters:
    platform: str | None = None
    kind: str | None = None
    is_owner: bool | None = None
    source_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    exclude_kinds: tuple[str, ...] = ()
    # Only documents of these audiences (storage.models.AUDIENCES); None: any. Stores filter out
    # the other audiences, so chunks indexed before payloads carried one still match; the
    # retriever checks each hit's audience in the warehouse too.
    audiences: tuple[str, ...] | None = None

    def barred_audiences(self) -> list[str]:
        """The audiences a store must leave out (empty when any will do)."""
        if self.audiences is None:
            return []
        return [audience for audience in AUDIENCES if audience not in self.audiences]


@dataclass
class SearchHit:
    chunk_id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


class VectorStore(Protocol):
    def upsert(self, chunks: list[IndexedChunk]) -> None: ...

    def delete(self, chunk_ids: list[str]) -> None: ...

    def delete_source(self, source_id: int) -> None: ...

    def search(self, dense: list[float], sparse_text: str, *, limit: int,
               filters: SearchFilters | None = None) -> list[SearchHit]: ...

    def search_each(self, dense: list[float], sparse_text: str, *, limit: int,
                    filters: SearchFilters | None = None) -> dict[str, list[SearchHit]]:
        """Each ranking that `search` fuses, on its own ("dense", "sparse"), for explanations."""
        ...

    def vectors(self, chunk_ids: list[str]) -> dict[str, list[float]]:
        """The stored dense vectors of these chunks (for reranking without re-embedding)."""
        ...

    def optimize(self) -> None:
        """Make searches fast after a bulk load (a no-op where the engine does it by itself)."""
        ...

    def all_ids(self) -> set[str]: ...

    def count(self) -> int: ...

    def close(self) -> None: ...
